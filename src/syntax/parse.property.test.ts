import test from 'ava';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { INSTRUCTION_NAMES } from './ast.ts';
import type { Diagnostic } from './diagnostic.ts';
import { parseDockerfile, type ParseResult } from './parse.ts';

/*
 * parseDockerfile's contract on any text at all: it returns (never throws, never hangs), it
 * gives the same result twice, and every diagnostic it returns is well formed. The inputs are
 * of two kinds: strings built from the characters and words the Dockerfile syntax gives a
 * meaning to, and valid-looking Dockerfiles with their lines deleted, duplicated, swapped,
 * cut or peppered with such characters.
 */

/** Generous for inputs of a few KB that parse in about a millisecond: a hang, not noise. */
const TIME_BOUND_MS = 1000;

/* Run counts: the two properties take about 10 s together on a busy two-core machine. */
const STRING_RUNS = 5000;
const MUTATED_RUNS = 10_000;

const SIGNIFICANT = [
  '\\', '`', '"', "'", '[', ']', ',', ':', '{', '}', '<<', '<<-', '-', '--', '#', '=', '$', '${',
  '$(', '\n', '\r\n', '\r', '\t', ' ', '  ', '\v', '\f', '\uFEFF', '\u00A0', '\u2028', '\u0085',
  '\u3000', '\u0000', '\u00e9', '\ud83d\ude00', '\ud800', 'EOF', 'a', 'x y', '0', '1', '1e999',
  'true', 'null', '"a"', '\\u00e9', '\\"', 'EOF\n', '\tEOF\n', '--mount=type=cache,target=/x',
  '--from=a', '# escape=`\n', '# escape=\\\n', '# syntax=docker/dockerfile:1\n', '# check=skip=all\n',
  ...INSTRUCTION_NAMES.flatMap((name) => [`${name} `, `${name.toLowerCase()} `, `\n${name} `]),
];

/** A token of the significant alphabet, now and then repeated into a long run (`[[[[…`). */
const token = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(...SIGNIFICANT) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...SIGNIFICANT), fc.integer({ min: 2, max: 1500 })).map(([s, n]) => s.repeat(n)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);

const significantText = fc.array(token, { maxLength: 200 }).map((parts) => parts.join(''));

const word = fc.constantFrom('app', 'src', '/bin/sh', 'a b', '$HOME', '${X:-y}', 'x=y', '"q"', "'s'", 'é');
const image = fc.constantFrom('alpine', 'debian:12', 'scratch', 'golang:1.23 AS build', '$BASE');

/** One instruction, possibly over several lines, as people write them. */
const instruction: fc.Arbitrary<string> = fc.oneof(
  image.map((i) => `FROM ${i}`),
  fc.tuple(word, word).map(([a, b]) => `RUN echo ${a} && ls ${b}`),
  fc.tuple(word, word).map(([a, b]) => `RUN set -e; \\\n  echo ${a}; \\\n  # note\n  echo ${b}`),
  word.map((a) => `RUN --mount=type=cache,target=/root/.cache go build ${a}`),
  fc.tuple(word, word).map(([a, b]) => `RUN <<EOF\necho ${a}\n${b}\nEOF`),
  word.map((a) => `RUN <<-"EOT" sh\n\techo ${a}\n\tEOT`),
  fc.tuple(word, word).map(([a, b]) => `COPY <<one <<two /dst/\n${a}\none\n${b}\ntwo`),
  fc.tuple(word, word).map(([a, b]) => `COPY --from=build --chown=1:1 ${a} ${b}`),
  fc.tuple(word, word).map(([a, b]) => `ADD ["${a}", "${b}"]`),
  fc.array(word, { maxLength: 4 }).map((ws) => `CMD ${JSON.stringify(ws)}`),
  fc.array(word, { maxLength: 4 }).map((ws) => `ENTRYPOINT ${JSON.stringify(ws)}`),
  word.map((a) => `CMD ["sh", 1, ${JSON.stringify(a)}]`),
  fc.constant('SHELL ["/bin/bash", "-c"]'),
  fc.tuple(word, word).map(([a, b]) => `ENV A=${a} B="${b}"`),
  word.map((a) => `ENV LEGACY ${a}`),
  fc.tuple(word, word).map(([a, b]) => `LABEL a=${a} \\\n      b=${b}`),
  word.map((a) => `ARG V=${a}`),
  fc.integer({ min: 1, max: 65535 }).map((p) => `EXPOSE ${p}/tcp`),
  word.map((a) => `USER ${a}`),
  word.map((a) => `WORKDIR ${a}`),
  word.map((a) => `VOLUME ["${a}"]`),
  fc.constant('STOPSIGNAL SIGKILL'),
  fc.constant('HEALTHCHECK --interval=5s CMD curl -f http://localhost/ || exit 1'),
  fc.constant('HEALTHCHECK NONE'),
  word.map((a) => `ONBUILD RUN ${a}`),
  word.map((a) => `MAINTAINER ${a}`),
  word.map((a) => `# ${a}`),
  fc.constant(''),
);

