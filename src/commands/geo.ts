/**
 * Geospatial commands (Redis: geo.c). Positions are sorted set members whose score is
 * the 52-bit geohash (store/geohash.ts); GEOADD runs and propagates as ZADD.
 */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { NIL, ZSetValue } from "../store/zset.ts";
import {
  areasForShape,
  decodeScore,
  distanceIfInShape,
  encodeScore,
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  GEO_LONG_MAX,
  GEO_LONG_MIN,
  geoDistance,
  type GeoShape,
  scoresOfBox,
  standardGeohash,
} from "../store/geohash.ts";
import { zaddCommand } from "./zset_range.ts";
import { COLL_ERR, longArg, parseDouble, zsetLimits } from "./zset_args.ts";

/** A point found by a search. */
interface GeoPoint {
  member: string;
  score: number;
  dist: number;
  lon: number;
  lat: number;
}

/**
 * C's "%.<prec>f": like toFixed, but an exact tie rounds to even as glibc does
 * (toFixed rounds it away from zero).
 */
function printfFixed(d: number, prec: number): string {
  const rounded = d.toFixed(prec);
  const exact = d.toFixed(Math.min(100, prec + 40));
  const dot = exact.indexOf(".");
  const tail = exact.slice(dot + 1 + prec);
  if (tail[0] !== "5" || !/^50*$/.test(tail)) return rounded;
  const kept = exact.slice(0, dot + 1 + prec).replace(/\.$/, "");
  return (kept.charCodeAt(kept.length - 1) - 48) % 2 === 0 ? kept : rounded;
}

/** "%.17Lf" with trailing zeros removed (Redis's LD_STR_HUMAN). */
function humanDouble(d: number): string {
  let s = printfFixed(d, 17);
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s === "-0" ? "0" : s;
}

/** Redis's addReplyHumanLongDouble: a bulk string in RESP2, a double in RESP3. */
function replyHuman(c: Client, d: number): void {
  const s = humanDouble(d);
  if (c.reply.resp === 2) c.reply.bulk(s);
  else c.reply.rawString(`,${s}\r\n`);
}

/** Redis 7.0's addReplyDoubleDistance: "%.4f" as a bulk string. */
function replyDistance(c: Client, d: number): void {
  c.reply.bulk(printfFixed(d, 4));
}

/** Parses a longitude,latitude pair at argv[i]; null after an error reply. */
function lonLatArg(c: Client, argv: string[], i: number): [number, number] | null {
  const lon = parseDouble(argv[i]);
  if (lon === null) {
    c.error(ERR.notFloat);
    return null;
  }
  const lat = parseDouble(argv[i + 1]);
  if (lat === null) {
    c.error(ERR.notFloat);
    return null;
  }
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    c.error(`ERR invalid longitude,latitude pair ${printfF(lon)},${printfF(lat)}`);
    return null;
  }
  return [lon, lat];
}

/** C's "%f" for a finite or infinite double. */
function printfF(d: number): string {
  if (!Number.isFinite(d)) return d > 0 ? "inf" : "-inf";
  if (Math.abs(d) < 1e21) return d.toFixed(6);
  return BigInt(Math.trunc(d)).toString() + ".000000";
}

/** Meters per unit; null after an error reply. */
function unitArg(c: Client, u: string): number | null {
  switch (u.toLowerCase()) {
    case "m":
      return 1;
    case "km":
      return 1000;
    case "ft":
      return 0.3048;
    case "mi":
      return 1609.34;
  }
  c.error("ERR unsupported unit provided. please use M, KM, FT, MI");
  return null;
}

function geoadd(c: Client, argv: string[]): void {
  let nx = false, xx = false;
  let longIdx = 2;
  for (; longIdx < argv.length; longIdx++) {
    const opt = argv[longIdx].toLowerCase();
    if (opt === "nx") nx = true;
    else if (opt === "xx") xx = true;
    else if (opt !== "ch") break;
  }
  if ((argv.length - longIdx) % 3 !== 0 || (xx && nx)) return c.error(ERR.syntax);
  const zargv = ["zadd", ...argv.slice(1, longIdx)];
  for (let i = longIdx; i < argv.length; i += 3) {
    const xy = lonLatArg(c, argv, i);
    if (xy === null) return;
    zargv.push(String(encodeScore(xy[0], xy[1])), argv[i + 2]);
  }
  c.rewrite(zargv);
  zaddCommand(c, zargv);
}

