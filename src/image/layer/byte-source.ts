/**
 * Pulls bytes from an async iterable in the amounts a parser wants: whole header blocks,
 * body chunks capped at what the entry has left, skips. One reader at a time: callers await
 * each call before the next. The first failure — the source's error, or an abort — is kept
 * and thrown again by every later call, so a parser never mistakes a dead source for its end.
 */
export class ByteSource {
  readonly #iterator: AsyncIterator<Uint8Array>;
  readonly #signal: AbortSignal | undefined;
  #chunk: Buffer = Buffer.alloc(0);
  #offset = 0;
  #ended = false;
  #failure: unknown;
  #failed = false;
  /** Bytes handed out or skipped so far. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array>, signal?: AbortSignal) {
    this.#iterator = source[Symbol.asyncIterator]();
    this.#signal = signal;
  }

  /**
   * Exactly `length` bytes, or fewer when the source ends first (a Buffer shorter than
   * asked, possibly empty).
   */
  async read(length: number): Promise<Buffer> {
    const available = this.#chunk.length - this.#offset;
    if (available >= length) {
      const out = this.#chunk.subarray(this.#offset, this.#offset + length);
      this.#offset += length;
      this.position += length;
      return out;
    }
    const parts: Buffer[] = [];
    let got = 0;
    while (got < length) {
      const piece = await this.chunk(length - got);
      if (piece === undefined) break;
      parts.push(piece);
      got += piece.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
  }

  /** The next bytes, at most `max` of them, without copying; undefined at the end. */
  async chunk(max: number): Promise<Buffer | undefined> {
    while (this.#offset >= this.#chunk.length) {
      if (!(await this.#pull())) return undefined;
    }
    const end = Math.min(this.#chunk.length, this.#offset + max);
    const out = this.#chunk.subarray(this.#offset, end);
    this.position += end - this.#offset;
    this.#offset = end;
    return out;
  }

  /** Skips up to `length` bytes; returns how many there were. */
  async skip(length: number): Promise<number> {
    let skipped = 0;
    while (skipped < length) {
      const piece = await this.chunk(length - skipped);
      if (piece === undefined) break;
      skipped += piece.length;
    }
    return skipped;
  }

  /** Reads and discards everything left, so whatever hashes the source sees every byte. */
  async drain(): Promise<void> {
    while (await this.chunk(Number.MAX_SAFE_INTEGER)) {
      // discard
    }
  }

  /** Stops reading: the source is closed (its iterator returned). */
  async close(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.#iterator.return?.();
  }

  async #pull(): Promise<boolean> {
    if (this.#failed) throw this.#failure;
    if (this.#ended) return false;
    try {
      this.#signal?.throwIfAborted();
      const next = await this.#iterator.next();
      this.#signal?.throwIfAborted();
      if (next.done === true) {
        this.#ended = true;
        return false;
      }
      const value = next.value;
      this.#chunk = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      this.#offset = 0;
      return true;
    } catch (error) {
      this.#failed = true;
      this.#failure = error;
      throw error;
    }
  }
}
