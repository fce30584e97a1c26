/**
 * LOLWUT (Redis: lolwut.c, lolwut5.c, lolwut6.c): computer art and the server version.
 * VERSION 5 draws Georg Nees' "Schotter" with braille dots, VERSION 6 a city skyline in
 * ANSI gray levels; any other version (and the default, 7) replies with the version only.
 *
 * Redis computes the art in C `float`s; the deterministic parts (canvas size, square
 * positions of the first two rows) go through Math.fround so that they match its output.
 */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import { REDIS_VERSION } from "../version.ts";

const f32 = Math.fround;
const RAND_MAX = 2147483647;

/** A random integer in [0, RAND_MAX], like glibc's rand(). */
function rand(): number {
  return Math.floor(Math.random() * (RAND_MAX + 1));
}

/** A grid of small-integer colors; reads and writes outside it are ignored (color 0). */
class Canvas {
  readonly pixels: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: number) {
    this.pixels = new Uint8Array(width * height).fill(background);
  }

  draw(x: number, y: number, color: number): void {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return;
    this.pixels[x + y * this.width] = color;
  }

  get(x: number, y: number): number {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return 0;
    return this.pixels[x + y * this.width];
  }

  /** Bresenham line from (x1, y1) to (x2, y2), both ends included. */
  line(x1: number, y1: number, x2: number, y2: number, color: number): void {
    const dx = Math.abs(x2 - x1);
    const dy = Math.abs(y2 - y1);
    const sx = x1 < x2 ? 1 : -1;
    const sy = y1 < y2 ? 1 : -1;
    let err = dx - dy;
    for (;;) {
      this.draw(x1, y1, color);
      if (x1 === x2 && y1 === y2) return;
      const e2 = err * 2;
      if (e2 > -dy) {
        err -= dy;
        x1 += sx;
      }
      if (e2 < dx) {
        err += dx;
        y1 += sy;
      }
    }
  }

  /** The outline of a square centred on (x, y), `side` wide, rotated by `angle` radians. */
  square(x: number, y: number, side: number, angle: number, color: number): void {
    // Corners lie on a circle whose radius is the side over sqrt(2).
    const radius = Math.round(f32(side / 1.4142135623));
    const px: number[] = [];
    const py: number[] = [];
    let k = f32(Math.PI / 4 + angle);
    for (let j = 0; j < 4; j++) {
      px.push(Math.round(Math.sin(k) * radius + x));
      py.push(Math.round(Math.cos(k) * radius + y));
      k = f32(k + Math.PI / 2);
    }
    for (let j = 0; j < 4; j++) {
      this.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
    }
  }
}

/** C's float-to-int conversion: truncation toward zero. */
function toInt(v: number): number {
  return Math.trunc(v);
}

/** A random float in [0, 1] computed as Redis does: (float)rand() / (float)RAND_MAX. */
function randUnit(): number {
  return f32(f32(rand()) / f32(RAND_MAX));
}

/** Georg Nees' Schotter: rows of squares, more disordered the lower they are. */
function drawSchotter(cols: number, perRow: number, perCol: number): Canvas {
  const width = cols * 2;
  const padding = width > 4 ? 2 : 0;
  const side = f32(f32(width - padding * 2) / perRow);
  const height = toInt(f32(f32(side * perCol) + padding * 2));
  const canvas = new Canvas(width, height, 0);
  const half = f32(side / 2);
  for (let y = 0; y < perCol; y++) {
    for (let x = 0; x < perRow; x++) {
      let sx = toInt(f32(f32(f32(x * side) + half) + padding));
      let sy = toInt(f32(f32(f32(y * side) + half) + padding));
      let angle = 0;
      if (y > 1) {
        const shift = () => f32(f32(randUnit() / perCol) * y);
        let r1 = shift();
        let r2 = shift();
        let r3 = shift();
        if (rand() % 2) r1 = -r1;
        if (rand() % 2) r2 = -r2;
        if (rand() % 2) r3 = -r3;
        angle = r1;
        sx = toInt(f32(sx + f32(f32(r2 * side) / 3)));
        sy = toInt(f32(sy + f32(f32(r3 * side) / 3)));
      }
      canvas.square(sx, sy, side, angle, 1);
    }
  }
  return canvas;
}

/** Braille characters U+2800..U+28FF as UTF-8 binary strings, by dot pattern. */
const BRAILLE: string[] = Array.from({ length: 256 }, (_, dots) => {
  const code = 0x2800 + dots;
  return String.fromCharCode(
    0xe0 | (code >> 12),
    0x80 | ((code >> 6) & 0x3f),
    0x80 | (code & 0x3f),
  );
});

/** One braille character per 2x4 block of pixels, rows separated by newlines. */
function renderBraille(canvas: Canvas): string {
  const parts: string[] = [];
  for (let y = 0; y < canvas.height; y += 4) {
    for (let x = 0; x < canvas.width; x += 2) {
      // Braille dot numbering: 1-2-3 down the left column, 4-5-6 down the right,
      // then 7 and 8 for the bottom row.
      let dots = 0;
      if (canvas.get(x, y)) dots |= 1 << 0;
      if (canvas.get(x, y + 1)) dots |= 1 << 1;
      if (canvas.get(x, y + 2)) dots |= 1 << 2;
      if (canvas.get(x + 1, y)) dots |= 1 << 3;
      if (canvas.get(x + 1, y + 1)) dots |= 1 << 4;
      if (canvas.get(x + 1, y + 2)) dots |= 1 << 5;
      if (canvas.get(x, y + 3)) dots |= 1 << 6;
      if (canvas.get(x + 1, y + 3)) dots |= 1 << 7;
      parts.push(BRAILLE[dots]);
    }
    // Redis compares the block's top row with the last pixel row, so most canvases
    // end with a newline (and the caption then follows an empty line).
    if (y !== canvas.height - 1) parts.push("\n");
  }
  return parts.join("");
}