/** The zset at `key` for reading: undefined if missing, null after WRONGTYPE. */
function readGeo(c: Client, key: string): ZSetValue | undefined | null {
  const v = c.db.get(key);
  if (v === undefined) return undefined;
  if (!(v instanceof ZSetValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return v;
}

function geopos(c: Client, argv: string[]): void {
  const z = readGeo(c, argv[1]);
  if (z === null) return;
  c.reply.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const s = z?.score(argv[i]);
    if (s === undefined) {
      c.reply.nullArray();
      continue;
    }
    const [lon, lat] = decodeScore(s);
    c.reply.array(2);
    replyHuman(c, lon);
    replyHuman(c, lat);
  }
}

function geohash(c: Client, argv: string[]): void {
  const z = readGeo(c, argv[1]);
  if (z === null) return;
  c.reply.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const s = z?.score(argv[i]);
    if (s === undefined) c.reply.nil();
    else c.reply.bulk(standardGeohash(s));
  }
}

function geodist(c: Client, argv: string[]): void {
  let toMeter = 1;
  if (argv.length === 5) {
    const u = unitArg(c, argv[4]);
    if (u === null) return;
    toMeter = u;
  } else if (argv.length > 5) return c.error(ERR.syntax);
  const z = readGeo(c, argv[1]);
  if (z === null) return;
  const s1 = z?.score(argv[2]);
  const s2 = z?.score(argv[3]);
  if (s1 === undefined || s2 === undefined) return c.reply.nil();
  const [x1, y1] = decodeScore(s1);
  const [x2, y2] = decodeScore(s2);
  replyDistance(c, geoDistance(x1, y1, x2, y2) / toMeter);
}

const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

/** Points of `z` inside the shape, in Redis's scan order; stops at `limit` (0 = all). */
function pointsInShape(z: ZSetValue, shape: GeoShape, limit: number): GeoPoint[] {
  const out: GeoPoint[] = [];
  const boxes = areasForShape(shape);
  let last = 0;
  for (let i = 0; i < boxes.length; i++) {
    const box = boxes[i];
    if (box === null) continue;
    const prev = boxes[last];
    if (last !== 0 && prev !== null && prev.bits === box.bits && prev.step === box.step) continue;
    if (out.length > 0 && limit !== 0 && out.length >= limit) break;
    const [min, max] = scoresOfBox(box);
    for (
      let n = z.firstInScoreRange({ min, max, minex: false, maxex: true });
      n !== NIL && z.scoreOf(n) < max;
      n = z.next(n)
    ) {
      const score = z.scoreOf(n);
      const [lon, lat] = decodeScore(score);
      const dist = distanceIfInShape(shape, lon, lat);
      if (dist !== null) out.push({ member: z.member(n), score, dist, lon, lat });
      if (out.length > 0 && limit !== 0 && out.length >= limit) break;
    }
    last = i;
  }
  return out;
}

