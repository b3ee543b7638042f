import { isSpace } from './whitespace.ts';

const enum Phase {
  Spaces,
  Word,
  Quote,
}

/**
 * Splits text into words as BuildKit's parseWords does for ENV, LABEL and ARG: whitespace
 * separates words except inside quotes; quotes and escape characters are kept in the words
 * (the frontend removes them when it expands the words); the escape character keeps the
 * next character in the word, except inside single quotes, where it is an ordinary
 * character; an escape character at the very end is dropped; `""` makes a word of its own.
 */
export function splitWords(text: string, escape: string): string[] {
  const words: string[] = [];
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
      phase = Phase.Word;
    }
    if (atEnd) {
      if (blankOk || word.length > 0) words.push(word);
      break;
    }
    if (phase === Phase.Word) {
      if (isSpace(ch)) {
        if (blankOk || word.length > 0) words.push(word);
        phase = Phase.Spaces;
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === 0x22 || ch === 0x27) {
        quote = ch;
        blankOk = true;
        phase = Phase.Quote;
      } else if (ch === esc) {
        if (pos + 1 === text.length) continue;
        word += String.fromCharCode(ch);
        ch = text.charCodeAt(++pos);
      }
      word += String.fromCharCode(ch);
      continue;
    }
    // Phase.Quote: the closing quote stays in the word.
    if (ch === quote) {
      phase = Phase.Word;
    } else if (ch === esc && quote !== 0x27) {
      if (pos + 1 === text.length) {
        phase = Phase.Word;
        continue;
      }
      word += String.fromCharCode(ch);
      ch = text.charCodeAt(++pos);
    }
    word += String.fromCharCode(ch);
  }
  return words;
}
