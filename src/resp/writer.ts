/**
 * Reply encoder: RESP2 and RESP3 replies appended to one growable byte buffer.
 * Strings are binary strings (see bytes.ts). The protocol version is per connection.
 */
import { formatDouble17g, writeBinary } from "./bytes.ts";

const CRLF_LEN = 2;

/** A growable output buffer with RESP2/RESP3 reply methods. */
export class ReplyWriter {
  buf: Uint8Array;
  len = 0;
  /** 2 or 3, chosen by HELLO. */
  resp: 2 | 3 = 2;
  #spare: Uint8Array | null = null;
  /**
   * The buffer size kept for this client (Redis's buf_usable_size, CLIENT LIST rbs):
   * 1 KB to 16 KB, adjusted by resize() to what the client's replies need. Replies
   * beyond it still fit (the buffer grows) but are not kept once written.
   */
  size = 16 * 1024;
  /** most bytes of `size` used at once since the last peak reset (CLIENT LIST rbp) */
  peak = 0;
  peakResetAt = 0;

  constructor(initialSize = 16 * 1024) {
    this.buf = new Uint8Array(initialSize);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /**
   * Hands the pending bytes to a writer and starts a fresh buffer, so replies
   * appended while the write is in flight do not disturb it.
   */
  take(): Uint8Array {
    const used = this.len < this.size ? this.len : this.size;
    if (used > this.peak) this.peak = used;
    const out = this.buf.subarray(0, this.len);
    const spare = this.#spare;
    this.#spare = null;
    this.buf = spare && spare.length >= this.size ? spare : new Uint8Array(this.size);
    this.len = 0;
    return out;
  }

  /**
   * Redis's clientsCronResizeOutputBuffer: a client whose peak stays under half its
   * buffer gets a smaller one (down to 1 KB), one that filled its buffer a bigger one
   * (up to 16 KB); the peak restarts every `peakResetMs` (-1: never). Returns -1 after
   * a shrink, 1 after an expansion, else 0. `idle`: nothing is pending or being written,
   * so the buffer itself can be replaced now.
   */
  resize(now: number, peakResetMs: number, idle: boolean): number {
    const used = this.len < this.size ? this.len : this.size;
    if (used > this.peak) this.peak = used;
    let next = 0;
    let change = 0;
    if (this.size / 2 >= 1024 && this.peak < this.size / 2) {
      next = Math.max(1024, this.peak + 1);
      change = -1;
    } else if (this.size * 2 < 32 * 1024 && this.peak === this.size) {
      next = Math.min(16 * 1024, this.size * 2);
      change = 1;
    }
    if (peakResetMs >= 0 && now - this.peakResetAt >= peakResetMs) {
      this.peak = used;
      this.peakResetAt = now;
    }
    if (next > 0) {
      this.size = next;
      if (idle && this.len === 0) {
        this.buf = new Uint8Array(next);
        this.#spare = null;
      }
    }
    return change;
  }

  /** Returns a buffer obtained from take() for reuse once it has been written. */
  release(bytes: Uint8Array): void {
    // keep moderately sized buffers only, so one huge reply does not pin memory
    if (bytes.buffer.byteLength <= 1 << 20 && this.#spare === null) {
      this.#spare = new Uint8Array(bytes.buffer as ArrayBuffer);
    }
  }

  /** Appends raw bytes. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /** Appends a binary string verbatim (already RESP-encoded). */
  rawString(s: string): void {
    this.ensure(s.length);
    this.len += writeBinary(this.buf, this.len, s);
  }

  #line(prefix: number, s: string): void {
    this.ensure(s.length + 3);
    const b = this.buf;
    b[this.len++] = prefix;
    this.len += writeBinary(b, this.len, s);
    b[this.len++] = 13;
    b[this.len++] = 10;
  }

