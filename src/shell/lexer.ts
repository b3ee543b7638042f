import { DockerfileError } from '../errors/index.ts';
import { removePrefix, removeSuffix } from './pattern-removal.ts';
import { replaceAll, replaceFirst } from './pattern-substitution.ts';
import type { InvalidPattern } from './shell-pattern.ts';
import type { ShellEnv } from './shell-env.ts';
import { advance, END, fail, lookup, peek, readName, startScan, type Scan } from './word-scan.ts';
import { WordSplitter } from './word-splitter.ts';

/**
 * How a {@link ShellLexer} reads words. The defaults are what BuildKit's dispatcher uses
 * for instruction arguments; the flags exist for the other places BuildKit lexes words
 * (heredoc detection, heredoc bodies, progress names).
 */
export interface ShellLexerOptions {
  /** The escape character, from the `# escape=` directive: backslash (default) or backtick. */
  readonly escape?: '\\' | '`';
  /** Keep quote characters in the output; they still group text and stop expansion. */
  readonly rawQuotes?: boolean;
  /** Keep escape characters in the output, each before the character it escapes. */
  readonly rawEscapes?: boolean;
  /**
   * Leave references to unset variables in the output instead of expanding them to
   * nothing: `$X`, `${X}`, and `${X<op><word>}` rebuilt from the expanded word. Checks like
   * `${X:?msg}` then do not fail, but malformed forms such as `${X=w}` still do.
   */
  readonly skipUnsetEnv?: boolean;
  /** Treat `'` and `"` as ordinary characters (COPY/ADD heredoc bodies). */
  readonly skipProcessQuotes?: boolean;
}

/** The result of expanding one word. */
export interface WordExpansion {
  /** The word with quotes removed and variables expanded; spaces are kept. */
  readonly word: string;
  /** The variables the word referred to that were set. */
  readonly matched: ReadonlySet<string>;
  /** The variables the word referred to that were not set (for the undefined-variable lint). */
  readonly unmatched: ReadonlySet<string>;
}

/**
 * BuildKit's Dockerfile word expansion: quotes, the escape character, `$VAR`, `${VAR}` and
 * the `${VAR<op>word}` forms, with BuildKit's results wherever they differ from a POSIX
 * shell. Stateless between calls, so one lexer can serve a whole build.
 */
export interface ShellLexer {
  /** The options in effect, with defaults filled in. */
  readonly options: Required<ShellLexerOptions>;
  /**
   * Expands `word` as one word (BuildKit's ProcessWord / ProcessWordWithMatches): the
   * result keeps white space, and reports which variables were used.
   * @throws DockerfileError when the word is malformed or a `${VAR?msg}` check fails; the
   *   message quotes the word and names the variable. The caller adds file and range.
   */
  processWord(word: string, env: ShellEnv): WordExpansion;
  /**
   * Expands `word` and splits the result into words (BuildKit's ProcessWords, used for
   * EXPOSE): unquoted text and expanded values split at white space, quoted text does not,
   * and empty words are dropped.
   * @throws DockerfileError as {@link ShellLexer.processWord} does.
   */
  processWords(word: string, env: ShellEnv): readonly string[];
}

