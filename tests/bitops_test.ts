/** Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { err, withRedeno } from "./helpers.ts";

Deno.test("SETBIT grows the string with zero bytes and returns the old bit", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("SETBIT", "b", "7", "1"), 0);
    assertEquals(await r.call("SETBIT", "b", "7", "1"), 1);
    assertEquals(await r.call("SETBIT", "b", "23", "1"), 0);
    assertEquals(await r.call("GET", "b"), "\x01\x00\x01");
    assertEquals(await r.call("GETBIT", "b", "23"), 1);
    assertEquals(await r.call("GETBIT", "b", "22"), 0);
    assertEquals(await r.call("GETBIT", "b", "1000"), 0);
    assertEquals(await r.call("GETBIT", "nokey", "0"), 0);
    assertEquals(
      await r.call("SETBIT", "b", "-1", "1"),
      err("ERR bit offset is not an integer or out of range"),
    );
    assertEquals(
      await r.call("SETBIT", "b", "1", "2"),
      err("ERR bit is not an integer or out of range"),
    );
    assertEquals(await r.call("OBJECT", "ENCODING", "b"), "raw");
  });
});

Deno.test("BITCOUNT counts whole strings, byte ranges and bit ranges", async () => {
  await withRedeno(async (r) => {
    await r.call("SET", "s", "foobar");
    assertEquals(await r.call("BITCOUNT", "s"), 26);
    assertEquals(await r.call("BITCOUNT", "s", "0", "0"), 4);
    assertEquals(await r.call("BITCOUNT", "s", "1", "1"), 6);
    assertEquals(await r.call("BITCOUNT", "s", "-2", "-1"), 7);
    assertEquals(await r.call("BITCOUNT", "s", "5", "30", "BIT"), 17);
    assertEquals(await r.call("BITCOUNT", "s", "0", "-1", "BIT"), 26);
    assertEquals(await r.call("BITCOUNT", "s", "3", "1"), 0);
    assertEquals(await r.call("BITCOUNT", "nokey"), 0);
    assertEquals(await r.call("BITCOUNT", "s", "0"), err("ERR syntax error"));
    assertEquals(await r.call("BITCOUNT", "s", "0", "1", "WORD"), err("ERR syntax error"));
  });
});

Deno.test("BITPOS finds set and clear bits, with byte and bit ranges", async () => {
  await withRedeno(async (r) => {
    await r.call("SET", "p", "\xff\xf0\x00");
    assertEquals(await r.call("BITPOS", "p", "0"), 12);
    assertEquals(await r.call("BITPOS", "p", "1", "2"), -1);
    assertEquals(await r.call("BITPOS", "p", "1", "7", "15", "BIT"), 7);
    assertEquals(await r.call("BITPOS", "p", "0", "0", "7", "BIT"), -1);
    await r.call("SET", "ones", "\xff\xff");
    assertEquals(await r.call("BITPOS", "ones", "0"), 16);
    assertEquals(await r.call("BITPOS", "ones", "0", "0", "-1"), -1);
    assertEquals(await r.call("BITPOS", "nokey", "0"), 0);
    assertEquals(await r.call("BITPOS", "nokey", "1"), -1);
    assertEquals(await r.call("BITPOS", "p", "2"), err("ERR The bit argument must be 1 or 0."));
  });
});

Deno.test("BITOP AND/OR/XOR/NOT pad shorter strings with zeros", async () => {
  await withRedeno(async (r) => {
    await r.call("SET", "a", "\xff\x0f");
    await r.call("SET", "b", "\x0f");
    assertEquals(await r.call("BITOP", "AND", "d", "a", "b"), 2);
    assertEquals(await r.call("GET", "d"), "\x0f\x00");
    assertEquals(await r.call("BITOP", "OR", "d", "a", "b", "nokey"), 2);
    assertEquals(await r.call("GET", "d"), "\xff\x0f");
    assertEquals(await r.call("BITOP", "XOR", "d", "a", "b"), 2);
    assertEquals(await r.call("GET", "d"), "\xf0\x0f");
    assertEquals(await r.call("BITOP", "NOT", "d", "a"), 2);
    assertEquals(await r.call("GET", "d"), "\x00\xf0");
    assertEquals(await r.call("BITOP", "AND", "d", "nokey"), 0);
    assertEquals(await r.call("EXISTS", "d"), 0);
    assertEquals(
      await r.call("BITOP", "NOT", "d", "a", "b"),
      err("ERR BITOP NOT must be called with a single source key."),
    );
    await r.call("RPUSH", "l", "x");
    assertEquals(
      await r.call("BITOP", "OR", "d", "a", "l"),
      err("WRONGTYPE Operation against a key holding the wrong kind of value"),
    );
  });
});

Deno.test("BITFIELD reads and writes signed and unsigned fields with overflow policies", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("BITFIELD", "f", "SET", "i8", "0", "100", "GET", "i8", "0"), [
      0,
      100,
    ]);
    assertEquals(await r.call("BITFIELD", "f", "INCRBY", "i8", "0", "100"), [-56]);
    assertEquals(await r.call("BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-100"), [
      -128,
    ]);
    assertEquals(await r.call("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1"), [
      null,
    ]);
    assertEquals(await r.call("BITFIELD", "f", "GET", "i8", "0"), [-128]);
    assertEquals(
      await r.call("BITFIELD", "f", "SET", "u4", "#2", "15", "GET", "u4", "8", "GET", "u16", "0"),
      [0, 15, 33008],
    );
    assertEquals(
      await r.call(
        "BITFIELD",
        "f",
        "SET",
        "i64",
        "0",
        "9223372036854775807",
        "INCRBY",
        "i64",
        "0",
        "1",
      ),
      [-9155818042444218368n, -9223372036854775808n],
    );
    assertEquals(await r.call("BITFIELD", "f", "OVERFLOW", "SAT", "SET", "u8", "0", "300"), [128]);
    assertEquals(await r.call("BITFIELD", "f", "GET", "u8", "0"), [255]);
    assertEquals(await r.call("BITFIELD", "f", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "2"), [1]);
    assertEquals(await r.call("BITFIELD_RO", "f", "GET", "u8", "0"), [1]);
    assertEquals(
      await r.call("BITFIELD_RO", "f", "SET", "u8", "0", "1"),
      err("ERR BITFIELD_RO only supports the GET subcommand"),
    );
    assertEquals(
      await r.call("BITFIELD", "f", "GET", "u64", "0"),
      err(
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
      ),
    );
    assertEquals(
      await r.call("BITFIELD", "f", "OVERFLOW", "MAYBE"),
      err("ERR Invalid OVERFLOW type specified"),
    );
    assertEquals(await r.call("BITFIELD", "nokey", "GET", "u8", "0"), [0]);
    assertEquals(await r.call("EXISTS", "nokey"), 0);
  });
});
