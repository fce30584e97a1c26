/**
 * The Redis 7 multi-part AOF manifest (Redis: aof.c aofInfo*, aofManifest*): one base
 * file, history files awaiting deletion, and incremental files, in
 * `<dir>/<appenddirname>/<appendfilename>.manifest`, one line per file:
 * `file appendonly.aof.1.base.rdb seq 1 type b`.
 */
import { splitArgs } from "../resp/parser.ts";

/** One file of the manifest. */
export interface AofFileInfo {
  name: string;
  seq: number;
  type: "b" | "h" | "i";
}

/** A parsed manifest. */
export interface AofManifest {
  base: AofFileInfo | null;
  incr: AofFileInfo[];
  history: AofFileInfo[];
  /** the highest sequence numbers in use */
  baseSeq: number;
  incrSeq: number;
}

/** A malformed manifest (startup refuses to continue). */
export class ManifestError extends Error {}

/** An empty manifest. */
export function emptyManifest(): AofManifest {
  return { base: null, incr: [], history: [], baseSeq: 0, incrSeq: 0 };
}

/** Parses manifest text. */
export function parseManifest(text: string): AofManifest {
  const m = emptyManifest();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const words = splitArgs(line);
    if (words === null || words.length % 2 !== 0) {
      throw new ManifestError(`Invalid AOF manifest file format (line ${i + 1})`);
    }
    const fields = new Map<string, string>();
    for (let w = 0; w < words.length; w += 2) fields.set(words[w], words[w + 1]);
    const name = fields.get("file");
    const seq = Number(fields.get("seq"));
    const type = fields.get("type");
    if (
      name === undefined || name === "" || name.includes("/") || !Number.isInteger(seq) ||
      (type !== "b" && type !== "h" && type !== "i")
    ) {
      throw new ManifestError(`Invalid AOF manifest file format (line ${i + 1})`);
    }
    const info: AofFileInfo = { name, seq, type };
    if (type === "b") {
      if (m.base !== null) throw new ManifestError("Found duplicate base file information");
      m.base = info;
      m.baseSeq = seq;
    } else if (type === "h") {
      m.history.push(info);
    } else {
      if (seq <= m.incrSeq) throw new ManifestError("Found a non-monotonic sequence number");
      m.incr.push(info);
      m.incrSeq = seq;
    }
  }
  return m;
}

function quoteName(name: string): string {
  return /^[\x21-\x7e]+$/.test(name) && !/["'\\]/.test(name) ? name : JSON.stringify(name);
}

/** Manifest text in Redis's order: base, history, incr. */
export function formatManifest(m: AofManifest): string {
  let out = "";
  const line = (f: AofFileInfo) => `file ${quoteName(f.name)} seq ${f.seq} type ${f.type}\n`;
  if (m.base !== null) out += line(m.base);
  for (const h of m.history) out += line(h);
  for (const f of m.incr) out += line(f);
  return out;
}

/** `appendonly.aof.<seq>.base.rdb` */
export function baseFileName(appendfilename: string, seq: number, rdb = true): string {
  return `${appendfilename}.${seq}.base.${rdb ? "rdb" : "aof"}`;
}

/** `appendonly.aof.<seq>.incr.aof` */
export function incrFileName(appendfilename: string, seq: number): string {
  return `${appendfilename}.${seq}.incr.aof`;
}