/** Creates a {@link ShellLexer}; see {@link ShellLexerOptions} for the defaults. */
export function createShellLexer(options: ShellLexerOptions = {}): ShellLexer {
  const resolved: Required<ShellLexerOptions> = Object.freeze({
    escape: options.escape ?? '\\',
    rawQuotes: options.rawQuotes ?? false,
    rawEscapes: options.rawEscapes ?? false,
    skipUnsetEnv: options.skipUnsetEnv ?? false,
    skipProcessQuotes: options.skipProcessQuotes ?? false,
  });
  if (resolved.escape !== '\\' && resolved.escape !== '`') {
    throw new DockerfileError(`invalid escape character ${JSON.stringify(resolved.escape)}`, {
      hint: 'the escape directive accepts only \\ or `',
    });
  }
  // A word without any of these characters expands to itself.
  const plain = resolved.escape === '\\' ? /^[^$'"<\\\uFEFF]*$/ : /^[^$'"<`\uFEFF]*$/;

  return Object.freeze({
    options: resolved,
    processWord(word: string, env: ShellEnv): WordExpansion {
      if (plain.test(word)) return { word, matched: NONE, unmatched: NONE };
      const scan = startScan(word, env, resolved);
      const result = expandUntil(scan, END, resolved.rawEscapes, undefined);
      return { word: result, matched: scan.matched ?? NONE, unmatched: scan.unmatched ?? NONE };
    },
    processWords(word: string, env: ShellEnv): readonly string[] {
      const splitter = new WordSplitter();
      if (plain.test(word)) {
        splitter.addSplitting(word);
      } else {
        expandUntil(startScan(word, env, resolved), END, resolved.rawEscapes, splitter);
      }
      return splitter.finish();
    },
  });
}

const NONE: ReadonlySet<string> = new Set();

const DOLLAR = 0x24; // $
const LT = 0x3c; // <
const SQUOTE = 0x27; // '
const DQUOTE = 0x22; // "
const LBRACE = 0x7b; // {
const RBRACE = 0x7d; // }
const COLON = 0x3a; // :
const SLASH = 0x2f; // /
const PLUS = 0x2b; // +
const MINUS = 0x2d; // -
const QUESTION = 0x3f; // ?
const HASH = 0x23; // #
const PERCENT = 0x25; // %

const SUPPORTED_FORMS =
  'supported forms: ${VAR} ${VAR:-word} ${VAR-word} ${VAR:+word} ${VAR+word} ${VAR:?message} ' +
  '${VAR?message} ${VAR#pattern} ${VAR##pattern} ${VAR%pattern} ${VAR%%pattern} ' +
  '${VAR/pattern/replacement} ${VAR//pattern/replacement}';

/**
 * Expands from the cursor up to `stop` (consumed) or the end of the word. `rawEscapes`
 * keeps escape characters, as pattern words need them; `splitter`, when given, receives
 * the pieces for word splitting; `openedAt` is where the `${` that `stop` closes starts,
 * for the error when it is missing. Only ASCII characters are special, so runs of other
 * characters are copied by UTF-16 unit without decoding.
 */
function expandUntil(
  scan: Scan,
  stop: number,
  rawEscapes: boolean,
  splitter: WordSplitter | undefined,
  openedAt = -1,
): string {
  const { src, escape } = scan;
  const quotes = !scan.options.skipProcessQuotes;
  let result = '';
  while (scan.pos < src.length) {
    const ch = src.charCodeAt(scan.pos);
    if (ch === stop) {
      scan.pos++;
      return result;
    }
    if (ch === DOLLAR) {
      const value = expandDollar(scan);
      result += value;
      splitter?.addSplitting(value);
    } else if (ch === LT) {
      const marker = readHeredocMarker(scan);
      result += marker;
      splitter?.addWhole(marker);
    } else if (quotes && ch === SQUOTE) {
      const quoted = readSingleQuoted(scan);
      result += quoted;
      splitter?.addWhole(quoted);
    } else if (quotes && ch === DQUOTE) {
      const quoted = readDoubleQuoted(scan, rawEscapes);
      result += quoted;
      splitter?.addWhole(quoted);
    } else if (ch === escape) {
      scan.pos++;
      const kept = rawEscapes ? src.charAt(scan.pos - 1) : '';
      const escaped = peek(scan);
      // An escape character at the very end escapes nothing and is dropped.
      if (escaped === END) {
        result += kept;
        splitter?.addWhole(kept);
        break;
      }
      advance(scan, escaped);
      const text = kept + String.fromCodePoint(escaped);
      result += text;
      splitter?.addWhole(text);
    } else {
      let end = scan.pos + 1;
      while (end < src.length && !isSpecial(src.charCodeAt(end), stop, escape, quotes)) end++;
      const run = src.slice(scan.pos, end);
      scan.pos = end;
      result += run;
      splitter?.addSplitting(run);
    }
  }
  if (stop !== END) throw missingClose(scan, stop, openedAt);
  return result;
}

function isSpecial(ch: number, stop: number, escape: number, quotes: boolean): boolean {
  return ch === stop || ch === DOLLAR || ch === LT || ch === escape || (quotes && (ch === SQUOTE || ch === DQUOTE));
}

function missingClose(scan: Scan, stop: number, openedAt: number): DockerfileError {
  const rest = scan.src.slice(Math.max(openedAt, 0));
  const opened = rest.length > 60 ? `${rest.slice(0, 57)}...` : rest;
  const expected = stop === SLASH ? `the '/' that ends the pattern` : `its closing '${String.fromCharCode(stop)}'`;
  return fail(scan, `${JSON.stringify(opened)} is missing ${expected}`);
}

/** `'...'`: everything up to the next `'` is literal; there is no way to escape a `'`. */
function readSingleQuoted(scan: Scan): string {
  const close = scan.src.indexOf("'", scan.pos + 1);
  if (close < 0) throw fail(scan, 'a single-quoted string is not closed', "add the closing ' or escape the quote");
  const body = scan.src.slice(scan.pos + 1, close);
  scan.pos = close + 1;
  return scan.options.rawQuotes ? `'${body}'` : body;
}

/**
 * `"..."`: `$` expands; the escape character escapes only `"`, `$` and itself and is kept
 * before anything else. With raw escapes a kept escape character therefore appears twice,
 * as it does in BuildKit.
 */
function readDoubleQuoted(scan: Scan, rawEscapes: boolean): string {
  const { src, escape } = scan;
  scan.pos++;
  let result = scan.options.rawQuotes ? '"' : '';
  for (;;) {
    if (scan.pos >= src.length) {
      throw fail(scan, 'a double-quoted string is not closed', 'add the closing " or escape the quote');
    }
    const ch = src.charCodeAt(scan.pos);
    if (ch === DQUOTE) {
      scan.pos++;
      return scan.options.rawQuotes ? `${result}"` : result;
    }
    if (ch === DOLLAR) {
      result += expandDollar(scan);
    } else if (ch === escape) {
      scan.pos++;
      const esc = String.fromCharCode(escape);
      if (rawEscapes) result += esc;
      if (scan.pos >= src.length) continue;
      const next = src.charCodeAt(scan.pos);
      if (next === DQUOTE || next === DOLLAR || next === escape) {
        scan.pos++;
        result += String.fromCharCode(next);
      } else {
        result += esc;
      }
    } else {
      let end = scan.pos + 1;
      while (end < src.length) {
        const c = src.charCodeAt(end);
        if (c === DQUOTE || c === DOLLAR || c === escape) break;
        end++;
      }
      result += src.slice(scan.pos, end);
      scan.pos = end;
    }
  }
}

/**
 * `<<` and the blanks after it are kept as one piece, so that word splitting leaves a
 * heredoc marker such as `<< EOF` in one word; a single `<` is an ordinary character.
 */
function readHeredocMarker(scan: Scan): string {
  const { src } = scan;
  if (src.charCodeAt(scan.pos + 1) !== LT) {
    scan.pos++;
    return '<';
  }
  const start = scan.pos;
  scan.pos += 2;
  for (;;) {
    const c = src.charCodeAt(scan.pos);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
    scan.pos++;
  }
  return src.slice(start, scan.pos);
}

/** `$NAME` or `${...}`, with the cursor on the `$`. */
function expandDollar(scan: Scan): string {
  const openedAt = scan.pos;
  scan.pos++;
  if (peek(scan) !== LBRACE) {
    const name = readName(scan);
    // A `$` not followed by a name (`$.`, `$` at the end) is literal.
    if (name === '') return '$';
    const value = lookup(scan, name);
    if (value === undefined && scan.options.skipUnsetEnv) return `$${name}`;
    return value ?? '';
  }
  scan.pos++;
  const first = peek(scan);
  if (first === END) throw fail(scan, `"\${" at the end is missing a variable name and its closing '}'`);
  if (first === LBRACE || first === RBRACE || first === COLON) {
    const opened = `\${${String.fromCharCode(first)}`;
    throw fail(scan, `bad substitution "${opened}": a variable name must follow "\${"`, SUPPORTED_FORMS);
  }
  const name = readName(scan);
  let op = peek(scan);
  if (op !== END) advance(scan, op);
  if (op === END) throw missingClose(scan, RBRACE, openedAt);
  let opText = String.fromCodePoint(op);

  if (op === RBRACE) {
    const value = lookup(scan, name);
    if (value === undefined && scan.options.skipUnsetEnv) return `\${${name}}`;
    return value ?? '';
  }
  if (op === SLASH) return substitute(scan, name, openedAt);

  const nullIsUnset = op === COLON;
  if (nullIsUnset) {
    // Whatever follows the colon is taken as the operator; BuildKit reads the word first
    // and rejects an unknown operator afterwards (so skipUnsetEnv can hide it).
    op = peek(scan);
    if (op !== END) advance(scan, op);
    opText += op === END ? '' : String.fromCodePoint(op);
  } else if (op !== PLUS && op !== MINUS && op !== QUESTION && op !== HASH && op !== PERCENT) {
    throw badModifier(scan, name, opText);
  }
  const removal = op === HASH || op === PERCENT;
  if (nullIsUnset && removal) throw badModifier(scan, name, opText);

  // Patterns keep their escapes: the pattern compiler gives `\*` its meaning.
  const word = expandUntil(scan, RBRACE, removal, undefined, openedAt);
  const value = lookup(scan, name);
  if (value === undefined && scan.options.skipUnsetEnv) return `\${${name}${opText}${word}}`;
  const empty = value === undefined || (nullIsUnset && value === '');

  switch (op) {
    case MINUS:
      return empty ? word : (value as string);
    case PLUS:
      return empty ? '' : word;
    case QUESTION:
      if (value === undefined) throw fail(scan, `${name}: ${word === '' ? 'required variable is not set' : word}`);
      if (empty) throw fail(scan, `${name}: ${word === '' ? 'required variable is empty' : word}`);
      return value;
    case HASH:
    case PERCENT: {
      // A doubled operator (`##`, `%%`) removes the longest match instead of the shortest.
      const longest = word.charCodeAt(0) === op;
      const pattern = longest ? word.slice(1) : word;
      const remove = op === HASH ? removePrefix : removeSuffix;
      const removed = remove(value ?? '', pattern, longest);
      return patternResult(scan, removed, name, longest ? opText + opText : opText, pattern);
    }
    default:
      throw badModifier(scan, name, opText);
  }
}

/** `${NAME/pattern/replacement}` and `${NAME//pattern/replacement}`, cursor after the first `/`. */
function substitute(scan: Scan, name: string, openedAt: number): string {
  const all = peek(scan) === SLASH;
  if (all) scan.pos++;
  const pattern = expandUntil(scan, SLASH, true, undefined, openedAt);
  const replacement = expandUntil(scan, RBRACE, true, undefined, openedAt);
  const value = lookup(scan, name);
  // BuildKit rebuilds an unset `${X//p/r}` with a single slash; kept for identical output.
  if (value === undefined && scan.options.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
  const replaced = all ? replaceAll(value ?? '', pattern, replacement) : replaceFirst(value ?? '', pattern, replacement);
  return patternResult(scan, replaced, name, all ? '//' : '/', pattern);
}

function patternResult(scan: Scan, result: string | InvalidPattern, name: string, op: string, pattern: string): string {
  if (typeof result === 'string') return result;
  throw fail(scan, `invalid pattern ${JSON.stringify(pattern)} in \${${name}${op}...}: ${result.reason}`);
}

function badModifier(scan: Scan, name: string, opText: string): DockerfileError {
  if (name === '') {
    return fail(scan, `bad substitution: "\${${opText}" has no variable name`, SUPPORTED_FORMS);
  }
  return fail(scan, `bad substitution in \${${name}...}: unsupported modifier "${opText}"`, SUPPORTED_FORMS);
}
