/**
 * Incremental request parser: RESP arrays of bulk strings and inline commands, as
 * Redis's processMultibulkBuffer / processInlineBuffer parse them. Bytes are read
 * straight into the parser's buffer (writable() / commit()), so there is no copy per
 * read; frames may be split anywhere and many may arrive in one read.
 */
import { bytesToBinary } from "./bytes.ts";

/** A malformed request; the connection gets `-ERR <message>` and is closed. */
export class ProtocolError extends Error {}

const INLINE_MAX = 64 * 1024;
const MIN_READ_ROOM = 16 * 1024;
/** Redis's PROTO_MBULK_BIG_ARG */
const BIG_ARG = 32 * 1024;
/** Arguments at least this large are read into a dedicated buffer region. */

/** Limits applied while parsing. */
export interface ParserLimits {
  /** proto-max-bulk-len */
  maxBulkLen: number;
  /** client-query-buffer-limit */
  maxQueryBuffer: number;
  /** true while the client is not authenticated: Redis's tighter limits apply */
  unauthenticated?: boolean;
}

/** Incremental RESP / inline request parser. */
export class RequestParser {
  buf: Uint8Array;
  /** first unconsumed byte */
  pos = 0;
  /** end of valid data */
  end = 0;
  /** total bytes consumed since creation (replication offsets use this) */
  consumed = 0;
  /** bytes taken by the last command returned by next() */
  lastCommandBytes = 0;
  limits: ParserLimits;

  #argv: string[] | null = null;
  #remaining = 0;
  /**
   * True between writable() and commit(): a read into the region at `end` is under
   * way, so next() must not rewind the buffer under it (a blocked client's pipeline is
   * resumed while its read loop waits for input).
   */
  #readPending = false;
  /** the region writable() handed out, when the buffer was replaced under the read */
  #detached: Uint8Array | null = null;
  /** most bytes held since the last resize() (Redis's querybuf_peak) */
  #peak = 0;
  #bulkLen = -1;
  #commandStart = 0;

  constructor(limits: ParserLimits, initialSize = 16 * 1024) {
    this.limits = limits;
    this.buf = new Uint8Array(initialSize);
  }

  /** Unparsed bytes currently buffered. */
  get pending(): number {
    return this.end - this.pos;
  }

