/**
 * Geohashing as Redis does it (Redis: geohash.c, geohash_helper.c): 26 bits per axis
 * interleaved into a 52-bit integer used as the sorted set score (latitude on even
 * bits, longitude on odd bits, latitude range ±85.05112878), the neighbour boxes that
 * cover a search shape, and haversine distances with Redis's earth radius.
 */

/** Steps (bits per axis) of a stored score. */
export const GEO_STEP_MAX = 26;
/** Latitude limits of the Web Mercator projection Redis uses. */
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const D_R = Math.PI / 180.0;
const TWO32 = 4294967296;

/** A geohash: `bits` holds 2*step bits. */
export interface GeoHashBits {
  bits: number;
  step: number;
}

/** A [min, max] interval. */
export interface GeoRange {
  min: number;
  max: number;
}

/** A decoded geohash cell. */
export interface GeoArea {
  longitude: GeoRange;
  latitude: GeoRange;
}

/** A search shape: circle (radius) or box (width, height), in `conversion` units. */
export interface GeoShape {
  type: "radius" | "box";
  /** centre: longitude, latitude */
  xy: [number, number];
  /** meters per unit */
  conversion: number;
  radius: number;
  width: number;
  height: number;
}

const LONG_RANGE: GeoRange = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
const LAT_RANGE: GeoRange = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };

function spread16(v: number): number {
  let x = v & 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x >>> 0;
}

function squash32(v: number): number {
  let x = v & 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  x = (x | (x >>> 8)) & 0x0000ffff;
  return x;
}

/** Interleaves x (even bits) and y (odd bits), each < 2^27. */
function interleave(x: number, y: number): number {
  const lo = (spread16(x) | (spread16(y) << 1)) >>> 0;
  const hi = (spread16(x >>> 16) | (spread16(y >>> 16) << 1)) >>> 0;
  return hi * TWO32 + lo;
}

/** Splits interleaved bits back into [x (even bits), y (odd bits)]. */
function deinterleave(bits: number): [number, number] {
  const lo = bits % TWO32;
  const hi = Math.floor(bits / TWO32);
  const x = squash32(lo) | (squash32(hi) << 16);
  const y = squash32(lo >>> 1) | (squash32(hi >>> 1) << 16);
  return [x >>> 0, y >>> 0];
}

/** Redis's geohashEncode; null when out of range. */
export function geohashEncode(
  longRange: GeoRange,
  latRange: GeoRange,
  longitude: number,
  latitude: number,
  step: number,
): GeoHashBits | null {
  if (
    longitude > GEO_LONG_MAX || longitude < GEO_LONG_MIN || latitude > GEO_LAT_MAX ||
    latitude < GEO_LAT_MIN
  ) return null;
  if (
    latitude < latRange.min || latitude > latRange.max || longitude < longRange.min ||
    longitude > longRange.max
  ) return null;
  let latOffset = (latitude - latRange.min) / (latRange.max - latRange.min);
  let longOffset = (longitude - longRange.min) / (longRange.max - longRange.min);
  latOffset *= 2 ** step;
  longOffset *= 2 ** step;
  return { bits: interleave(Math.trunc(latOffset), Math.trunc(longOffset)), step };
}

/** Encodes WGS84 coordinates at `step` with Redis's ranges. */
export function geohashEncodeWGS84(longitude: number, latitude: number, step: number) {
  return geohashEncode(LONG_RANGE, LAT_RANGE, longitude, latitude, step);
}

/** The 52-bit score of a hash (Redis's geohashAlign52Bits). */
export function align52Bits(h: GeoHashBits): number {
  return h.bits * 2 ** (52 - h.step * 2);
}

