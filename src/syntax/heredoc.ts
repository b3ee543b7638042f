import { createShellLexer, EMPTY_ENV } from '../shell/index.ts';

/** The instructions whose lines may open heredocs (BuildKit's heredocDirectives). */
export const HEREDOC_INSTRUCTIONS: ReadonlySet<string> = new Set(['RUN', 'COPY', 'ADD']);

/** A heredoc opened by an instruction line; its body is read from the lines that follow. */
export interface HeredocHeader {
  readonly name: string;
  readonly expand: boolean;
  readonly chomp: boolean;
  readonly fd: number;
}

export type HeredocScan =
  | { readonly kind: 'ok'; readonly heredocs: readonly HeredocHeader[] }
  | { readonly kind: 'error'; readonly message: string; readonly hint: string };

/** `[fd]<<[-][blanks]word`, one shell word (BuildKit's reHeredoc). */
const HEREDOC = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/*
 * Heredoc words are found with the shell lexer, always with a backslash as its escape
 * character (BuildKit does the same whatever `# escape=` says): quotes and escapes kept,
 * unset variables left as written, and `<<  EOF` held together as one word.
 */
const raw = createShellLexer({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
const unquoted = createShellLexer({ skipUnsetEnv: true });
const quoted = createShellLexer({ rawQuotes: true, skipUnsetEnv: true });

/**
 * Finds the heredocs an instruction line opens, in order, as BuildKit's heredocsFromLine:
 * every shell word of the line of the form `<<EOF`, `<<-EOF`, `3<<EOF`, `<<"EOF"`; the body
 * is expanded later unless some part of the delimiter was quoted.
 */
export function findHeredocs(line: string): HeredocScan {
  let words: readonly string[];
  try {
    words = raw.processWords(line, EMPTY_ENV);
  } catch {
    // BuildKit ignores a lexing failure of the whole line here, finding no heredocs.
    return { kind: 'ok', heredocs: [] };
  }
  const heredocs: HeredocHeader[] = [];
  for (const word of words) {
    const match = HEREDOC.exec(word);
    const rest = match?.[3];
    if (match === null || rest === undefined || rest === '') continue;
    let plain: readonly string[];
    let kept: readonly string[];
    try {
      plain = unquoted.processWords(rest, EMPTY_ENV);
      kept = quoted.processWords(rest, EMPTY_ENV);
    } catch {
      return {
        kind: 'error',
        message: `the heredoc delimiter ${rest} has an unterminated quote`,
        hint: 'close the quote: <<"EOF" or <<\'EOF\'',
      };
    }
    const name = plain[0];
    const keptName = kept[0];
    if (plain.length !== 1 || name === undefined || keptName === undefined) continue;
    heredocs.push({
      name,
      expand: countQuotes(name) === countQuotes(keptName),
      chomp: match[2] === '-',
      fd: toFd(match[1] ?? ''),
    });
  }
  return { kind: 'ok', heredocs };
}

function countQuotes(word: string): number {
  let n = 0;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c === 0x22 || c === 0x27) n++;
  }
  return n;
}

/** Like Go's strconv.ParseUint with the error ignored: empty or out of range gives 0. */
function toFd(digits: string): number {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : 0;
}
