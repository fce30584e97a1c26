/**
 * The replication backlog (Redis: repl_backlog): a ring buffer of the last
 * `repl-backlog-size` bytes of the replication stream, addressed by replication offset,
 * from which a reconnecting replica is sent what it missed (partial resync).
 */

/** A ring buffer of stream bytes with Redis's offset arithmetic. */
export class Backlog {
  #buf: Uint8Array;
  /** write position in #buf */
  #idx = 0;
  /** bytes of history held (Redis: repl_backlog_histlen) */
  histlen = 0;
  /** replication offset of the first byte held (Redis: repl_backlog_off, 1-based) */
  offset: number;

  /** Creates an empty backlog for a stream whose offset is currently `replOffset`. */
  constructor(size: number, replOffset: number) {
    this.#buf = new Uint8Array(Math.max(1, size));
    this.offset = replOffset + 1;
  }

  /** Capacity in bytes. */
  get size(): number {
    return this.#buf.length;
  }

  /** Appends stream bytes; the oldest history is overwritten when full. */
  append(bytes: Uint8Array): void {
    const size = this.#buf.length;
    const end = this.offset + this.histlen; // offset of the next byte
    let data = bytes;
    if (data.length > size) data = data.subarray(data.length - size);
    let pos = this.#idx;
    let off = 0;
    while (off < data.length) {
      const n = Math.min(size - pos, data.length - off);
      this.#buf.set(data.subarray(off, off + n), pos);
      off += n;
      pos = (pos + n) % size;
    }
    this.#idx = pos;
    const newEnd = end + bytes.length;
    this.histlen = Math.min(size, this.histlen + bytes.length);
    this.offset = newEnd - this.histlen;
  }

  /** True when the byte at `offset` (the first one a replica misses) can be served. */
  covers(offset: number): boolean {
    return offset >= this.offset && offset <= this.offset + this.histlen;
  }

  /**
   * The history from `offset` (inclusive) to the end, as a fresh copy. The caller
   * checks covers() first.
   */
  readFrom(offset: number): Uint8Array {
    if (!this.covers(offset)) throw new RangeError(`offset ${offset} is outside the backlog`);
    const len = this.offset + this.histlen - offset;
    const out = new Uint8Array(len);
    const size = this.#buf.length;
    // the newest byte is just before #idx
    let pos = ((this.#idx - len) % size + size) % size;
    let off = 0;
    while (off < len) {
      const n = Math.min(size - pos, len - off);
      out.set(this.#buf.subarray(pos, pos + n), off);
      off += n;
      pos = (pos + n) % size;
    }
    return out;
  }

  /** Changes the capacity, keeping as much of the newest history as fits. */
  resize(size: number): void {
    if (size === this.#buf.length) return;
    const keep = Math.min(this.histlen, size);
    const tail = keep > 0 ? this.readFrom(this.offset + this.histlen - keep) : new Uint8Array(0);
    const end = this.offset + this.histlen;
    this.#buf = new Uint8Array(Math.max(1, size));
    this.#buf.set(tail);
    this.#idx = tail.length % this.#buf.length;
    this.histlen = tail.length;
    this.offset = end - this.histlen;
  }
}