  #intLine(prefix: number, n: number): void {
    if (n >= 0 && n < 10) {
      this.ensure(4);
      const b = this.buf;
      b[this.len++] = prefix;
      b[this.len++] = 48 + n;
      b[this.len++] = 13;
      b[this.len++] = 10;
      return;
    }
    this.#line(prefix, String(n));
  }

  /** +OK style status reply. */
  simple(s: string): void {
    this.#line(43, s);
  }

  /** -ERR style error reply; `msg` includes the code, e.g. "ERR syntax error". */
  error(msg: string): void {
    // errors never carry newlines (Redis replaces them with spaces)
    this.#line(45, /[\r\n]/.test(msg) ? msg.replace(/[\r\n]+/g, " ") : msg);
  }

  /** :n integer reply (n may be a bigint for full int64 range). */
  int(n: number | bigint): void {
    if (typeof n === "bigint") this.#line(58, n.toString());
    else this.#intLine(58, n);
  }

  /** :n integer reply from the decimal text of n (already formatted, e.g. stored). */
  intText(digits: string): void {
    this.#line(58, digits);
  }

  /** $len bulk string from a binary string. */
  bulk(s: string): void {
    const n = s.length;
    this.ensure(n + 24);
    const b = this.buf;
    b[this.len++] = 36;
    if (n < 10) b[this.len++] = 48 + n;
    else this.len += writeBinary(b, this.len, String(n));
    b[this.len++] = 13;
    b[this.len++] = 10;
    this.len += writeBinary(b, this.len, s);
    b[this.len++] = 13;
    b[this.len++] = 10;
  }

  /** $len bulk string from bytes. */
  bulkBytes(bytes: Uint8Array): void {
    this.#line(36, String(bytes.length));
    this.ensure(bytes.length + CRLF_LEN);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    this.buf[this.len++] = 13;
    this.buf[this.len++] = 10;
  }

  /** Bulk string or null. */
  bulkOrNil(s: string | null | undefined): void {
    if (s === null || s === undefined) this.nil();
    else this.bulk(s);
  }

  /** Null bulk: $-1 in RESP2, _ in RESP3. */
  nil(): void {
    this.rawString(this.resp === 3 ? "_\r\n" : "$-1\r\n");
  }

  /** Null array: *-1 in RESP2, _ in RESP3. */
  nullArray(): void {
    this.rawString(this.resp === 3 ? "_\r\n" : "*-1\r\n");
  }

  /** Array header. */
  array(n: number): void {
    this.#intLine(42, n);
  }

  /** Map header of n pairs (RESP2: a flat array of 2n). */
  map(n: number): void {
    if (this.resp === 3) this.#intLine(37, n);
    else this.#intLine(42, n * 2);
  }

  /** Set header (RESP2: array). */
  set(n: number): void {
    this.#intLine(this.resp === 3 ? 126 : 42, n);
  }

  /** Push header (RESP2: array). */
  push(n: number): void {
    this.#intLine(this.resp === 3 ? 62 : 42, n);
  }

  /** Double: RESP3 ",d", RESP2 bulk string formatted like Redis 7.0 (%.17g). */
  double(d: number): void {
    if (this.resp === 3) {
      this.#line(44, d === Infinity ? "inf" : d === -Infinity ? "-inf" : formatDouble17g(d));
    } else this.bulk(formatDouble17g(d));
  }

  /** Boolean: RESP3 #t/#f, RESP2 :1/:0. */
  bool(v: boolean): void {
    if (this.resp === 3) this.rawString(v ? "#t\r\n" : "#f\r\n");
    else this.rawString(v ? ":1\r\n" : ":0\r\n");
  }

  /** Verbatim string (RESP3 "=len\r\ntxt:..."), bulk in RESP2. */
  verbatim(s: string, format = "txt"): void {
    if (this.resp === 3) {
      this.#line(61, String(s.length + 4));
      this.rawString(format + ":" + s + "\r\n");
    } else this.bulk(s);
  }

  /** Big number: RESP3 "(n", bulk in RESP2. */
  bigNumber(s: string): void {
    if (this.resp === 3) this.#line(40, s);
    else this.bulk(s);
  }

  /** Array of bulk strings. */
  bulkArray(items: readonly string[]): void {
    this.array(items.length);
    for (const s of items) this.bulk(s);
  }
}

/** Encodes argv as a RESP array of bulk strings (the command / propagation form). */
export function encodeCommand(argv: readonly string[]): Uint8Array {
  const size = encodedSize(argv);
  return encodeInto(new Uint8Array(size), argv);
}

/** Bytes of argv as a RESP command. */
function encodedSize(argv: readonly string[]): number {
  let size = 3 + decimalLength(argv.length);
  for (let i = 0; i < argv.length; i++) {
    const n = argv[i].length;
    size += 5 + decimalLength(n) + n;
  }
  return size;
}

let scratch = new Uint8Array(16 * 1024);

/**
 * encodeCommand into a buffer shared by every call: the view is valid only until the
 * next call (propagation encodes each command once and its sinks copy it), so the hot
 * path allocates no backing store per command.
 */
export function encodeCommandShared(argv: readonly string[]): Uint8Array {
  const size = encodedSize(argv);
  if (size > scratch.length) {
    if (size > 1 << 20) return encodeCommand(argv); // a huge one is not kept around
    scratch = new Uint8Array(Math.max(size, scratch.length * 2));
  }
  return encodeInto(scratch.subarray(0, size), argv);
}

/** Writes argv as a RESP command into `out`, which has exactly the size needed. */
function encodeInto(out: Uint8Array, argv: readonly string[]): Uint8Array {
  let pos = writeHeader(out, 0, 42, argv.length);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    pos = writeHeader(out, pos, 36, a.length);
    pos += writeBinary(out, pos, a);
    out[pos++] = 13;
    out[pos++] = 10;
  }
  return out;
}

function decimalLength(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : String(n).length;
}

/** `<prefix><n>\r\n` at `pos`; returns the position after it. */
function writeHeader(out: Uint8Array, pos: number, prefix: number, n: number): number {
  out[pos++] = prefix;
  if (n < 10) out[pos++] = 48 + n;
  else {
    const digits = String(n);
    for (let i = 0; i < digits.length; i++) out[pos++] = digits.charCodeAt(i);
  }
  out[pos++] = 13;
  out[pos++] = 10;
  return pos;
}