/** Redis's georadiusGeneric for GEORADIUS*, GEOSEARCH and GEOSEARCHSTORE. */
function geoSearch(c: Client, argv: string[], srcIdx: number, flags: number): void {
  const v = c.db.get(argv[srcIdx]);
  if (v !== undefined && !(v instanceof ZSetValue)) return c.error(ERR.wrongType);
  const z = v as ZSetValue | undefined;
  const shape: GeoShape = {
    type: "radius",
    xy: [0, 0],
    conversion: 1,
    radius: 0,
    width: 0,
    height: 0,
  };
  let storeKey: string | null = null;
  let storeDist = false;
  let baseArgs: number;
  const distance = (i: number): boolean => {
    const d = parseDouble(argv[i]);
    if (d === null) {
      c.error("ERR need numeric radius");
      return false;
    }
    if (d < 0) {
      c.error("ERR radius cannot be negative");
      return false;
    }
    const u = unitArg(c, argv[i + 1]);
    if (u === null) return false;
    shape.type = "radius";
    shape.radius = d;
    shape.conversion = u;
    return true;
  };
  if (flags & RADIUS_COORDS) {
    baseArgs = 6;
    const xy = lonLatArg(c, argv, 2);
    if (xy === null) return;
    shape.xy = xy;
    if (!distance(4)) return;
  } else if ((flags & RADIUS_MEMBER) && z === undefined) {
    baseArgs = 5;
  } else if (flags & RADIUS_MEMBER) {
    baseArgs = 5;
    const s = z!.score(argv[2]);
    if (s === undefined) return c.error(COLL_ERR.geoMember);
    shape.xy = decodeScore(s);
    if (!distance(3)) return;
  } else {
    baseArgs = 2;
    if (flags & GEOSEARCHSTORE) {
      baseArgs = 3;
      storeKey = argv[1];
    }
  }

  let withDist = false, withHash = false, withCoord = false;
  let fromMember = false, fromLoc = false, byRadius = false, byBox = false;
  let sort: "none" | "asc" | "desc" = "none";
  let any = false;
  let count = 0;
  const remaining = argv.length - baseArgs;
  for (let i = 0; i < remaining; i++) {
    const at = baseArgs + i;
    const arg = argv[at].toLowerCase();
    if (arg === "withdist") withDist = true;
    else if (arg === "withhash") withHash = true;
    else if (arg === "withcoord") withCoord = true;
    else if (arg === "any") any = true;
    else if (arg === "asc") sort = "asc";
    else if (arg === "desc") sort = "desc";
    else if (arg === "count" && i + 1 < remaining) {
      const n = longArg(c, argv[at + 1]);
      if (n === null) return;
      if (n <= 0) return c.error("ERR COUNT must be > 0");
      count = n;
      i++;
    } else if (
      (arg === "store" || arg === "storedist") && i + 1 < remaining &&
      !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)
    ) {
      storeKey = argv[at + 1];
      storeDist = arg === "storedist";
      i++;
    } else if (arg === "storedist" && (flags & GEOSEARCH) && (flags & GEOSEARCHSTORE)) {
      storeDist = true;
    } else if (arg === "frommember" && i + 1 < remaining && (flags & GEOSEARCH) && !fromLoc) {
      if (z !== undefined) {
        const s = z.score(argv[at + 1]);
        if (s === undefined) return c.error(COLL_ERR.geoMember);
        shape.xy = decodeScore(s);
      }
      fromMember = true;
      i++;
    } else if (
      arg === "fromlonlat" && i + 2 < remaining && (flags & GEOSEARCH) && !fromMember
    ) {
      const xy = lonLatArg(c, argv, at + 1);
      if (xy === null) return;
      shape.xy = xy;
      fromLoc = true;
      i += 2;
    } else if (arg === "byradius" && i + 2 < remaining && (flags & GEOSEARCH) && !byBox) {
      if (!distance(at + 1)) return;
      byRadius = true;
      i += 2;
    } else if (arg === "bybox" && i + 3 < remaining && (flags & GEOSEARCH) && !byRadius) {
      const w = parseDouble(argv[at + 1]);
      if (w === null) return c.error("ERR need numeric width");
      const h = parseDouble(argv[at + 2]);
      if (h === null) return c.error("ERR need numeric height");
      if (h < 0 || w < 0) return c.error("ERR height or width cannot be negative");
      const u = unitArg(c, argv[at + 3]);
      if (u === null) return;
      shape.type = "box";
      shape.width = w;
      shape.height = h;
      shape.conversion = u;
      byBox = true;
      i += 3;
    } else {
      return c.error(ERR.syntax);
    }
  }
  if (storeKey !== null && (withDist || withHash || withCoord)) {
    const what = flags & GEOSEARCHSTORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS";
    return c.error(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  }
  if ((flags & GEOSEARCH) && !(fromMember || fromLoc)) {
    return c.error(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]}`);
  }
  if ((flags & GEOSEARCH) && !(byRadius || byBox)) {
    return c.error(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`);
  }
  if (any && count === 0) return c.error("ERR the ANY argument requires COUNT argument");
  if (z === undefined) {
    if (storeKey !== null) {
      if (c.db.delete(storeKey)) c.modified(storeKey, "g", "del");
      return c.reply.int(0);
    }
    return c.reply.array(0);
  }
  if (count !== 0 && sort === "none" && !any) sort = "asc";

  const points = pointsInShape(z, shape, any ? count : 0);
  if (points.length === 0 && storeKey === null) return c.reply.array(0);
  const returned = count === 0 || points.length < count ? points.length : count;
  if (sort === "asc") points.sort((a, b) => a.dist - b.dist);
  else if (sort === "desc") points.sort((a, b) => b.dist - a.dist);

  if (storeKey === null) {
    const options = (withDist ? 1 : 0) + (withHash ? 1 : 0) + (withCoord ? 1 : 0);
    c.reply.array(returned);
    for (let i = 0; i < returned; i++) {
      const p = points[i];
      if (options > 0) c.reply.array(options + 1);
      c.reply.bulk(p.member);
      if (withDist) replyDistance(c, p.dist / shape.conversion);
      if (withHash) c.reply.int(p.score);
      if (withCoord) {
        c.reply.array(2);
        replyHuman(c, p.lon);
        replyHuman(c, p.lat);
      }
    }
    return;
  }
  if (returned > 0) {
    const out = new ZSetValue();
    let maxLen = 0;
    for (let i = 0; i < returned; i++) {
      const p = points[i];
      out.listpack = false;
      out.add(p.member, storeDist ? p.dist / shape.conversion : p.score);
      if (p.member.length > maxLen) maxLen = p.member.length;
    }
    const limits = zsetLimits(c);
    out.listpack = out.size <= limits.maxEntries && maxLen <= limits.maxValue;
    c.db.set(storeKey, out);
    c.modified(storeKey, "z", flags & GEOSEARCH ? "geosearchstore" : "georadiusstore");
    c.server.dirty += returned - 1;
  } else if (c.db.delete(storeKey)) {
    c.modified(storeKey, "g", "del");
  }
  c.reply.int(returned);
}

