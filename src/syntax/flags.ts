import { isSpace } from './whitespace.ts';

/** The builder flags at the start of an instruction's arguments, and what follows them. */
export interface ExtractedFlags {
  /** Each `--name[=value]` word with its quotes and escapes processed. */
  readonly flags: readonly string[];
  /** The text after the flags (and after a `--` that ends them), untrimmed. */
  readonly rest: string;
  /** Where `rest` starts in the text given. */
  readonly restOffset: number;
}

const enum Phase {
  Spaces,
  Word,
  Quote,
}

/**
 * Takes the leading `--flag` words off an instruction's arguments, as BuildKit's
 * extractBuilderFlags does for every instruction: a word counts as a flag when it starts with
 * `--`; quotes group and are removed; the escape character takes the next character
 * literally (inside quotes too, single ones included); a lone `--` ends the flags and is
 * dropped. Flag names are not checked here: the frontend knows which instruction takes which.
 */
export function extractFlags(text: string, escape: string): ExtractedFlags {
  const flags: string[] = [];
  const esc = escape.charCodeAt(0);
  let phase = Phase.Spaces;
  let word = '';
  let quote = 0;
  let blankOk = false;

  for (let pos = 0; pos <= text.length; pos++) {
    const atEnd = pos === text.length;
    let ch = atEnd ? -1 : text.charCodeAt(pos);

    if (phase === Phase.Spaces) {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      if (ch !== 0x2d || text.charCodeAt(pos + 1) !== 0x2d) {
        return { flags, rest: text.slice(pos), restOffset: pos };
      }
      phase = Phase.Word;
    }
    if (atEnd) {
      if (word !== '--' && (blankOk || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === Phase.Word) {
      if (isSpace(ch)) {
        if (word === '--') return { flags, rest: text.slice(pos), restOffset: pos };
        if (blankOk || word.length > 0) flags.push(word);
        phase = Phase.Spaces;
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === 0x22 || ch === 0x27) {
        quote = ch;
        blankOk = true;
        phase = Phase.Quote;
        continue;
      }
      if (ch === esc) {
        if (pos + 1 === text.length) continue;
        ch = text.charCodeAt(++pos);
      }
      word += String.fromCharCode(ch);
      continue;
    }
    // Phase.Quote
    if (ch === quote) {
      phase = Phase.Word;
      continue;
    }
    if (ch === esc) {
      if (pos + 1 === text.length) {
        phase = Phase.Word;
        continue;
      }
      ch = text.charCodeAt(++pos);
    }
    word += String.fromCharCode(ch);
  }
  return { flags, rest: '', restOffset: text.length };
}
