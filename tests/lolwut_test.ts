import assert from "node:assert/strict";
import { type Reply, RespClient, startRedeno } from "./helpers.ts";
import { IGNORE_SIDE_BY_SIDE, withPair } from "./side_by_side.ts";

const VERSION_LINE = "Redis ver. 7.0.15\n";
const SCHOTTER_CAPTION = "Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15";
const SKYLINE_CAPTION = [
  "Dedicated to the 8 bit game developers of past and present.",
  "Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15",
];

/** The text of a LOLWUT reply (RESP2 bulk or RESP3 verbatim "txt"). */
function text(r: Reply): string {
  if (typeof r === "string") return r;
  if (r && typeof r === "object" && "verbatim" in r) {
    assert.equal(r.format, "txt");
    return r.verbatim;
  }
  throw new Error(`unexpected reply ${String(r)}`);
}

/** Splits a Schotter reply into its drawing lines (in characters) and caption lines. */
function schotter(reply: Reply): { drawing: string[]; caption: string[] } {
  const lines = text(reply).split("\n");
  assert.equal(lines.pop(), "", "ends with a newline");
  const caption = lines.splice(lines.length - 1);
  // Most canvas heights leave an empty line between the drawing and the caption.
  if (lines.at(-1) === "") lines.pop();
  const drawing = lines.map((line) => {
    assert.equal(line.length % 3, 0, "whole UTF-8 sequences");
    let chars = "";
    for (let i = 0; i < line.length; i += 3) {
      const code = ((line.charCodeAt(i) & 0x0f) << 12) |
        ((line.charCodeAt(i + 1) & 0x3f) << 6) | (line.charCodeAt(i + 2) & 0x3f);
      assert.equal(line.charCodeAt(i) & 0xf0, 0xe0);
      assert.equal(line.charCodeAt(i + 1) & 0xc0, 0x80);
      assert.equal(line.charCodeAt(i + 2) & 0xc0, 0x80);
      assert.ok(code >= 0x2800 && code <= 0x28ff, `braille, got U+${code.toString(16)}`);
      chars += String.fromCharCode(code);
    }
    return chars;
  });
  return { drawing, caption };
}

/** The shape of a reply: line count and each line's width, plus the caption. */
function shape(drawing: string[]): number[] {
  return drawing.map((l) => l.length);
}

const CELL = /\x1b\[(0;30;40|0;90;100|0;37;47|0;97;107)m \x1b\[0m/g;

/** Splits a skyline reply into the cell count of each row and its caption. */
function skyline(reply: Reply): { widths: number[]; caption: string[] } {
  const lines = text(reply).split("\n");
  assert.equal(lines.pop(), "", "ends with a newline");
  const caption = lines.splice(lines.length - 2);
  const widths = lines.map((line) => {
    assert.equal(line.replace(CELL, ""), "", "only colored cells");
    return line.match(CELL)?.length ?? 0;
  });
  return { widths, caption };
}

Deno.test({
  name: "LOLWUT without art answers byte for byte as Redis in RESP2 and RESP3",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      for (const resp of ["2", "3"]) {
        if (resp === "3") await p.both("HELLO", "3");
        const cases: string[][] = [
          ["LOLWUT"],
          ["lolwut", "VERSION", "7"],
          ["LOLWUT", "version", "1"],
          ["LOLWUT", "VERSION", "0"],
          ["LOLWUT", "VERSION", "-1"],
          ["LOLWUT", "VERSION", "4"],
          ["LOLWUT", "VERSION", "55"],
          ["LOLWUT", "VERSION", "4294967303"],
          ["LOLWUT", "VERSION", "7", "extra", "args"],
          ["LOLWUT", "VERSION"],
          ["LOLWUT", "5"],
          ["LOLWUT", "foo", "bar", "baz"],
          ["LOLWUT", "VERSION", "abc"],
          ["LOLWUT", "VERSION", ""],
          ["LOLWUT", "VERSION", "5.0"],
          ["LOLWUT", "VERSION", "99999999999999999999"],
          ["LOLWUT", "VERSION", "5", "abc"],
          ["LOLWUT", "VERSION", "5", "10", "2", "x"],
          ["LOLWUT", "VERSION", "6", "1.5"],
          ["LOLWUT", "VERSION", "6", "10", " 3"],
        ];
        for (const c of cases) await p.same(...c);
        assert.deepEqual(
          text(await p.ours.call("LOLWUT")),
          VERSION_LINE,
        );
      }
    }),
});

