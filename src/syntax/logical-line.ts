import type { Position } from '../errors/index.ts';

interface Segment {
  /** Where the segment starts in the logical text. */
  readonly offset: number;
  readonly line: number;
  /** The 1-based column in its physical line where the segment's text starts. */
  readonly column: number;
}

/**
 * An instruction's text with its continuation lines joined, remembering where each piece
 * came from so that an offset in the joined text maps back to a line and column.
 */
export class LogicalLine {
  #text = '';
  readonly #segments: Segment[] = [];

  get text(): string {
    return this.#text;
  }

  /** Appends the kept part of one physical line, which starts at `column` of `line`. */
  append(piece: string, line: number, column: number): void {
    this.#segments.push({ offset: this.#text.length, line, column });
    this.#text += piece;
  }

  /** The file position of `offset` in {@link text}; the end of the text maps past its last character. */
  position(offset: number): Position {
    let segment = this.#segments[0];
    if (segment === undefined) return { line: 1, column: 1 };
    for (const s of this.#segments) {
      if (s.offset > offset) break;
      segment = s;
    }
    return { line: segment.line, column: segment.column + (offset - segment.offset) };
  }
}