  /** Bytes of the arguments already parsed of a command still arriving (client memory). */
  get partialArgBytes(): number {
    let n = 0;
    if (this.#argv !== null) { for (const a of this.#argv) n += a.length; }
    return n;
  }

  /** A region to read into; call commit(n) after reading n bytes into it. */
  writable(): Uint8Array {
    this.#detached = null;
    let room = this.buf.length - this.end;
    // a bulk of known length is given room for all of it at once; a big one for just
    // itself (Redis reads a big argument's remaining bytes only)
    const bulk = this.#bulkLen;
    const want = bulk < 0
      ? MIN_READ_ROOM
      : bulk >= BIG_ARG
      ? Math.max(1, bulk + 2 - (this.end - this.pos))
      : Math.max(MIN_READ_ROOM, bulk + 2 - (this.end - this.pos));
    if (room < want) {
      const live = this.end - this.pos;
      if (this.pos > 0 && this.buf.length - live >= want && live < this.buf.length / 2) {
        this.buf.copyWithin(0, this.pos, this.end);
      } else {
        let size = Math.max(this.buf.length * 2, MIN_READ_ROOM);
        while (size - live < want) size *= 2;
        // a big argument gets room for itself only, as Redis sizes its query buffer for
        // a bulk of PROTO_MBULK_BIG_ARG or more (client memory counts this buffer)
        if (this.#bulkLen >= BIG_ARG) size = live + want;
        const next = new Uint8Array(size);
        next.set(this.buf.subarray(this.pos, this.end));
        this.buf = next;
      }
      this.end = live;
      this.pos = 0;
      room = this.buf.length - this.end;
    }
    this.#readPending = true;
    // an empty buffer is read into whole: no new view per read on the pipelined hot path
    return this.end === 0 ? this.buf : this.buf.subarray(this.end);
  }

  /** Records that n bytes were read into the region returned by writable(). */
  commit(n: number): void {
    this.#readPending = false;
    const detached = this.#detached;
    if (detached !== null) {
      // resize() replaced the buffer while the read was under way: take its bytes over
      this.#detached = null;
      const region = this.writable();
      this.#readPending = false;
      if (region.length < n) {
        const next = new Uint8Array(this.end + n);
        next.set(this.buf.subarray(0, this.end));
        this.buf = next;
      }
      this.buf.set(detached.subarray(0, n), this.end);
    }
    this.end += n;
    if (this.end - this.pos > this.#peak) this.#peak = this.end - this.pos;
    if (this.end - this.pos > this.limits.maxQueryBuffer) {
      throw new ProtocolError("query buffer limit");
    }
  }

  /**
   * Redis's clientsCronResizeQueryBuffer, run about once a second: a buffer wasting more
   * than 4 KB is trimmed to what it holds when the client has been idle over 2 seconds,
   * or, when larger than 32 KB and over twice the peak use since the last call, down to
   * that peak (and not below a bulk being read). Then the peak restarts from now.
   */
  resize(idleSeconds: number): void {
    const live = this.end - this.pos;
    if (this.buf.length - live > 4096) {
      let size = -1;
      if (idleSeconds > 2) size = live;
      else if (this.buf.length > 32 * 1024 && this.buf.length / 2 > this.#peak) {
        size = Math.max(live, this.#peak, this.#bulkLen >= 0 ? this.#bulkLen + 2 : 0);
      }
      if (size >= 0) {
        const next = new Uint8Array(size);
        next.set(this.buf.subarray(this.pos, this.end));
        // a read in flight fills the region it was given: commit() copies from there
        if (this.#readPending && this.#detached === null) {
          this.#detached = this.buf.subarray(this.end);
        }
        this.buf = next;
        this.end = live;
        this.pos = 0;
      }
    }
    this.#peak = Math.max(live, this.#bulkLen);
  }

  /** Appends bytes (for callers that have their own chunks). */
  feed(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      const room = this.writable();
      const n = Math.min(room.length, bytes.length - off);
      room.set(bytes.subarray(off, off + n));
      this.commit(n);
      off += n;
    }
  }

  /**
   * Returns the next complete command, or null when more bytes are needed. An empty
   * array is never returned (empty commands are skipped). Throws ProtocolError.
   */
  next(): string[] | null {
    if (this.#argv === null && this.pos < this.end && this.buf[this.pos] === 42) {
      const argv = this.#whole();
      if (argv !== null) return argv;
    }
    for (;;) {
      if (this.#argv === null) {
        if (this.pos >= this.end) {
          // everything consumed: rewind so the buffer is reused from the start (not
          // while a read fills the region after `end`: its bytes would land past it)
          if (!this.#readPending) {
            this.pos = 0;
            this.end = 0;
          }
          return null;
        }
        this.#commandStart = this.consumed;
        if (this.buf[this.pos] === 42) { // '*'
          const count = this.#readNumberLine("mbulk count");
          if (count === null) return null;
          if (count > 1024 * 1024 * 1024 || Number.isNaN(count)) {
            throw new ProtocolError("Protocol error: invalid multibulk length");
          }
          if (this.limits.unauthenticated && count > 10) {
            throw new ProtocolError("Protocol error: unauthenticated multibulk length");
          }
          if (count <= 0) continue;
          this.#argv = [];
          this.#remaining = count;
          this.#bulkLen = -1;
        } else {
          const argv = this.#inline();
          if (argv === null) return null;
          if (argv.length === 0) continue;
          return this.#done(argv);
        }
      }
      // inside a multibulk: read bulk strings
      while (this.#remaining > 0) {
        if (this.#bulkLen < 0) {
          if (this.pos >= this.end) return null;
          const c = this.buf[this.pos];
          if (c !== 36) {
            throw new ProtocolError(
              `Protocol error: expected '$', got '${String.fromCharCode(c)}'`,
            );
          }
          const len = this.#readNumberLine("bulk count");
          if (len === null) return null;
          if (Number.isNaN(len) || len < 0 || len > this.limits.maxBulkLen) {
            throw new ProtocolError("Protocol error: invalid bulk length");
          }
          if (this.limits.unauthenticated && len > 16384) {
            throw new ProtocolError("Protocol error: unauthenticated bulk length");
          }
          this.#bulkLen = len;
        }
        if (this.end - this.pos < this.#bulkLen + 2) return null;
        const start = this.pos;
        this.#argv!.push(bytesToBinary(this.buf, start, start + this.#bulkLen));
        this.#advance(this.#bulkLen + 2);
        this.#bulkLen = -1;
        this.#remaining--;
      }
      const argv = this.#argv!;
      this.#argv = null;
      return this.#done(argv);
    }
  }

  /**
   * The common case: a whole multibulk command of well-formed short arguments already
   * in the buffer, parsed in one pass. Returns null, consuming nothing, for anything
   * else (incomplete, malformed, over a limit): next()'s incremental path handles it.
   */
  #whole(): string[] | null {
    const b = this.buf;
    const end = this.end;
    let i = this.pos + 1;
    let count = 0;
    for (; i < end; i++) {
      const c = b[i];
      if (c === 13) break;
      if (c < 48 || c > 57 || count > 100000) return null;
      count = count * 10 + (c - 48);
    }
    if (count === 0 || i + 1 >= end || b[i + 1] !== 10 || count > 64) return null;
    if (this.limits.unauthenticated && count > 10) return null;
    i += 2;
    const argv: string[] = new Array(count);
    for (let k = 0; k < count; k++) {
      if (i >= end || b[i] !== 36) return null;
      let len = 0;
      let j = i + 1;
      for (; j < end; j++) {
        const c = b[j];
        if (c === 13) break;
        if (c < 48 || c > 57 || len > 100000) return null;
        len = len * 10 + (c - 48);
      }
      if (j === i + 1 || j + 1 >= end || b[j + 1] !== 10 || len > 16384) return null;
      i = j + 2;
      if (i + len + 2 > end) return null;
      if (k === 0) argv[0] = this.#name(i, len);
      else argv[k] = bytesToBinary(b, i, i + len);
      i += len + 2;
    }
    const n = i - this.pos;
    this.pos = i;
    this.consumed += n;
    this.lastCommandBytes = n;
    return argv;
  }

  /**
   * A command name: the previous one again when the bytes are the same (pipelines
   * repeat commands), which saves making a string, and lets the dispatcher's lookup
   * compare by identity.
   */
  #name(start: number, len: number): string {
    const last = this.#lastName;
    if (last.length === len) {
      const b = this.buf;
      let k = 0;
      while (k < len && b[start + k] === last.charCodeAt(k)) k++;
      if (k === len) return last;
    }
    const name = bytesToBinary(this.buf, start, start + len);
    if (len <= 32) this.#lastName = name;
    return name;
  }
  #lastName = "";

  #done(argv: string[]): string[] {
    this.lastCommandBytes = this.consumed - this.#commandStart;
    return argv;
  }

  #advance(n: number): void {
    this.pos += n;
    this.consumed += n;
  }

