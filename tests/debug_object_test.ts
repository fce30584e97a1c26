import assert from "node:assert/strict";
import { RespError } from "./helpers.ts";
import { IGNORE_SIDE_BY_SIDE, withPair } from "./side_by_side.ts";

const LINE =
  /^Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\S+) serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+/;

Deno.test({
  name: "DEBUG OBJECT reports encoding and refcount like redis-server, address stable under INCR",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      await p.same("SET", "int", "20000");
      await p.same("SET", "small", "1");
      await p.same("SET", "str", "hello");
      await p.same("SET", "big", "x".repeat(100));
      await p.same("ZADD", "z", "1", "a", "2", "b");
      await p.same("SADD", "s", "1", "2");
      await p.same("SADD", "s2", "a");
      await p.same("HSET", "h", "f", "v");
      for (const key of ["int", "small", "str", "big", "z", "s", "s2", "h"]) {
        const [ours, real] = await p.both("DEBUG", "OBJECT", key);
        const a = LINE.exec(String(ours));
        const b = LINE.exec(String(real));
        assert.ok(a !== null, `ours: ${ours}`);
        assert.ok(b !== null, `real: ${real}`);
        assert.deepEqual([a[1], a[2]], [b[1], b[2]], key);
      }
      const before = String(await p.ours.call("DEBUG", "OBJECT", "int")).split(" ")[1];
      await p.same("INCR", "int");
      const after = String(await p.ours.call("DEBUG", "OBJECT", "int")).split(" ")[1];
      assert.equal(after, before);
      const [missing] = await p.both("DEBUG", "OBJECT", "nokey");
      assert.ok(missing instanceof RespError);
      await p.same("DEBUG", "OBJECT", "nokey");
      await p.same("DEBUG", "OBJECT", "a", "b");
    }, ["--enable-debug-command", "yes"]);
  },
});