/** Parses the optional integer arguments at argv[1..]; replies the error if one is not. */
function numericArgs(c: Client, args: string[], defaults: number[]): number[] | null {
  const out = [...defaults];
  for (let i = 0; i < defaults.length && i + 1 < args.length; i++) {
    const v = parseInteger(args[i + 1]);
    if (v === null) {
      c.error(ERR.notInteger);
      return null;
    }
    out[i] = v;
  }
  return out;
}

function clamp(v: number, min: number, max: number): number {
  return v < min ? min : v > max ? max : v;
}

/** LOLWUT VERSION 5 [cols [squares-per-row [squares-per-col]]] */
function lolwut5(c: Client, args: string[]): void {
  const parsed = numericArgs(c, args, [66, 8, 12]);
  if (parsed === null) return;
  const [cols, perRow, perCol] = parsed;
  const canvas = drawSchotter(clamp(cols, 1, 1000), clamp(perRow, 1, 200), clamp(perCol, 1, 200));
  c.reply.verbatim(
    renderBraille(canvas) +
      `\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ${REDIS_VERSION}\n`,
  );
}

/** A building of the skyline; `windows` only for the foreground ones. */
interface Skyscraper {
  xoff: number;
  width: number;
  height: number;
  windows: boolean;
  color: number;
}

function drawSkyscraper(canvas: Canvas, s: Skyscraper): void {
  const bottom = canvas.height - 1;
  const top = bottom - s.height + 1;
  const left = s.xoff;
  const right = s.xoff + s.width - 1;
  for (let y = bottom; y >= top; y--) {
    for (let x = left; x <= right; x++) {
      // The roof is two pixels narrower on each side.
      if (y === top && (x <= left + 1 || x >= right - 1)) continue;
      let color = s.color;
      if (s.windows && x > left + 1 && x < right - 1 && y > top + 1 && y < bottom - 1) {
        const relx = x - (left + 1);
        const rely = y - (top + 1);
        // Windows are two pixels wide and one tall (terminal cells are not square),
        // each lit in one of the two grays other than the building's.
        if (Math.floor(relx / 2) % 2 && rely % 2) {
          do color = 1 + rand() % 2; while (color === s.color);
          if (relx % 2) color = canvas.get(x - 1, y);
        }
      }
      canvas.draw(x, y, color);
    }
  }
}

/** A parallax skyline: two gray background layers, then black buildings with windows. */
function drawSkyline(canvas: Canvas): void {
  const h = canvas.height;
  for (let color = 2; color >= 1; color--) {
    for (let offset = -10; offset < canvas.width;) {
      offset += rand() % 8;
      const width = 10 + rand() % 9;
      const height = Math.floor(h / 2) +
        (color === 2 ? Math.floor((rand() % h) / 2) : Math.floor((rand() % h) / 3));
      drawSkyscraper(canvas, { xoff: offset, width, height, windows: false, color });
      offset += color === 2 ? Math.floor(width / 2) : width + 1;
    }
  }
  for (let offset = -10; offset < canvas.width;) {
    offset += rand() % 8;
    let width = 5 + rand() % 14;
    if (width % 4) width += width % 3;
    const height = Math.floor(h / 3) + Math.floor((rand() % h) / 2);
    drawSkyscraper(canvas, { xoff: offset, width, height, windows: true, color: 0 });
    offset += width + 5;
  }
}

/** ANSI foreground and background for black, the two grays and white. */
const CELLS: string[] = ["0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m"].map((code) =>
  `\x1b[${code} \x1b[0m`
);

function renderAnsi(canvas: Canvas): string {
  const parts: string[] = [];
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) parts.push(CELLS[canvas.get(x, y)] ?? CELLS[0]);
    if (y !== canvas.height - 1) parts.push("\n");
  }
  return parts.join("");
}

/** LOLWUT VERSION 6 [cols [rows]] */
function lolwut6(c: Client, args: string[]): void {
  const parsed = numericArgs(c, args, [80, 20]);
  if (parsed === null) return;
  const [cols, rows] = parsed;
  const canvas = new Canvas(clamp(cols, 1, 1000), clamp(rows, 1, 1000), 3);
  drawSkyline(canvas);
  c.reply.verbatim(
    renderAnsi(canvas) +
      "\nDedicated to the 8 bit game developers of past and present.\n" +
      `Original 8 bit image from Plaguemon by hikikomori. Redis ver. ${REDIS_VERSION}\n`,
  );
}

/** LOLWUT [VERSION version] [version-specific arguments] */
function lolwut(c: Client, argv: string[]): void {
  if (argv.length < 3 || argv[1].toLowerCase() !== "version") {
    return c.reply.verbatim(`Redis ver. ${REDIS_VERSION}\n`);
  }
  if (parseInteger(argv[2]) === null) return c.error(ERR.notInteger);
  // Redis formats the version as a C unsigned int, so it wraps modulo 2^32.
  const version = Number(BigInt.asUintN(32, BigInt(argv[2])));
  const args = argv.slice(2);
  if (version === 5) lolwut5(c, args);
  else if (version === 6) lolwut6(c, args);
  else c.reply.verbatim(`Redis ver. ${REDIS_VERSION}\n`);
}

/** The LOLWUT command. */
export const commands: CommandSpec[] = [
  cmd("server", "lolwut", -1, "readonly fast", lolwut),
];