  /** Reads "<c><number>\r\n" at pos; null if the line is incomplete. */
  #readNumberLine(what: string): number | null {
    const b = this.buf;
    let i = this.pos + 1;
    const end = this.end;
    let v = 0;
    let neg = false;
    let digits = 0;
    let bad = false;
    if (i < end && b[i] === 45) {
      neg = true;
      i++;
    }
    for (; i < end; i++) {
      const c = b[i];
      if (c === 13) break;
      if (c >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        digits++;
      } else bad = true;
    }
    if (i >= end || i + 1 >= end) {
      if (end - this.pos > INLINE_MAX) {
        throw new ProtocolError(`Protocol error: too big ${what} string`);
      }
      return null;
    }
    if (b[i + 1] !== 10) bad = true;
    this.#advance(i + 2 - this.pos);
    if (bad || digits === 0 || digits > 19) return NaN;
    return neg ? -v : v;
  }

  /** Parses one inline command line; null if the line is incomplete. */
  #inline(): string[] | null {
    const b = this.buf;
    let nl = -1;
    for (let i = this.pos; i < this.end; i++) {
      if (b[i] === 10) {
        nl = i;
        break;
      }
    }
    if (nl < 0) {
      if (this.end - this.pos > INLINE_MAX) {
        throw new ProtocolError("Protocol error: too big inline request");
      }
      return null;
    }
    let lineEnd = nl;
    if (lineEnd > this.pos && b[lineEnd - 1] === 13) lineEnd--;
    const line = bytesToBinary(b, this.pos, lineEnd);
    this.#advance(nl + 1 - this.pos);
    const args = splitArgs(line);
    if (args === null) throw new ProtocolError("Protocol error: unbalanced quotes in request");
    return args;
  }
}

function isHex(c: string): boolean {
  return /^[0-9a-fA-F]$/.test(c);
}

/**
 * Redis's sdssplitargs: splits a line into arguments honouring "double quotes" (with
 * \n \r \t \b \a \\ \" \xHH escapes) and 'single quotes' (with \'). Returns null on
 * unbalanced quotes or a closing quote not followed by a space.
 */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string) =>
    c === " " || c === "\n" || c === "\r" || c === "\t" || c === "\v" || c === "\f";
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    let cur = "";
    let inq = false;
    let insq = false;
    for (;;) {
      if (inq) {
        if (i >= n) return null;
        const c = line[i];
        if (
          c === "\\" && line[i + 1] === "x" && isHex(line[i + 2] ?? "") && isHex(line[i + 3] ?? "")
        ) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === "\\" && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === "n"
            ? "\n"
            : e === "r"
            ? "\r"
            : e === "t"
            ? "\t"
            : e === "b"
            ? "\b"
            : e === "a"
            ? "\x07"
            : e;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          i++;
          break;
        } else cur += c;
        i++;
      } else if (insq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === "\\" && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          i++;
          break;
        } else cur += c;
        i++;
      } else {
        if (i >= n) break;
        const c = line[i];
        if (isSpace(c)) break;
        if (c === '"') inq = true;
        else if (c === "'") insq = true;
        else cur += c;
        i++;
      }
    }
    out.push(cur);
  }
}