/** Redis's geohashDecode: the cell a hash covers. */
export function geohashDecode(longRange: GeoRange, latRange: GeoRange, h: GeoHashBits): GeoArea {
  const [ilato, ilono] = deinterleave(h.bits);
  const latScale = latRange.max - latRange.min;
  const longScale = longRange.max - longRange.min;
  const div = 2 ** h.step;
  return {
    latitude: {
      min: latRange.min + (ilato * 1.0 / div) * latScale,
      max: latRange.min + ((ilato + 1) * 1.0 / div) * latScale,
    },
    longitude: {
      min: longRange.min + (ilono * 1.0 / div) * longScale,
      max: longRange.min + ((ilono + 1) * 1.0 / div) * longScale,
    },
  };
}

function areaCenter(area: GeoArea): [number, number] {
  let x = (area.longitude.min + area.longitude.max) / 2;
  if (x > GEO_LONG_MAX) x = GEO_LONG_MAX;
  if (x < GEO_LONG_MIN) x = GEO_LONG_MIN;
  let y = (area.latitude.min + area.latitude.max) / 2;
  if (y > GEO_LAT_MAX) y = GEO_LAT_MAX;
  if (y < GEO_LAT_MIN) y = GEO_LAT_MIN;
  return [x, y];
}

/** Longitude and latitude of a stored score (Redis's decodeGeohash). */
export function decodeScore(score: number): [number, number] {
  const bits = Math.trunc(score);
  return areaCenter(geohashDecode(LONG_RANGE, LAT_RANGE, { bits, step: GEO_STEP_MAX }));
}

/** The score GEOADD stores for a position. */
export function encodeScore(longitude: number, latitude: number): number {
  return align52Bits(geohashEncodeWGS84(longitude, latitude, GEO_STEP_MAX)!);
}

const ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz";

/** The 11-character standard geohash GEOHASH prints for a stored score. */
export function standardGeohash(score: number): string {
  const [lon, lat] = decodeScore(score);
  const h = geohashEncode({ min: -180, max: 180 }, { min: -90, max: 90 }, lon, lat, 26);
  const bits = BigInt(h === null ? 0 : h.bits);
  let out = "";
  for (let i = 0; i < 11; i++) {
    const idx = i === 10 ? 0 : Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn);
    out += ALPHABET[idx];
  }
  return out;
}

function degRad(a: number): number {
  return a * D_R;
}

function radDeg(a: number): number {
  return a / D_R;
}

function latDistance(lat1d: number, lat2d: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2d) - degRad(lat1d));
}

/** Haversine distance in meters (Redis's geohashGetDistance). */
export function geoDistance(lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  const lon1r = degRad(lon1d);
  const lon2r = degRad(lon2d);
  const v = Math.sin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1d, lat2d);
  const lat1r = degRad(lat1d);
  const lat2r = degRad(lat2d);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/** Distance from the shape's centre if the point lies inside the shape, else null. */
export function distanceIfInShape(shape: GeoShape, lon: number, lat: number): number | null {
  const [x1, y1] = shape.xy;
  if (shape.type === "radius") {
    const d = geoDistance(x1, y1, lon, lat);
    return d > shape.radius * shape.conversion ? null : d;
  }
  const width = shape.width * shape.conversion;
  const height = shape.height * shape.conversion;
  if (latDistance(lat, y1) > height / 2) return null;
  if (geoDistance(lon, lat, x1, lat) > width / 2) return null;
  return geoDistance(x1, y1, lon, lat);
}

function estimateStepsByRadius(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

function boundingBox(shape: GeoShape): [number, number, number, number] {
  const [longitude, latitude] = shape.xy;
  const height = shape.conversion * (shape.type === "radius" ? shape.radius : shape.height / 2);
  const width = shape.conversion * (shape.type === "radius" ? shape.radius : shape.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const longDeltaTop = radDeg(
    width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(latitude + latDelta)),
  );
  const longDeltaBottom = radDeg(
    width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(latitude - latDelta)),
  );
  const south = latitude < 0;
  return [
    south ? longitude - longDeltaBottom : longitude - longDeltaTop,
    latitude - latDelta,
    south ? longitude + longDeltaBottom : longitude + longDeltaTop,
    latitude + latDelta,
  ];
}

