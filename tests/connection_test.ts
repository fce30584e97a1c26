import assert from "node:assert/strict";
import { HAVE_REDIS, type Reply, RespClient, RespError, startRedeno, waitFor } from "./helpers.ts";
import { withPair } from "./side_by_side.ts";

/** Sends the same commands to Redeno and a real redis-server; returns both reply lists. */
async function sideBySide(commands: string[][]): Promise<[Reply[], Reply[]]> {
  let result: [Reply[], Reply[]] = [[], []];
  await withPair(async ({ ours: a, real: b }) => {
    const ra: Reply[] = [];
    const rb: Reply[] = [];
    for (const cmd of commands) {
      ra.push(await a.call(...cmd));
      rb.push(await b.call(...cmd));
    }
    result = [ra, rb];
  });
  return result;
}

Deno.test({
  name: "connection commands answer and fail exactly like redis-server 7.0",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const commands = [
      ["PING"],
      ["PING", "hello"],
      ["PING", "a", "b"],
      ["ECHO", "x\x00y"],
      ["ECHO"],
      ["SELECT", "15"],
      ["SELECT", "16"],
      ["SELECT", "-1"],
      ["SELECT", "x"],
      ["SELECT", "0"],
      ["HELLO", "x"],
      ["HELLO", "4"],
      ["HELLO", "1"],
      ["HELLO", "3", "foo"],
      ["HELLO", "3", "AUTH", "default"],
      ["HELLO", "2", "AUTH", "nobody", "pw"],
      ["HELLO", "2", "SETNAME", "a b"],
      ["CLIENT", "SETNAME", "bad name"],
      ["CLIENT", "SETNAME", "good-name"],
      ["CLIENT", "GETNAME"],
      ["CLIENT", "SETNAME", ""],
      ["CLIENT", "GETNAME"],
      ["CLIENT", "REPLY"],
      ["CLIENT", "REPLY", "maybe"],
      ["CLIENT", "NO-EVICT", "maybe"],
      ["CLIENT", "NO-EVICT", "on"],
      ["CLIENT", "KILL", "ID", "0"],
      ["CLIENT", "KILL", "ID", "999999"],
      ["CLIENT", "KILL", "TYPE", "foo"],
      ["CLIENT", "KILL", "SKIPME", "x"],
      ["CLIENT", "KILL", "USER", "nouser"],
      ["CLIENT", "KILL", "9.9.9.9:9"],
      ["CLIENT", "KILL", "9.9.9.9:9", "x"],
      ["CLIENT", "LIST", "TYPE", "foo"],
      ["CLIENT", "LIST", "ID", "abc"],
      ["CLIENT", "LIST", "foo"],
      ["CLIENT", "PAUSE", "abc"],
      ["CLIENT", "PAUSE", "10", "foo"],
      ["CLIENT", "UNBLOCK", "abc"],
      ["CLIENT", "UNBLOCK", "1", "foo"],
      ["CLIENT", "UNBLOCK", "999999"],
      ["CLIENT", "GETREDIR"],
      ["CLIENT", "CACHING", "yes"],
      ["CLIENT", "TRACKINGINFO"],
      ["CLIENT", "NO-TOUCH", "on"],
      ["CLIENT", "SETINFO", "lib-name", "x"],
      ["CLIENT", "FOO"],
      ["CLIENT"],
      ["CLIENT", "HELP"],
      ["RESET"],
    ];
    const [ours, real] = await sideBySide(commands);
    for (let i = 0; i < commands.length; i++) {
      assert.deepEqual(ours[i], real[i], `reply to ${commands[i].join(" ")}`);
    }
  },
});

