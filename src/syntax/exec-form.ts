import type { CstNode, IToken } from 'chevrotain';
import { createExecFormLexer, ExecFormParser } from '../../grammar/index.ts';
import { skipSpace } from './whitespace.ts';

/** What the arguments of a RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME or HEALTHCHECK are. */
export type ExecForm =
  /** Not a JSON array: the caller falls back to the shell (or word) form. */
  | { readonly kind: 'not-json' }
  /** A JSON array of strings: the exec form. */
  | { readonly kind: 'exec'; readonly elements: readonly string[] }
  /** A JSON array holding something else than a string: an error. */
  | { readonly kind: 'non-string'; readonly offset: number; readonly found: string };

let lexer: ReturnType<typeof createExecFormLexer> | undefined;
let parser: ExecFormParser | undefined;

/**
 * Decides the exec form as BuildKit does (parser.parseJSON with Go's encoding/json): text
 * that, after leading whitespace, starts with `[` and is one valid JSON array is the exec
 * form when every element is a string, and an error otherwise; anything else, including
 * invalid JSON, is not JSON at all. One quirk is kept on purpose: Go rejects a number too
 * large for a float64 with a type error rather than a syntax error, and BuildKit then falls
 * back to the shell form, so `CMD [1e999]` runs `/bin/sh -c '[1e999]'` there and here.
 */
export function parseExecForm(text: string): ExecForm {
  const start = skipSpace(text);
  if (text.charCodeAt(start) !== 0x5b /* [ */) return { kind: 'not-json' };
  lexer ??= createExecFormLexer();
  parser ??= new ExecFormParser();
  const lexed = lexer.tokenize(text.slice(start));
  if (lexed.errors.length > 0) return { kind: 'not-json' };
  parser.input = lexed.tokens;
  const cst = parser.execForm();
  if (parser.errors.length > 0) return { kind: 'not-json' };
  if (lexed.tokens.some((t) => t.tokenType.name === 'NumberLiteral' && !Number.isFinite(Number(t.image)))) {
    return { kind: 'not-json' };
  }
  const array = child(cst, 'array');
  const elements: string[] = [];
  for (const value of array.children['value'] ?? []) {
    const token = firstToken(value as CstNode);
    if (token.tokenType.name !== 'StringLiteral') {
      return { kind: 'non-string', offset: start + token.startOffset, found: describe(token) };
    }
    elements.push(JSON.parse(token.image) as string);
  }
  return { kind: 'exec', elements };
}

function child(node: CstNode, name: string): CstNode {
  const found = node.children[name]?.[0];
  if (found === undefined || !('children' in found)) throw new Error(`exec form CST has no ${name}`);
  return found;
}

function firstToken(node: CstNode): IToken {
  let best: IToken | undefined;
  for (const list of Object.values(node.children)) {
    for (const element of list) {
      const token = 'children' in element ? firstToken(element) : element;
      if (best === undefined || token.startOffset < best.startOffset) best = token;
    }
  }
  if (best === undefined) throw new Error('exec form CST value has no token');
  return best;
}

function describe(token: IToken): string {
  switch (token.tokenType.name) {
    case 'NumberLiteral':
      return `the number ${token.image}`;
    case 'True':
    case 'False':
      return `the boolean ${token.image}`;
    case 'Null':
      return 'null';
    case 'LSquare':
      return 'a nested array';
    case 'LCurly':
      return 'an object';
    default:
      return token.image;
  }
}
