import type { Position, SourceRange } from '../errors/index.ts';
import type { Directive, Dockerfile, EscapeChar, Heredoc, Instruction } from './ast.ts';
import { errorDiagnostic, warningDiagnostic, type Diagnostic } from './diagnostic.ts';
import { DirectiveScanner } from './directives.ts';
import { findHeredocs, HEREDOC_INSTRUCTIONS } from './heredoc.ts';
import { parseInstructionLine, type ParsedLine } from './instruction-line.ts';
import { LogicalLine } from './logical-line.ts';
import { skipSpace, trimSpace } from './whitespace.ts';

/** What {@link parseDockerfile} returns: the tree, and every problem found on the way. */
export interface ParseResult {
  readonly ast: Dockerfile;
  readonly diagnostics: readonly Diagnostic[];
}

export interface ParseOptions {
  /** The name diagnostics give the file; `Dockerfile` when omitted. */
  readonly file?: string;
}

/** bufio.MaxScanTokenSize: a line must fit in it with room to spare. */
const MAX_LINE_BYTES = 64 * 1024;

const EMPTY_CONTINUATION_URL = 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/';

/**
 * Parses Dockerfile text into its syntax tree with BuildKit's rules (docker/dockerfile:1,
 * frontend/dockerfile/parser): directives at the top, the escape character, continuation
 * lines (comment and empty lines inside them skipped, the latter with a warning), heredoc
 * bodies, and each instruction's arguments split as that instruction splits them.
 *
 * Never throws on any input and always terminates: a problem becomes a diagnostic with a
 * range, the instruction it concerns is left out, and parsing goes on with the next line, so
 * one run reports every problem. The tree is usable only when no diagnostic is an error.
 */
export function parseDockerfile(text: string, options: ParseOptions = {}): ParseResult {
  return new Parse(text, options.file ?? 'Dockerfile').run();
}

/** One parse of one text: the cursor over its physical lines and what has been found. */
class Parse {
  readonly #lines: string[];
  readonly #file: string;
  readonly #diagnostics: Diagnostic[] = [];
  readonly #directives: Directive[] = [];
  readonly #instructions: Instruction[] = [];
  readonly #scanner = new DirectiveScanner();
  #escape: EscapeChar = '\\';
  #continuation = continuationPattern('\\');
  /** Index of the next physical line to read; line numbers are this + 1. */
  #next = 0;

  constructor(text: string, file: string) {
    this.#lines = splitLines(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    this.#file = file;
  }