/** Key positions of GEORADIUS/GEORADIUSBYMEMBER: the source and any STORE key. */
function radiusKeys(argv: string[]): number[] {
  const out = [1];
  for (let i = 2; i < argv.length - 1; i++) {
    const a = argv[i].toLowerCase();
    if (a === "store" || a === "storedist") out.push(i + 1);
  }
  return out;
}

const cat = ["geo"];
const k1: [number, number, number] = [1, 1, 1];

/** The geo command specs. */
export const commands: CommandSpec[] = [
  cmd("geo", "geoadd", -5, "write denyoom", geoadd, { keys: k1, categories: cat }),
  cmd("geo", "geopos", -2, "readonly", geopos, { keys: k1, categories: cat }),
  cmd("geo", "geohash", -2, "readonly", geohash, { keys: k1, categories: cat }),
  cmd("geo", "geodist", -4, "readonly", geodist, { keys: k1, categories: cat }),
  cmd(
    "geo",
    "georadius",
    -6,
    "write denyoom movablekeys",
    (c, a) => geoSearch(c, a, 1, RADIUS_COORDS),
    { keys: k1, getKeys: radiusKeys, categories: cat },
  ),
  cmd(
    "geo",
    "georadius_ro",
    -6,
    "readonly",
    (c, a) => geoSearch(c, a, 1, RADIUS_COORDS | RADIUS_NOSTORE),
    { keys: k1, categories: cat },
  ),
  cmd(
    "geo",
    "georadiusbymember",
    -5,
    "write denyoom movablekeys",
    (c, a) => geoSearch(c, a, 1, RADIUS_MEMBER),
    { keys: k1, getKeys: radiusKeys, categories: cat },
  ),
  cmd(
    "geo",
    "georadiusbymember_ro",
    -5,
    "readonly",
    (c, a) => geoSearch(c, a, 1, RADIUS_MEMBER | RADIUS_NOSTORE),
    { keys: k1, categories: cat },
  ),
  cmd("geo", "geosearch", -7, "readonly", (c, a) => geoSearch(c, a, 1, GEOSEARCH), {
    keys: k1,
    categories: cat,
  }),
  cmd(
    "geo",
    "geosearchstore",
    -8,
    "write denyoom",
    (c, a) => geoSearch(c, a, 2, GEOSEARCH | GEOSEARCHSTORE),
    { keys: [1, 2, 1], categories: cat },
  ),
];