Deno.test("HELLO 3 switches the connection to RESP3 and answers Redis's map", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const id = await c.call("CLIENT", "ID");
    const hello = await c.call("HELLO", "3", "SETNAME", "conn1") as Map<Reply, Reply>;
    assert.ok(hello instanceof Map);
    assert.deepEqual([...hello.keys()], [
      "server",
      "version",
      "proto",
      "id",
      "mode",
      "role",
      "modules",
    ]);
    assert.equal(hello.get("server"), "redis");
    assert.equal(hello.get("version"), "7.0.15");
    assert.equal(hello.get("proto"), 3);
    assert.equal(hello.get("id"), id);
    assert.equal(hello.get("role"), "master");
    assert.deepEqual(hello.get("modules"), []);
    assert.equal(await c.call("CLIENT", "GETNAME"), "conn1");
    // RESP3 null for a missing key
    await c.write(RespClient.encode(["GET", "nokey"]));
    assert.equal(await c.readRaw(3), "_\r\n");
    // back to RESP2
    const two = await c.call("HELLO", "2");
    assert.ok(Array.isArray(two));
    await c.write(RespClient.encode(["GET", "nokey"]));
    assert.equal(await c.readRaw(5), "$-1\r\n");
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("HELLO AUTH authenticates with requirepass; other commands need it first", async () => {
  const t = await startRedeno(["--requirepass", "s3cret"]);
  const c = await RespClient.connect(t.port);
  try {
    assert.deepEqual(
      await c.call("GET", "k"),
      new RespError("NOAUTH Authentication required."),
    );
    const noauth = await c.call("HELLO", "3");
    assert.ok(noauth instanceof RespError && noauth.message.startsWith("NOAUTH HELLO must be"));
    assert.deepEqual(
      await c.call("HELLO", "3", "AUTH", "default", "wrong"),
      new RespError("WRONGPASS invalid username-password pair or user is disabled."),
    );
    const ok = await c.call("HELLO", "3", "AUTH", "default", "s3cret");
    assert.ok(ok instanceof Map && ok.get("proto") === 3);
    assert.equal(await c.call("PING"), "PONG");
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("RESET returns a connection to its initial state", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    await c.call("HELLO", "3", "SETNAME", "before");
    await c.call("SELECT", "5");
    await c.call("MULTI");
    assert.equal(await c.call("RESET"), "RESET");
    assert.equal(await c.call("CLIENT", "GETNAME"), null);
    const info = await c.call("CLIENT", "INFO") as string;
    assert.match(info, / db=0 /);
    assert.match(info, / multi=-1 /);
    assert.match(info, / resp=2\n$/);
  } finally {
    c.close();
    await t.stop();
  }
});

const CLIENT_LIST_FIELDS = [
  "id",
  "addr",
  "laddr",
  "fd",
  "name",
  "age",
  "idle",
  "flags",
  "db",
  "sub",
  "psub",
  "ssub",
  "multi",
  "qbuf",
  "qbuf-free",
  "argv-mem",
  "multi-mem",
  "rbs",
  "rbp",
  "obl",
  "oll",
  "omem",
  "tot-mem",
  "events",
  "cmd",
  "user",
  "redir",
  "resp",
];

Deno.test("CLIENT LIST prints Redis 7.0's fields in order, one line per client", async () => {
  const t = await startRedeno();
  const a = await RespClient.connect(t.port);
  const b = await RespClient.connect(t.port);
  try {
    await b.call("CLIENT", "SETNAME", "second");
    await b.call("SELECT", "3");
    const text = await a.call("CLIENT", "LIST") as string;
    const lines = text.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.deepEqual(line.split(" ").map((f) => f.slice(0, f.indexOf("="))), CLIENT_LIST_FIELDS);
    }
    const mine = lines.find((l) => l.includes("cmd=client|list"))!;
    assert.match(mine, / flags=N /);
    const other = lines.find((l) => l.includes("name=second"))!;
    assert.match(other, / db=3 /);
    assert.match(other, / cmd=select /);
    const id = Number(/^id=(\d+)/.exec(other)![1]);
    const byId = await a.call("CLIENT", "LIST", "ID", String(id)) as string;
    assert.equal(byId.trim().split("\n").length, 1);
    assert.match(byId, /name=second/);
    assert.equal(await a.call("CLIENT", "LIST", "TYPE", "pubsub"), "");
    assert.equal(
      (await a.call("CLIENT", "LIST", "TYPE", "normal") as string).split("\n").length,
      3,
    );
  } finally {
    a.close();
    b.close();
    await t.stop();
  }
});

Deno.test("CLIENT KILL closes clients by address, by id and by filters", async () => {
  const t = await startRedeno();
  const a = await RespClient.connect(t.port);
  const b = await RespClient.connect(t.port);
  const c2 = await RespClient.connect(t.port);
  try {
    const bInfo = await b.call("CLIENT", "INFO") as string;
    const bAddr = /addr=(\S+)/.exec(bInfo)![1];
    assert.equal(await a.call("CLIENT", "KILL", bAddr), "OK");
    assert.ok(await b.closedByServer());
    const cId = await c2.call("CLIENT", "ID") as number;
    assert.equal(await a.call("CLIENT", "KILL", "ID", String(cId)), 1);
    assert.ok(await c2.closedByServer());
    // SKIPME yes (the default) spares the caller
    assert.equal(await a.call("CLIENT", "KILL", "TYPE", "normal"), 0);
    assert.equal(await a.call("PING"), "PONG");
    // killing yourself closes after the reply
    assert.equal(await a.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"), 1);
    assert.ok(await a.closedByServer());
  } finally {
    a.close();
    b.close();
    c2.close();
    await t.stop();
  }
});

Deno.test("CLIENT REPLY OFF and SKIP drop replies; ON restores them", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    await c.write(
      "CLIENT REPLY SKIP\r\nPING skipped\r\nPING one\r\nCLIENT REPLY OFF\r\nPING off\r\n" +
        "CLIENT REPLY ON\r\nPING two\r\n",
    );
    assert.equal(await c.read(), "one");
    assert.equal(await c.read(), "OK");
    assert.equal(await c.read(), "two");
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("CLIENT PAUSE WRITE holds writes until UNPAUSE while reads go on", async () => {
  const t = await startRedeno();
  const admin = await RespClient.connect(t.port);
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await admin.call("CLIENT", "PAUSE", "10000", "WRITE"), "OK");
    await c.write(RespClient.encode(["SET", "k", "v"]));
    // a read from another client is served during the pause
    assert.equal(await admin.call("GET", "k"), null);
    await waitFor(async () =>
      /flags=b/.test(await admin.call("CLIENT", "LIST", "TYPE", "normal") as string)
    );
    assert.equal(await admin.call("CLIENT", "UNPAUSE"), "OK");
    assert.equal(await c.read(), "OK");
    assert.equal(await admin.call("GET", "k"), "v");
  } finally {
    admin.close();
    c.close();
    await t.stop();
  }
});

Deno.test("CLIENT PAUSE ALL ends by itself after its timeout", async () => {
  const t = await startRedeno();
  const admin = await RespClient.connect(t.port);
  const c = await RespClient.connect(t.port);
  try {
    const start = Date.now();
    assert.equal(await admin.call("CLIENT", "PAUSE", "150", "ALL"), "OK");
    assert.equal(await c.call("PING"), "PONG");
    assert.ok(Date.now() - start >= 140, "PING waited for the pause to end");
  } finally {
    admin.close();
    c.close();
    await t.stop();
  }
});

Deno.test("QUIT answers +OK and closes the connection", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await c.call("QUIT"), "OK");
    assert.ok(await c.closedByServer());
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("a normal client whose reply passes the output buffer hard limit is closed", async () => {
  const t = await startRedeno();
  const admin = await RespClient.connect(t.port);
  const c = await RespClient.connect(t.port);
  try {
    await admin.call("SET", "big", "x".repeat(20000));
    assert.equal(
      await admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 10000 0 0"),
      "OK",
    );
    assert.equal(await c.call("GET", "small"), null);
    await c.write(RespClient.encode(["GET", "big"]));
    assert.ok(await c.closedByServer());
    assert.equal(
      await admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0"),
      "OK",
    );
    assert.equal((await admin.call("GET", "big") as string).length, 20000);
  } finally {
    admin.close();
    c.close();
    await t.stop();
  }
});

Deno.test("CLIENT UNBLOCK ends a blocked BLPOP with its timeout reply or an error", async () => {
  const t = await startRedeno();
  const admin = await RespClient.connect(t.port);
  const c = await RespClient.connect(t.port);
  try {
    const id = await c.call("CLIENT", "ID") as number;
    await c.write(RespClient.encode(["BLPOP", "nolist", "0"]));
    await waitFor(async () =>
      /flags=b/.test(await admin.call("CLIENT", "LIST", "ID", String(id)) as string)
    );
    assert.equal(await admin.call("CLIENT", "UNBLOCK", String(id)), 1);
    assert.equal(await c.read(), null);
    await c.write(RespClient.encode(["BLPOP", "nolist", "0"]));
    await waitFor(async () =>
      /flags=b/.test(await admin.call("CLIENT", "LIST", "ID", String(id)) as string)
    );
    assert.equal(await admin.call("CLIENT", "UNBLOCK", String(id), "ERROR"), 1);
    assert.deepEqual(
      await c.read(),
      new RespError("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
    );
    assert.equal(await admin.call("CLIENT", "UNBLOCK", String(id)), 0);
    assert.equal(await c.call("PING"), "PONG");
  } finally {
    admin.close();
    c.close();
    await t.stop();
  }
});