Deno.test({
  name: "COMMAND INFO and COMMAND DOCS of LOLWUT equal Redis's",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      const info = await p.same("COMMAND", "INFO", "lolwut");
      assert.deepEqual(info, [[
        "lolwut",
        -1,
        ["readonly", "fast"],
        0,
        0,
        0,
        ["@read", "@fast"],
        [],
        [],
        [],
      ]]);
      await p.same("COMMAND", "DOCS", "lolwut");
      await p.same("COMMAND", "GETKEYS", "LOLWUT", "VERSION", "5");
    }),
});

Deno.test({
  name: "LOLWUT VERSION 5 with at most two rows of squares draws exactly Redis's Schotter",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      // Only rows from the third down are randomly rotated and shifted.
      const cases: string[][] = [
        ["66", "8", "2"],
        ["10", "3", "1"],
        ["1", "1", "1"],
        ["2", "1", "2"],
        ["3", "2", "2"],
        ["7", "5", "2"],
        ["-3", "0", "-1"],
        ["40", "7", "1"],
        ["123", "9", "2"],
        ["1000", "200", "2"],
        ["5000", "500", "1"],
      ];
      for (const args of cases) await p.same("LOLWUT", "VERSION", "5", ...args);
      await p.both("HELLO", "3");
      await p.same("LOLWUT", "VERSION", "5", "20", "3", "2");
    }),
});

Deno.test({
  name: "LOLWUT VERSION 5 Schotter has Redis's size, braille characters and caption",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      const cases: string[][] = [
        [],
        ["10"],
        ["40", "4"],
        ["40", "4", "3"],
        ["33", "5", "17", "extra"],
        ["1", "1", "200"],
        ["4", "3", "9"],
        ["1000", "200", "200"],
      ];
      for (const args of cases) {
        const [ours, real] = await p.both("LOLWUT", "VERSION", "5", ...args);
        const a = schotter(ours);
        const b = schotter(real);
        assert.deepEqual(shape(a.drawing), shape(b.drawing), `shape of ${args}`);
        assert.deepEqual(a.caption, [SCHOTTER_CAPTION]);
        assert.deepEqual(b.caption, [SCHOTTER_CAPTION]);
        assert.equal(
          text(ours).endsWith("\n\n" + SCHOTTER_CAPTION + "\n"),
          text(real).endsWith("\n\n" + SCHOTTER_CAPTION + "\n"),
        );
      }
      // The two undisturbed top rows of the default drawing are the same as Redis's.
      const [ours, real] = await p.both("LOLWUT", "VERSION", "5");
      assert.deepEqual(schotter(ours).drawing.slice(0, 7), schotter(real).drawing.slice(0, 7));
      assert.equal(schotter(ours).drawing.length, 49);
      assert.ok(schotter(ours).drawing.every((l) => l.length === 66));
    }),
});

Deno.test({
  name: "LOLWUT VERSION 6 skyline has Redis's size, color cells and caption",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      const cases: string[][] = [[], ["10"], ["1", "1"], ["0", "-7"], ["33", "5", "x"], [
        "200",
        "50",
      ]];
      for (const args of cases) {
        const [ours, real] = await p.both("LOLWUT", "VERSION", "6", ...args);
        const a = skyline(ours);
        const b = skyline(real);
        assert.deepEqual(a.widths, b.widths, `shape of ${args}`);
        assert.deepEqual(a.caption, SKYLINE_CAPTION);
        assert.deepEqual(b.caption, SKYLINE_CAPTION);
      }
    }),
});

Deno.test("LOLWUT VERSION 6 paints black buildings with lit windows over a white sky", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    await c.call("HELLO", "3");
    const r = await c.call("LOLWUT", "VERSION", "6", "80", "40");
    const { widths, caption } = skyline(r);
    assert.deepEqual(widths, new Array(40).fill(80));
    assert.deepEqual(caption, SKYLINE_CAPTION);
    const rows = text(r).split("\n").slice(0, 40);
    assert.ok(rows[0].includes("0;97;107m"), "sky at the top");
    assert.ok(rows[39].includes("0;30;40m"), "foreground buildings reach the bottom");
    assert.ok(rows.some((row) => row.includes("0;37;47m")), "background gray");
    // The version wraps like a C unsigned int: 2^32 + 5 is Schotter.
    const s = schotter(await c.call("LOLWUT", "VERSION", "4294967301", "20", "2", "4"));
    assert.deepEqual(s.caption, [SCHOTTER_CAPTION]);
    assert.ok(s.drawing.every((l) => l.length === 20));
  } finally {
    c.close();
    await t.stop();
  }
});
