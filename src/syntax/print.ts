import type { Diagnostic } from './diagnostic.ts';
import type { Dockerfile, Instruction } from './ast.ts';
import { goToLower } from './go-case.ts';

/**
 * The document `kiln parse --json` prints: a stable format, documented in README.md, that
 * tools and tests rely on. Fields are only ever added.
 */
export interface ParseDocument {
  readonly directives: Readonly<Record<string, string>>;
  readonly escape: string;
  readonly instructions: readonly InstructionDocument[];
  readonly warnings: readonly { readonly message: string; readonly line: number }[];
  /** Empty when the Dockerfile parsed; then `instructions` holds only what parsed cleanly. */
  readonly errors: readonly { readonly message: string; readonly line: number; readonly column: number; readonly code: string }[];
}

export interface InstructionDocument {
  readonly name: string;
  readonly flags: readonly string[];
  readonly args: readonly string[];
  readonly json: boolean;
  readonly heredocs: readonly {
    readonly name: string;
    readonly content: string;
    readonly expand: boolean;
    readonly chomp: boolean;
    readonly fd: number;
  }[];
  readonly line: { readonly start: number; readonly end: number };
}

/** The parse document for a tree and the warnings found while parsing it. */
export function toDocument(ast: Dockerfile, diagnostics: readonly Diagnostic[]): ParseDocument {
  const directives: Record<string, string> = {};
  for (const d of ast.directives) directives[d.name] = d.value;
  return {
    directives,
    escape: ast.escape,
    instructions: ast.instructions.map((i) => ({
      name: i.name,
      flags: i.flags,
      args: i.args,
      json: i.json,
      heredocs: i.heredocs.map((h) => ({ name: h.name, content: h.content, expand: h.expand, chomp: h.chomp, fd: h.fd })),
      line: { start: i.range.start.line, end: i.range.end.line },
    })),
    warnings: diagnostics
      .filter((d) => d.severity === 'warning')
      .map((d) => ({ message: d.message, line: d.range.start.line })),
    errors: diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => ({ message: d.message, line: d.range.start.line, column: d.range.start.column, code: d.code })),
  };
}

/**
 * The tree as text for people: one instruction a line, prefixed by its line span, with the
 * arguments quoted so that their boundaries show, and heredoc bodies below, indented.
 */
export function formatText(ast: Dockerfile): string {
  const out: string[] = [];
  for (const d of ast.directives) out.push(`# ${d.name}=${d.value}`);
  for (const i of ast.instructions) {
    const { start, end } = i.range;
    const span = start.line === end.line ? `${start.line}` : `${start.line}-${end.line}`;
    const flags = i.flags.map((f) => ` ${f}`).join('');
    const args = i.json ? ` ${JSON.stringify(i.args)}` : i.args.map((a) => ` ${JSON.stringify(a)}`).join('');
    out.push(`${span.padEnd(8)}${i.name}${flags}${args}`);
    for (const h of i.heredocs) {
      out.push(`${''.padEnd(8)}<<${h.chomp ? '-' : ''}${h.name}${h.expand ? '' : ' (not expanded)'}`);
      for (const line of h.content.split('\n').slice(0, h.content.endsWith('\n') ? -1 : undefined)) {
        out.push(`${''.padEnd(8)}| ${line}`);
      }
    }
  }
  return out.join('\n') + '\n';
}

/**
 * The tree in BuildKit's s-expression dump (parser.Node.Dump): `(run ["--flag"] "arg")` a
 * line. It is what BuildKit's parser test files hold, so kiln can be compared with them.
 */
export function dumpSexp(ast: Dockerfile): string {
  return ast.instructions.map((i) => `(${dumpInstruction(i)})`).join('\n');
}

function dumpInstruction(i: Instruction): string {
  let s = goToLower(i.keyword);
  if (i.flags.length > 0) s += ` [${i.flags.map(goQuote).join(' ')}]`;
  if (i.trigger !== undefined) return `${s} (${dumpInstruction(i.trigger)})`;
  if (i.name === 'ENV' || i.name === 'LABEL') {
    const sep = i.legacyKeyValue ? '' : '=';
    for (let k = 0; k + 1 < i.args.length; k += 2) {
      s += ` ${goQuote(i.args[k] ?? '')} ${goQuote(i.args[k + 1] ?? '')} ${goQuote(sep)}`;
    }
    return s;
  }
  for (const a of i.args) s += ` ${goQuote(a)}`;
  return s;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

/** Go's strconv.Quote: printable characters as they are, the rest escaped. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const short = SHORT_ESCAPES[ch];
    const code = ch.codePointAt(0) ?? 0;
    if (short !== undefined) out += short;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}
