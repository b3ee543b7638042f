import { isSpace } from './unicode-class.ts';

/**
 * Collects the words of an expansion for `ShellLexer.processWords`: text that came
 * from unquoted source or from a `$` expansion splits at white space; quoted text, escaped
 * characters and heredoc markers are kept whole. A word that would be empty (`""`) is
 * dropped, as BuildKit drops it. One instance serves one expansion.
 */
export class WordSplitter {
  private readonly words: string[] = [];
  private current = '';

  /** Appends text that splits into words at white space. */
  addSplitting(text: string): void {
    let runStart = 0;
    for (let i = 0; i < text.length; i++) {
      if (!isSpace(text.charCodeAt(i))) continue;
      this.current += text.slice(runStart, i);
      this.endWord();
      runStart = i + 1;
    }
    this.current += text.slice(runStart);
  }

  /** Appends text that stays in the current word, spaces and all. */
  addWhole(text: string): void {
    this.current += text;
  }

  /** The words collected so far, ending the current one. */
  finish(): string[] {
    this.endWord();
    return this.words;
  }

  private endWord(): void {
    if (this.current.length === 0) return;
    this.words.push(this.current);
    this.current = '';
  }
}