  run(): ParseResult {
    this.#checkLineLengths();
    let comments: string[] = [];
    while (this.#next < this.#lines.length) {
      const lineNo = this.#next + 1;
      const line = trimNewline(this.#lines[this.#next++] ?? '');
      const lead = skipSpace(line);
      const content = line.slice(lead);
      const comment = content.startsWith('#');
      if (comment) {
        // As BuildKit takes it: the raw line less its first character, Go-trimmed (so an
        // indented `  # x` keeps its `#`); BuildKit reads these for `# check=` above a line.
        const said = trimSpace(line.slice(1)).text;
        // Pushed, not copied: a long comment block must not cost time quadratic in its length.
        // An instruction keeps the array it was given, and a new one is started after it.
        if (said === '') comments = [];
        else comments.push(said);
      }
      if (this.#directive(content, lineNo, lead)) {
        comments.pop();
        continue;
      }
      const first = this.#trimContinuation(comment ? '' : content);
      if (!first.continued && first.text === '') continue;

      const logical = new LogicalLine();
      logical.append(first.text, lineNo, lead + 1);
      let continued = first.continued;
      let emptyContinuation = false;
      while (continued && this.#next < this.#lines.length) {
        const n = this.#next + 1;
        const next = trimNewline(this.#lines[this.#next++] ?? '');
        const nextLead = skipSpace(next);
        if (next.charCodeAt(nextLead) === 0x23 /* # */) continue;
        if (nextLead === next.length) {
          emptyContinuation = true;
          continue;
        }
        const piece = this.#trimContinuation(next);
        logical.append(piece.text, n, 1);
        continued = piece.continued;
      }
      const endLine = this.#next;
      if (emptyContinuation) {
        this.#diagnostics.push(
          warningDiagnostic({
            code: 'empty-continuation',
            message: `empty continuation line found in: ${logical.text.trim()}`,
            hint: 'remove the empty line, or end the instruction before it; empty continuation lines will become errors',
            file: this.#file,
            range: this.#lineRange(endLine, endLine),
            url: EMPTY_CONTINUATION_URL,
          }),
        );
      }
      this.#instruction(logical, lineNo, endLine, comments);
      comments = [];
    }
    if (this.#instructions.length === 0 && !this.#diagnostics.some((d) => d.severity === 'error')) {
      const last = Math.max(this.#lines.length, 1);
      this.#diagnostics.push(
        errorDiagnostic({
          code: 'no-instructions',
          message: 'the Dockerfile has no instructions',
          hint: 'a Dockerfile starts with FROM (after any ARG), e.g. FROM scratch',
          file: this.#file,
          range: this.#lineRange(1, last),
        }),
      );
    }
    return {
      ast: {
        kind: 'dockerfile',
        file: this.#file,
        directives: this.#directives,
        escape: this.#escape,
        instructions: this.#instructions,
      },
      diagnostics: this.#diagnostics,
    };
  }

  /** Handles a directive line; true when `content` was one (even a rejected one). */
  #directive(content: string, lineNo: number, lead: number): boolean {
    const scan = this.#scanner.scan(content);
    const range = this.#lineRange(lineNo, lineNo);
    switch (scan.kind) {
      case 'none':
        return false;
      case 'duplicate':
        this.#error('duplicate-directive', `only one ${scan.name} parser directive can be used`, range, `remove the second # ${scan.name}= line`);
        return true;
      case 'bad-escape':
        this.#error(
          'bad-escape',
          `invalid escape character ${JSON.stringify(scan.value)}: the escape directive takes \\ or \``,
          range,
          'write # escape=\\ (the default) or # escape=`',
        );
        return true;
      case 'directive':
        this.#directives.push({
          kind: 'directive',
          name: scan.name,
          value: scan.value,
          range: { start: { line: lineNo, column: lead + 1 }, end: range.end },
        });
        if (scan.name === 'escape' && (scan.value === '\\' || scan.value === '`')) {
          this.#escape = scan.value;
          this.#continuation = continuationPattern(scan.value);
        }
        return true;
    }
  }

  #instruction(logical: LogicalLine, startLine: number, endLine: number, comments: readonly string[]): void {
    const parsed = parseInstructionLine(logical.text, this.#escape);
    const at = (offset: number): Position => logical.position(offset);
    for (const problem of parsed.problems) {
      this.#error(problem.code, problem.message, { start: at(problem.offset), end: at(problem.endOffset) }, problem.hint);
    }
    const heredocs = this.#heredocs(parsed, logical.text, startLine);
    if (parsed.problems.length > 0 || heredocs === undefined) return;
    const lastLine = this.#next;
    this.#instructions.push(
      toInstruction(parsed, {
        heredocs,
        original: logical.text,
        comments,
        range: { start: this.#start(startLine, at(parsed.keywordOffset)), end: this.#lineEnd(Math.max(lastLine, endLine)) },
      }),
    );
  }

  /** Reads the bodies of the heredocs the line opens; undefined after an error. */
  #heredocs(parsed: ParsedLine, line: string, startLine: number): Heredoc[] | undefined {
    const target = parsed.trigger ?? parsed;
    if (!HEREDOC_INSTRUCTIONS.has(target.name) || target.json || !line.includes('<<')) return [];
    const found = findHeredocs(line);
    if (found.kind === 'error') {
      this.#error('bad-heredoc', found.message, this.#lineRange(startLine, this.#next), found.hint);
      return undefined;
    }
    const heredocs: Heredoc[] = [];
    for (const header of found.heredocs) {
      const bodyStart = this.#next + 1;
      let content = '';
      let terminated = false;
      while (this.#next < this.#lines.length) {
        const raw = this.#lines[this.#next++] ?? '';
        let candidate = trimNewline(raw);
        if (header.chomp) candidate = candidate.replace(/^\t+/, '');
        if (candidate === header.name) {
          terminated = true;
          break;
        }
        content += raw;
      }
      if (!terminated) {
        this.#error(
          'unterminated-heredoc',
          `unterminated heredoc: no line holds the delimiter ${header.name} alone`,
          this.#lineRange(startLine, Math.max(this.#next, startLine)),
          `end the heredoc with a line that is exactly ${header.name}${header.chomp ? ' (leading tabs allowed)' : ''}`,
        );
        return undefined;
      }
      heredocs.push({
        kind: 'heredoc',
        name: header.name,
        content: header.chomp ? content.replace(/^\t+/gm, '') : content,
        expand: header.expand,
        chomp: header.chomp,
        fd: header.fd,
        range: { start: { line: Math.min(bodyStart, this.#next), column: 1 }, end: this.#lineEnd(this.#next) },
      });
    }
    return heredocs;
  }

  /**
   * BuildKit reads lines with Go's bufio.Scanner and its 64 KiB token limit, so a line of
   * 65,536 bytes or more (UTF-8, before its newline) fails the whole parse there.
   */
  #checkLineLengths(): void {
    for (const [i, raw] of this.#lines.entries()) {
      // A UTF-16 unit is at most 3 UTF-8 bytes: shorter lines need no counting.
      if (raw.length * 3 < MAX_LINE_BYTES) continue;
      const bytes = Buffer.byteLength(trimNewline(raw));
      if (bytes < MAX_LINE_BYTES) continue;
      this.#error(
        'line-too-long',
        `line ${i + 1} is ${bytes} bytes long; BuildKit reads Dockerfile lines of at most ${MAX_LINE_BYTES - 1} bytes`,
        this.#lineRange(i + 1, i + 1),
        'split the line with continuations (an escape character at the end of each part), or move the data into a file',
      );
      return;
    }
  }

  /**
   * Where an instruction starts: at its keyword, or, as BuildKit counts it, on the first
   * line of its logical line when that line holds only the escape character.
   */
  #start(startLine: number, keyword: Position): Position {
    return keyword.line === startLine ? keyword : { line: startLine, column: 1 };
  }

  #trimContinuation(text: string): { text: string; continued: boolean } {
    const match = this.#continuation.exec(text);
    if (match === null) return { text, continued: false };
    return { text: text.slice(0, match.index) + (match[1] ?? ''), continued: true };
  }

  #error(code: string, message: string, range: SourceRange, hint?: string): void {
    this.#diagnostics.push(
      errorDiagnostic({ code, message, file: this.#file, range, ...(hint === undefined ? {} : { hint }) }),
    );
  }

  #lineRange(start: number, end: number): SourceRange {
    const first = trimNewline(this.#lines[start - 1] ?? '');
    return { start: { line: start, column: skipSpace(first) + 1 }, end: this.#lineEnd(end) };
  }

  #lineEnd(line: number): Position {
    return { line, column: trimNewline(this.#lines[line - 1] ?? '').length + 1 };
  }
}

function toInstruction(
  parsed: ParsedLine,
  extra: Pick<Instruction, 'heredocs' | 'original' | 'comments' | 'range'>,
): Instruction {
  return {
    kind: 'instruction',
    name: parsed.name,
    keyword: parsed.keyword,
    flags: parsed.flags,
    args: parsed.args,
    json: parsed.json,
    legacyKeyValue: parsed.legacyKeyValue,
    trigger:
      parsed.trigger === undefined
        ? undefined
        : toInstruction(parsed.trigger, { heredocs: [], original: extra.original, comments: [], range: extra.range }),
    ...extra,
  };
}

/**
 * BuildKit's continuation rule: the escape character, then only blanks, at the end of the
 * line, and not itself escaped (a second alternative covers a line that is only the escape).
 * Like BuildKit (its Go regexp has no look-behind), `\\\` at the end is not a continuation.
 */
function continuationPattern(escape: EscapeChar): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** Lines with their endings kept; only \n ends a line (a \r before it is trimmed later). */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/** Go's bytes.TrimRight(line, "\r\n"). */
function trimNewline(line: string): string {
  let end = line.length;
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c !== 0x0a && c !== 0x0d) break;
    end--;
  }
  return end === line.length ? line : line.slice(0, end);
}