const EVEN = 0x5555555555555555n;
const ODD = 0xaaaaaaaaaaaaaaaan;

function move(h: GeoHashBits, dx: number, dy: number): GeoHashBits {
  let bits = BigInt(h.bits);
  const shift = BigInt(64 - h.step * 2);
  if (dx !== 0) {
    let x = bits & ODD;
    const y = bits & EVEN;
    const zz = EVEN >> shift;
    if (dx > 0) x = x + (zz + 1n);
    else {
      x = x | zz;
      x = x - (zz + 1n);
    }
    x &= ODD >> shift;
    bits = x | y;
  }
  if (dy !== 0) {
    const x = bits & ODD;
    let y = bits & EVEN;
    const zz = ODD >> shift;
    if (dy > 0) y = y + (zz + 1n);
    else {
      y = y | zz;
      y = y - (zz + 1n);
    }
    y &= EVEN >> shift;
    bits = x | y;
  }
  return { bits: Number(bits & 0xffffffffffffffffn), step: h.step };
}

/**
 * The up to nine geohash boxes to scan for a shape, in Redis's order (centre, N, S,
 * E, W, NE, NW, SE, SW); useless ones are null.
 */
export function areasForShape(shape: GeoShape): Array<GeoHashBits | null> {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(shape);
  const [longitude, latitude] = shape.xy;
  let radiusMeters = shape.type === "radius"
    ? shape.radius
    : Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2));
  radiusMeters *= shape.conversion;
  let steps = estimateStepsByRadius(radiusMeters, latitude);
  let hash = geohashEncode(LONG_RANGE, LAT_RANGE, longitude, latitude, steps)!;
  const neighbours = (h: GeoHashBits) => ({
    north: move(h, 0, 1),
    south: move(h, 0, -1),
    east: move(h, 1, 0),
    west: move(h, -1, 0),
    northEast: move(h, 1, 1),
    northWest: move(h, -1, 1),
    southEast: move(h, 1, -1),
    southWest: move(h, -1, -1),
  });
  let n = neighbours(hash);
  let area = geohashDecode(LONG_RANGE, LAT_RANGE, hash);
  const north = geohashDecode(LONG_RANGE, LAT_RANGE, n.north);
  const south = geohashDecode(LONG_RANGE, LAT_RANGE, n.south);
  const east = geohashDecode(LONG_RANGE, LAT_RANGE, n.east);
  const west = geohashDecode(LONG_RANGE, LAT_RANGE, n.west);
  const decrease = north.latitude.max < maxLat || south.latitude.min > minLat ||
    east.longitude.max < maxLon || west.longitude.min > minLon;
  if (steps > 1 && decrease) {
    steps--;
    hash = geohashEncode(LONG_RANGE, LAT_RANGE, longitude, latitude, steps)!;
    n = neighbours(hash);
    area = geohashDecode(LONG_RANGE, LAT_RANGE, hash);
  }
  const out: Array<GeoHashBits | null> = [
    hash,
    n.north,
    n.south,
    n.east,
    n.west,
    n.northEast,
    n.northWest,
    n.southEast,
    n.southWest,
  ];
  if (steps >= 2) {
    const zero = (...idx: number[]) => idx.forEach((i) => out[i] = null);
    if (area.latitude.min < minLat) zero(2, 8, 7);
    if (area.latitude.max > maxLat) zero(1, 5, 6);
    if (area.longitude.min < minLon) zero(4, 8, 6);
    if (area.longitude.max > maxLon) zero(3, 7, 5);
  }
  return out;
}

/** The score interval [min, max) of the cells inside box `h`. */
export function scoresOfBox(h: GeoHashBits): [number, number] {
  return [align52Bits(h), align52Bits({ bits: h.bits + 1, step: h.step })];
}
