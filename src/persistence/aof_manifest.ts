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

/** Parses manifest text (Redis's aofLoadManifestFromFile, with its error texts). */
export function parseManifest(text: string): AofManifest {
  const m = emptyManifest();
  if (text === "") throw new ManifestError("Found an empty AOF manifest");
  const lines = text.split("\n");
  // a final line without "\n" (fgets' view: the text after the last newline)
  const complete = text.endsWith("\n") ? lines.length - 1 : lines.length;
  for (let i = 0; i < complete; i++) {
    const raw = lines[i];
    if (raw.startsWith("#")) continue;
    if (raw.length + 1 > MANIFEST_MAX_LINE || (i === lines.length - 1 && !text.endsWith("\n"))) {
      throw new ManifestError("The AOF manifest file contains too long line");
    }
    const line = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
    if (line === "") throw new ManifestError("Invalid AOF manifest file format");
    const words = splitArgs(line);
    if (words === null || words.length < 6 || words.length % 2 !== 0) {
      throw new ManifestError("Invalid AOF manifest file format");
    }
    let name: string | undefined;
    let seq = 0;
    let type = "";
    for (let w = 0; w < words.length; w += 2) {
      const k = words[w].toLowerCase();
      if (k === "file") {
        name = words[w + 1];
        if (name.includes("/")) throw new ManifestError("File can't be a path, just a filename");
      } else if (k === "seq") seq = Number.parseInt(words[w + 1], 10) || 0;
      else if (k === "type") type = words[w + 1].charAt(0);
    }
    if (name === undefined || seq === 0 || type === "") {
      throw new ManifestError("Invalid AOF manifest file format");
    }
    const info: AofFileInfo = { name, seq, type: type as AofFileInfo["type"] };
    if (type === "b") {
      if (m.base !== null) throw new ManifestError("Found duplicate base file information");
      m.base = info;
      m.baseSeq = seq;
    } else if (type === "h") {
      m.history.push(info);
    } else if (type === "i") {
      if (seq <= m.incrSeq) throw new ManifestError("Found a non-monotonic sequence number");
      m.incr.push(info);
      m.incrSeq = seq;
    } else {
      throw new ManifestError("Unknown AOF file type");
    }
  }
  return m;
}

/** Redis's MANIFEST_MAX_LINE */
const MANIFEST_MAX_LINE = 1024;

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