const directives = fc.subarray(['# syntax=docker/dockerfile:1', '# escape=`', '# check=error=true']);

type Mutation =
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'duplicate'; readonly at: number }
  | { readonly kind: 'swap'; readonly at: number; readonly with: number }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'truncate'; readonly at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: token }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

/** Applies the mutations in order: the line ones to lines, the others at text offsets. */
function mutate(text: string, mutations: readonly Mutation[]): string {
  let out = text;
  for (const m of mutations) {
    const lines = out.split('\n');
    const line = m.at % lines.length;
    switch (m.kind) {
      case 'delete':
        lines.splice(line, 1);
        out = lines.join('\n');
        break;
      case 'duplicate':
        lines.splice(line, 0, lines[line] ?? '');
        out = lines.join('\n');
        break;
      case 'swap': {
        const other = m.with % lines.length;
        [lines[line], lines[other]] = [lines[other] ?? '', lines[line] ?? ''];
        out = lines.join('\n');
        break;
      }
      case 'insert': {
        const at = m.at % (out.length + 1);
        out = out.slice(0, at) + m.text + out.slice(at);
        break;
      }
      case 'truncate':
        out = out.slice(0, m.at % (out.length + 1));
        break;
    }
  }
  return out;
}

const mutatedDockerfile = fc
  .tuple(directives, fc.array(instruction, { minLength: 1, maxLength: 40 }), fc.array(mutation, { maxLength: 6 }))
  .map(([dirs, body, mutations]) => mutate(`${[...dirs, ...body].join('\n')}\n`, mutations));

/** Every code seen so far with its severity: a code is an error or a warning, never both. */
const severityOf = new Map<string, Diagnostic['severity']>();

/** Checks one input against the contract; returns a description of the first breach. */
function breach(text: string): string | undefined {
  const start = performance.now();
  const first = parseDockerfile(text, { file: 'Dockerfile' });
  const elapsed = performance.now() - start;
  if (elapsed > TIME_BOUND_MS) return `took ${elapsed.toFixed(0)} ms`;
  const second = parseDockerfile(text, { file: 'Dockerfile' });
  if (!isDeepStrictEqual(first, second)) return 'a second parse of the same text gave another result';
  return badDiagnostic(first, text);
}

function badDiagnostic({ ast, diagnostics }: ParseResult, text: string): string | undefined {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lastLine = body.split('\n').length + 1;
  for (const d of diagnostics) {
    const where = `${d.code} at ${JSON.stringify(d.range)}`;
    if (d.kind !== 'diagnostic' || d.file !== 'Dockerfile') return `${where}: not a diagnostic of the file`;
    if (d.severity !== 'error' && d.severity !== 'warning') return `${where}: severity ${String(d.severity)}`;
    if (!/^[a-z]+(-[a-z]+)*$/.test(d.code)) return `${where}: code is not kebab-case`;
    if (d.message.trim() === '') return `${where}: empty message`;
    for (const p of [d.range.start, d.range.end]) {
      if (!(Number.isInteger(p.line) && p.line >= 1 && p.line <= lastLine)) return `${where}: line outside 1..${lastLine}`;
      if (!(Number.isInteger(p.column) && p.column >= 1)) return `${where}: column below 1`;
    }
    if (d.range.end.line < d.range.start.line) return `${where}: ends before it starts`;
    const seen = severityOf.get(d.code);
    if (seen !== undefined && seen !== d.severity) return `${where}: ${d.code} is both an ${seen} and a ${d.severity}`;
    severityOf.set(d.code, d.severity);
  }
  for (const i of ast.instructions) {
    const { start, end } = i.range;
    if (!(start.line >= 1 && end.line <= lastLine && start.line <= end.line)) return `${i.name} at ${JSON.stringify(i.range)}: outside the text`;
  }
  const failed = diagnostics.some((d) => d.severity === 'error');
  if (!failed && ast.instructions.length === 0) return 'no error, and no instruction either';
  return undefined;
}

test('parseDockerfile returns well-formed, deterministic results quickly on strings of significant characters', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(significantText, (text) => {
        const problem = breach(text);
        if (problem !== undefined) throw new Error(problem);
      }),
      { numRuns: STRING_RUNS },
    ),
  );
});

test('parseDockerfile returns well-formed, deterministic results quickly on mutated Dockerfiles', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(mutatedDockerfile, (text) => {
        const problem = breach(text);
        if (problem !== undefined) throw new Error(problem);
      }),
      { numRuns: MUTATED_RUNS },
    ),
  );
});
