import test from 'ava';
import fc from 'fast-check';
import type { CstNode, IToken } from 'chevrotain';
import { parseExecForm } from '../src/syntax/exec-form.ts';
import { createExecFormLexer, ExecFormParser } from './index.ts';

/*
 * grammar/ is the exec form's specification; src/syntax decides the exec form with
 * JSON.parse, which is native and cheap to load (bench/parse). This test holds the two to
 * the same language: on every input the grammar accepts exactly what the fast path accepts,
 * and both find the same first element that is not a string.
 */
const lexer = createExecFormLexer();
const parser = new ExecFormParser();

type Verdict = { kind: 'not-json' } | { kind: 'exec'; n: number } | { kind: 'non-string'; offset: number };

function byGrammar(text: string): Verdict {
  const start = text.length - text.trimStart().length;
  const lexed = lexer.tokenize(text.slice(start));
  if (lexed.errors.length > 0 || lexed.tokens[0]?.tokenType.name !== 'LSquare') return { kind: 'not-json' };
  parser.input = lexed.tokens;
  const cst = parser.execForm();
  if (parser.errors.length > 0) return { kind: 'not-json' };
  if (lexed.tokens.some((t) => t.tokenType.name === 'NumberLiteral' && !Number.isFinite(Number(t.image)))) {
    return { kind: 'not-json' };
  }
  const array = cst.children['array']?.[0] as CstNode;
  const values = (array.children['value'] ?? []) as CstNode[];
  for (const value of values) {
    const token = first(value);
    if (token.tokenType.name !== 'StringLiteral') return { kind: 'non-string', offset: start + token.startOffset };
  }
  return { kind: 'exec', n: values.length };
}

function first(node: CstNode): IToken {
  let best: IToken | undefined;
  for (const list of Object.values(node.children)) {
    for (const element of list) {
      const token = 'children' in element ? first(element) : element;
      if (best === undefined || token.startOffset < best.startOffset) best = token;
    }
  }
  if (best === undefined) throw new Error('a value without tokens');
  return best;
}

function byFastPath(text: string): Verdict {
  const form = parseExecForm(text);
  switch (form.kind) {
    case 'not-json':
      return form;
    case 'exec':
      return { kind: 'exec', n: form.elements.length };
    case 'non-string':
      return { kind: 'non-string', offset: form.offset };
  }
}

/** JSON-like text: valid arrays, near misses, and noise, nested a few levels at most. */
const jsonish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string().map((s) => JSON.stringify(s)),
    fc.constantFrom('1', '-0.5e3', '1e999', 'true', 'false', 'null', '"\\u00e9"', '"\\ud800"', "'x'", '01', '.5', '"a\\q"'),
    tie('array'),
    fc.array(fc.tuple(fc.string(), tie('value')), { maxLength: 3 }).map(
      (members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`,
    ),
  ),
  array: fc
    .tuple(fc.array(tie('value'), { maxLength: 4 }), fc.constantFrom(',', ' , ', ',\n', ', '), fc.constantFrom('', ' ', '\t', ','))
    .map(([items, sep, trail]) => `[${items.join(sep)}${trail}]`),
}));

test('the grammar and the fast path agree on generated exec forms', (t) => {
  fc.assert(
    fc.property(
      fc.tuple(jsonish.array, fc.constantFrom('', ' ', '\t', ' x', ']', '\v')),
      ([text, suffix]) => {
        const input = text + suffix;
        t.deepEqual(byFastPath(input), byGrammar(input), input);
      },
    ),
    { numRuns: 3000 },
  );
});

test('the grammar and the fast path agree on mutated exec forms', (t) => {
  const mutated = fc
    .tuple(jsonish.array, fc.nat(40), fc.constantFrom('', '"', '[', ']', ',', '\\', ':', '{', '}', ' '))
    .map(([text, at, insert]) => text.slice(0, at % (text.length + 1)) + insert + text.slice(at % (text.length + 1)));
  fc.assert(
    fc.property(mutated, (input) => {
      t.deepEqual(byFastPath(input), byGrammar(input), input);
    }),
    { numRuns: 3000 },
  );
});
