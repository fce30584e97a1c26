/**
 * ACL and AUTH: users and rules, permission checks through real connections, the ACL
 * log, the ACL file, `user` lines in the config, and side-by-side comparisons of
 * ACL GETUSER / LIST / CAT / DRYRUN and error strings with a real redis-server.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import {
  HAVE_REDIS,
  type Reply,
  RespClient,
  RespError,
  startRealRedis,
  startRedeno,
  waitFor,
} from "./helpers.ts";
import { withPair } from "./side_by_side.ts";
import { COMMANDS } from "../src/commands/mod.ts";
import { hashPassword } from "../src/acl.ts";

const have = (...names: string[]) => names.every((n) => COMMANDS.has(n));
const missing = (...names: string[]) => !have(...names);

/** Sorts each run of single-command rules ("+get +set"): Redis emits them in hash order. */
function normalizeRules(s: string): string {
  const tokens = s.split(" ");
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => {
    out.push(...run.sort());
    run = [];
  };
  for (const t of tokens) {
    if (/^[+-][^@]/.test(t)) run.push(t);
    else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out.join(" ");
}

function normalizeReply(r: Reply): Reply {
  if (typeof r === "string") return normalizeRules(r);
  if (Array.isArray(r)) return r.map(normalizeReply);
  return r;
}

/** Runs `body` against an in-process Redeno and a real Redis started side by side. */
async function sideBySide(
  body: (
    same: (...cmd: Array<string | number>) => Promise<Reply>,
    ours: RespClient,
    real: RespClient,
  ) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  await withPair(async (p) => {
    await body(
      async (...cmd) => {
        const [a, b] = await p.both(...cmd);
        assert.deepEqual(normalizeReply(a), normalizeReply(b), `reply to ${JSON.stringify(cmd)}`);
        return a;
      },
      p.ours,
      p.real,
    );
  }, args);
}

/** Starts Redeno and returns a connected admin client; stops both afterwards. */
async function withServer(
  body: (admin: RespClient, port: number) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  const t = await startRedeno(args);
  const admin = await RespClient.connect(t.port);
  try {
    await body(admin, t.port);
  } finally {
    admin.close();
    await t.stop();
  }
}

async function connectAs(port: number, user: string, pass: string): Promise<RespClient> {
  const c = await RespClient.connect(port);
  assert.equal(await c.call("AUTH", user, pass), "OK");
  return c;
}

function err(r: Reply): string {
  assert.ok(r instanceof RespError, `expected an error, got ${JSON.stringify(r)}`);
  return r.message;
}

const NOPERM_KEY =
  "NOPERM this user has no permissions to access one of the keys used as arguments";
const NOPERM_CHANNEL =
  "NOPERM this user has no permissions to access one of the channels used as arguments";
const noPermCmd = (name: string) =>
  `NOPERM this user has no permissions to run the '${name}' command`;

Deno.test({
  name: "ACL SETUSER / GETUSER / LIST describe users exactly as Redis 7.0",
  ignore: !HAVE_REDIS,
  async fn() {
    const hash = hashPassword("secret");
    const cases: string[][] = [
      ["on", ">pw", "+@all", "-@dangerous", "~foo*", "%R~bar*", "&ch*"],
      ["reset"],
      ["on", "nopass", "-@all", "+@read", "-get"],
      ["-@all", "+get"],
      ["+@all", "-set"],
      ["allkeys", "allchannels", "allcommands"],
      ["%RW~x", "%W~y", "%R~y", "%R~z", "%W~w"],
      [`#${hash}`, ">a", ">b", "<a"],
      ["on", "-@all", "+@string", "(~a* +get)", "(%R~b* +@read &c)"],
      ["-@all", "+select|0", "+select|1"],
      ["-@all", "+client|id", "+get", "+set", "+hset", "+lpush"],
      ["+@all", "-client|kill", "-flushall"],
      ["skip-sanitize-payload", "on", "nopass", "resetkeys", "~k"],
      ["sanitize-payload"],
      ["-@all", "+@hash", "+@list", "-lpush", "+@keyspace"],
      ["+@all", "-@write", "-@admin", "+del"],
      ["nocommands", "+@fast", "+@connection"],
      ["-@all", "+@sortedset", "-@write"],
      ["+@all", "-@slow"],
      ["resetchannels", "&a", "&b", "&a"],
      ["+@all", "clearselectors", "(~x +get)", "clearselectors"],
      ["-@all", "+eval", "+function|list", "+@scripting", "-script|kill"],
      ["+@all", "-cluster", "-@scripting", "+config|get"],
    ];
    await sideBySide(async (same, ours, real) => {
      for (let i = 0; i < cases.length; i++) {
        const name = `user${i}`;
        await same("ACL", "SETUSER", name, ...cases[i]);
        await same("ACL", "GETUSER", name);
      }
      await same("ACL", "LIST");
      await same("ACL", "USERS");
      await same("ACL", "SETUSER", "user0", "reset", "on", "+@all");
      await same("ACL", "GETUSER", "user0");
      await same("ACL", "DELUSER", "user0", "user1", "nobody");
      await same("ACL", "USERS");
      // RESP3: GETUSER is a map with a set of flags and maps for selectors
      await Promise.all([ours.call("HELLO", "3"), real.call("HELLO", "3")]);
      for (const name of ["user2", "user8", "user12"]) await same("ACL", "GETUSER", name);
    });
  },
});

Deno.test({
  name: "acl-pubsub-default allchannels gives new and reset users every channel",
  ignore: !HAVE_REDIS,
  async fn() {
    await sideBySide(async (same) => {
      await same("ACL", "SETUSER", "p1", "on", "+@all");
      await same("ACL", "SETUSER", "p2", "reset", "(+get)");
      await same("ACL", "SETUSER", "p3", "resetchannels", "&x");
      await same("ACL", "LIST");
      await same("ACL", "GETUSER", "p2");
    }, ["--acl-pubsub-default", "allchannels"]);
  },
});

Deno.test({
  name: "ACL errors are byte-identical to Redis 7.0",
  ignore: !HAVE_REDIS,
  async fn() {
    await sideBySide(async (same) => {
      const cases: Array<Array<string | number>> = [
        ["ACL"],
        ["ACL", "GETUSER"],
        ["ACL", "GETUSER", "nobody"],
        ["ACL", "BOGUS"],
        ["ACL", "SETUSER"],
        ["ACL", "SETUSER", "a b"],
        ["ACL", "SETUSER", "x", "bogus"],
        ["ACL", "SETUSER", "x", "+nope"],
        ["ACL", "SETUSER", "x", "+@nope"],
        ["ACL", "SETUSER", "x", "-select|0"],
        ["ACL", "SETUSER", "x", "+client|id|x"],
        ["ACL", "SETUSER", "x", "+client|"],
        ["ACL", "SETUSER", "x", "+client|nope"],
        ["ACL", "SETUSER", "x", "~a*", "allkeys", "~b"],
        ["ACL", "SETUSER", "x", "&*", "&x"],
        ["ACL", "SETUSER", "x", "<nopw"],
        ["ACL", "SETUSER", "x", "!abc"],
        ["ACL", "SETUSER", "x", "#abc"],
        ["ACL", "SETUSER", "x", "%X~a"],
        ["ACL", "SETUSER", "x", "%~a"],
        ["ACL", "SETUSER", "x", "%R~a b"],
        ["ACL", "SETUSER", "x", "(~a", "+get"],
        ["ACL", "SETUSER", "x", "(~a +nope)"],
        ["ACL", "USERS"],
        ["ACL", "DELUSER", "default", "x"],
        ["ACL", "DELUSER"],
        ["ACL", "LOAD"],
        ["ACL", "SAVE"],
        ["ACL", "DRYRUN", "nobody", "get", "k"],
        ["ACL", "DRYRUN", "default", "nope"],
        ["ACL", "DRYRUN", "default", "get"],
        ["ACL", "DRYRUN", "default", "client", "nope"],
        ["ACL", "DRYRUN", "default", "get", "k"],
        ["ACL", "GENPASS", 0],
        ["ACL", "GENPASS", 4097],
        ["ACL", "GENPASS", "x"],
        ["ACL", "GENPASS", 1, 2],
        ["ACL", "LOG", "x"],
        ["ACL", "LOG", 1, 2],
        ["ACL", "CAT", "nope"],
        ["ACL", "CAT", "a", "b"],
        ["ACL", "WHOAMI", "x"],
        ["ACL", "LIST", "x"],
        ["ACL", "HELP"],
        ["ACL", "WHOAMI"],
        ["AUTH", "a", "b", "c"],
        ["AUTH", "pw"],
        ["AUTH", "nobody", "pw"],
        ["AUTH", "default", "anything"],
      ];
      for (const c of cases) await same(...c);
    });
  },
});

Deno.test({
  name: "ACL CAT lists Redis's categories and exactly the commands of each",
  ignore: !HAVE_REDIS,
  async fn() {
    await sideBySide(async (same, ours, real) => {
      const categories = await same("ACL", "CAT") as string[];
      const mismatches: string[] = [];
      for (const category of categories) {
        const mine = new Set(await ours.call("ACL", "CAT", category) as string[]);
        const theirs = new Set(await real.call("ACL", "CAT", category) as string[]);
        for (const n of theirs) if (!mine.has(n)) mismatches.push(`${n} missing from @${category}`);
        for (const n of mine) if (!theirs.has(n)) mismatches.push(`${n} wrongly in @${category}`);
      }
      assert.deepEqual(mismatches, []);
    });
  },
});

Deno.test({
  name: "ACL DRYRUN answers like Redis for commands, subcommands, %R/%W keys and channels",
  ignore: !HAVE_REDIS,
  async fn() {
    await sideBySide(async (same) => {
      await same("ACL", "SETUSER", "reader", "on", "nopass", "+@all", "%R~r*", "~both*");
      await same("ACL", "SETUSER", "writer", "on", "nopass", "+@all", "%W~w*", "~both*");
      await same(
        "ACL",
        "SETUSER",
        "limited",
        "on",
        "-@all",
        "+@string",
        "-set",
        "+client|id",
        "+select|0",
        "~k*",
        "&news.*",
        "+@pubsub",
      );
      await same("ACL", "SETUSER", "sel", "-@all", "+get", "~a*", "(+set ~b*)", "(+@list %R~c*)");
      const probes: string[][] = [
        ["get", "r1"],
        ["get", "w1"],
        ["set", "r1", "v"],
        ["set", "w1", "v"],
        ["set", "w1", "v", "GET"],
        ["getset", "w1", "v"],
        ["exists", "r1", "w1", "zz"],
        ["type", "w1"],
        ["strlen", "w1"],
        ["del", "r1"],
        ["del", "w1"],
        ["lpush", "w1", "a"],
        ["lrange", "r1", "0", "-1"],
        ["lmove", "w1", "w2", "left", "left"],
        ["rpoplpush", "both1", "w2"],
        ["copy", "r1", "w2"],
        ["copy", "both1", "w2"],
        ["rename", "both1", "w2"],
        ["mset", "w1", "a", "r1", "b"],
        ["mget", "r1", "r2", "both"],
        ["expire", "w1", "10"],
        ["ttl", "r1"],
        ["zunionstore", "w1", "2", "r1", "r2"],
        ["zunionstore", "w1", "2", "r1", "w2"],
        ["zrangestore", "w1", "r1", "0", "-1"],
        ["incr", "w1"],
        ["getrange", "w1", "0", "1"],
        ["hset", "w1", "f", "v"],
        ["hget", "r1", "f"],
        ["object", "encoding", "zz"],
        ["bitfield", "r1", "get", "u8", "0"],
        ["bitfield", "w1", "set", "u8", "0", "1"],
        ["client", "id"],
        ["client", "list"],
        ["select", "0"],
        ["select", "1"],
        ["publish", "news.1", "m"],
        ["publish", "other", "m"],
        ["subscribe", "news.1", "other"],
        ["psubscribe", "news.*"],
        ["psubscribe", "news.1"],
        ["get", "a1"],
        ["get", "b1"],
        ["set", "b1", "x"],
        ["set", "a1", "x"],
        ["lrange", "c1", "0", "1"],
        ["lpush", "c1", "x"],
        ["ping"],
        ["auth", "x", "y"],
      ];
      for (const user of ["reader", "writer", "limited", "sel"]) {
        for (const p of probes) {
          if (COMMANDS.has(p[0])) await same("ACL", "DRYRUN", user, ...p);
        }
      }
    });
  },
});

Deno.test({
  name: "ACL DRYRUN matches Redis for the keys of every keyed command and %R/%W user",
  ignore: !HAVE_REDIS,
  async fn() {
    // every command with keys, with 0-3 extra arguments drawn from names the users'
    // patterns tell apart: key positions and read/write access must agree with Redis
    const pool = ["r1", "w1", "a1", "r2", "w2", "x1", "1", "0", "r3"];
    const lines: string[][] = [];
    for (const [name, spec] of COMMANDS) {
      const specs = spec.subcommands
        ? [...spec.subcommands.values()].map((s) => ({ prefix: [name, s.name], s }))
        : [{ prefix: [name], s: spec }];
      for (const { prefix, s } of specs) {
        if (s.firstKey === 0 && s.getKeys === undefined) continue;
        const min = Math.abs(s.arity);
        for (let len = min; len <= min + 3; len++) {
          if (s.arity > 0 && len !== s.arity) continue;
          const argv = [...prefix];
          for (let i = 0; argv.length < len; i++) argv.push(pool[(i + len) % pool.length]);
          lines.push(argv);
        }
      }
    }
    const users = [["%R~r*", "%W~w*"], ["%R~*"], ["%W~*"], ["~a*", "%R~r*", "%W~w*"], [
      "resetkeys",
    ]];
    await sideBySide(async (same, ours, real) => {
      for (let u = 0; u < users.length; u++) {
        await same("ACL", "SETUSER", `k${u}`, "on", "nopass", "+@all", "&*", ...users[u]);
        const probes = lines.map((l) => ["ACL", "DRYRUN", `k${u}`, ...l]);
        const [a, b] = await Promise.all([ours.pipeline(probes), real.pipeline(probes)]);
        const diff = probes.filter((_, i) => JSON.stringify(a[i]) !== JSON.stringify(b[i]));
        assert.deepEqual(diff.map((p) => p.join(" ")), [], `user k${u} ${users[u].join(" ")}`);
      }
    });
  },
});

Deno.test("a restricted user is refused commands, keys and subcommands with NOPERM", async () => {
  await withServer(async (admin, port) => {
    assert.equal(
      await admin.call(
        "ACL",
        "SETUSER",
        "alice",
        "on",
        ">wonderland",
        "-@all",
        "+@string",
        "-set",
        "+client|id",
        "+select|0",
        "~app:*",
        "%R~shared:*",
      ),
      "OK",
    );
    const alice = await connectAs(port, "alice", "wonderland");
    assert.equal(err(await alice.call("ACL", "WHOAMI")), noPermCmd("acl|whoami"));
    assert.equal(await alice.call("APPEND", "app:1", "x"), 1);
    assert.equal(await alice.call("GET", "app:1"), "x");
    assert.equal(err(await alice.call("SET", "app:1", "y")), noPermCmd("set"));
    assert.equal(err(await alice.call("GET", "other")), NOPERM_KEY);
    assert.equal(await alice.call("GET", "shared:1"), null);
    assert.equal(err(await alice.call("APPEND", "shared:1", "x")), NOPERM_KEY);
    assert.equal(err(await alice.call("LPUSH", "app:l", "x")), noPermCmd("lpush"));
    assert.equal(await alice.call("SELECT", "0"), "OK");
    assert.equal(err(await alice.call("SELECT", "1")), noPermCmd("select"));
    if (COMMANDS.get("client")?.subcommands?.has("id")) {
      assert.equal(typeof await alice.call("CLIENT", "ID"), "number");
      assert.equal(err(await alice.call("CLIENT", "LIST")), noPermCmd("client|list"));
    }
    // the admin still runs everything
    assert.equal(await admin.call("SET", "other", "1"), "OK");
    alice.close();
  });
});

Deno.test("AUTH flows: requirepass, NOAUTH, one and two argument forms, WRONGPASS", async () => {
  await withServer(async (_admin, port) => {
    const c = await RespClient.connect(port);
    try {
      assert.equal(err(await c.call("GET", "k")), "NOAUTH Authentication required.");
      assert.equal(
        err(await c.call("AUTH", "wrong")),
        "WRONGPASS invalid username-password pair or user is disabled.",
      );
      assert.equal(await c.call("AUTH", "s3cret"), "OK");
      assert.equal(await c.call("ACL", "WHOAMI"), "default");
      assert.equal(await c.call("AUTH", "default", "s3cret"), "OK");
      assert.equal(await c.call("ACL", "SETUSER", "bob", "on", ">bobpw", "+@all", "~*"), "OK");
      assert.equal(await c.call("AUTH", "bob", "bobpw"), "OK");
      assert.equal(await c.call("ACL", "WHOAMI"), "bob");
      assert.equal(
        err(await c.call("AUTH", "bob", "nope")),
        "WRONGPASS invalid username-password pair or user is disabled.",
      );
      // a failed AUTH keeps the previous identity
      assert.equal(await c.call("ACL", "WHOAMI"), "bob");
      // a disabled user cannot authenticate, even with the right password
      assert.equal(await c.call("ACL", "SETUSER", "bob", "off"), "OK");
      assert.equal(
        err(await c.call("AUTH", "bob", "bobpw")),
        "WRONGPASS invalid username-password pair or user is disabled.",
      );
      // ... but the already authenticated connection keeps working
      assert.equal(await c.call("ACL", "WHOAMI"), "bob");
    } finally {
      c.close();
    }
  }, ["--requirepass", "s3cret"]);
});

Deno.test("a connection authenticated before a password change stays authenticated", async () => {
  await withServer(async (admin, port) => {
    assert.equal(await admin.call("AUTH", "old"), "OK");
    const other = await connectAs(port, "default", "old");
    try {
      assert.equal(await admin.call("ACL", "SETUSER", "default", "resetpass", ">new"), "OK");
      assert.equal(await other.call("PING"), "PONG");
      const fresh = await RespClient.connect(port);
      assert.equal(err(await fresh.call("PING")), "NOAUTH Authentication required.");
      assert.equal(
        err(await fresh.call("AUTH", "old")),
        "WRONGPASS invalid username-password pair or user is disabled.",
      );
      assert.equal(await fresh.call("AUTH", "new"), "OK");
      fresh.close();
      // nopass on the default user lets new connections in without AUTH
      assert.equal(await admin.call("ACL", "SETUSER", "default", "nopass"), "OK");
      const open = await RespClient.connect(port);
      assert.equal(await open.call("PING"), "PONG");
      assert.equal(
        err(await open.call("AUTH", "x")),
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
      );
      open.close();
    } finally {
      other.close();
    }
  }, ["--requirepass", "old"]);
});

Deno.test({
  name: "CONFIG SET requirepass changes the default user's password",
  ignore: missing("config"),
  async fn() {
    await withServer(async (admin, port) => {
      assert.equal(await admin.call("CONFIG", "SET", "requirepass", "pw1"), "OK");
      assert.equal(await admin.call("PING"), "PONG");
      const c = await RespClient.connect(port);
      assert.equal(err(await c.call("PING")), "NOAUTH Authentication required.");
      assert.equal(await c.call("AUTH", "pw1"), "OK");
      const list = await c.call("ACL", "LIST") as string[];
      assert.equal(list[0], `user default on #${hashPassword("pw1")} ~* &* +@all`);
      assert.equal(await c.call("CONFIG", "SET", "requirepass", ""), "OK");
      const d = await RespClient.connect(port);
      assert.equal(await d.call("PING"), "PONG");
      c.close();
      d.close();
    });
  },
});

Deno.test("ioredis connects with username and password options", async () => {
  await withServer(async (admin, port) => {
    assert.equal(
      await admin.call("ACL", "SETUSER", "app", "on", ">apppw", "+@all", "-@dangerous", "~app:*"),
      "OK",
    );
    const client = new Redis({
      port,
      host: "127.0.0.1",
      username: "app",
      password: "apppw",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableReadyCheck: false,
    });
    try {
      await client.connect();
      assert.equal(await client.set("app:1", "v"), "OK");
      assert.equal(await client.get("app:1"), "v");
      await assert.rejects(() => client.get("other"), /NOPERM this user has no permissions/);
      await assert.rejects(() => client.flushall(), /NOPERM .*'flushall' command/);
    } finally {
      client.disconnect();
    }
    const bad = new Redis({
      port,
      host: "127.0.0.1",
      username: "app",
      password: "wrong",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const failure = new Promise<Error>((resolve) => bad.once("error", resolve));
    try {
      await bad.connect().catch(() => {});
      assert.match((await failure).message, /^WRONGPASS invalid username-password pair/);
    } finally {
      bad.disconnect();
    }
  });
});

Deno.test("HELLO AUTH authenticates through the ACL users", async () => {
  await withServer(async (admin, port) => {
    assert.equal(await admin.call("AUTH", "top"), "OK");
    assert.equal(await admin.call("ACL", "SETUSER", "carol", "on", ">c", "+@all", "~*"), "OK");
    const c = await RespClient.connect(port);
    try {
      assert.equal(
        err(await c.call("HELLO", "3", "AUTH", "carol", "bad")),
        "WRONGPASS invalid username-password pair or user is disabled.",
      );
      const reply = await c.call("HELLO", "3", "AUTH", "carol", "c");
      assert.ok(reply instanceof Map);
      assert.equal(await c.call("ACL", "WHOAMI"), "carol");
      const log = await admin.call("ACL", "LOG", "1") as Reply[][];
      assert.deepEqual(log[0].slice(0, 10), [
        "count",
        1,
        "reason",
        "auth",
        "context",
        "toplevel",
        "object",
        "HELLO",
        "username",
        "carol",
      ]);
    } finally {
      c.close();
    }
  }, ["--requirepass", "top"]);
});

Deno.test("ACL LOG records denied commands, keys, channels and auth, grouping repeats", async () => {
  await withServer(async (admin, port) => {
    await admin.call(
      "ACL",
      "SETUSER",
      "dan",
      "on",
      ">d",
      "-@all",
      "+get",
      "+publish",
      "+multi",
      "~k*",
      "&c*",
    );
    const dan = await connectAs(port, "dan", "d");
    try {
      await dan.call("SET", "k", "v");
      await dan.call("GET", "x");
      await dan.call("GET", "x");
      await dan.call("PUBLISH", "zz", "m");
      await dan.call("AUTH", "dan", "wrong");
      await dan.call("MULTI").then(() => dan.call("GET", "y"));
      const log = await admin.call("ACL", "LOG") as Reply[][];
      const summary = log.map((e) => [e[1], e[3], e[5], e[7], e[9]]);
      const expected: Reply[][] = [
        [1, "key", "multi", "y", "dan"],
        [1, "auth", "toplevel", "AUTH", "dan"],
        [1, "channel", "toplevel", "zz", "dan"],
        [2, "key", "toplevel", "x", "dan"],
        [1, "command", "toplevel", "set", "dan"],
      ];
      assert.deepEqual(summary, expected);
      const entry = log[0];
      assert.equal(entry[10], "age-seconds");
      assert.ok(Number(entry[11]) >= 0 && Number(entry[11]) < 5);
      assert.equal(entry[12], "client-info");
      assert.match(entry[13] as string, /^id=\d+ addr=127\.0\.0\.1:\d+ .* user=dan /);
      assert.equal((await admin.call("ACL", "LOG", "2") as Reply[]).length, 2);
      assert.equal((await admin.call("ACL", "LOG", "-1") as Reply[]).length, 0);
      assert.equal(await admin.call("ACL", "LOG", "RESET"), "OK");
      assert.deepEqual(await admin.call("ACL", "LOG"), []);
    } finally {
      dan.close();
    }
  });
});

Deno.test("deleting a user disconnects its clients; DELUSER on oneself replies first", async () => {
  await withServer(async (admin, port) => {
    await admin.call("ACL", "SETUSER", "eve", "on", ">e", "+@all", "~*");
    const eve1 = await connectAs(port, "eve", "e");
    const eve2 = await connectAs(port, "eve", "e");
    assert.equal(await admin.call("ACL", "DELUSER", "eve"), 1);
    assert.ok(await eve1.closedByServer());
    assert.ok(await eve2.closedByServer());
    eve1.close();
    eve2.close();
    await admin.call("ACL", "SETUSER", "frank", "on", ">f", "+@all", "~*");
    const frank = await connectAs(port, "frank", "f");
    assert.equal(await frank.call("ACL", "DELUSER", "frank"), 1);
    assert.ok(await frank.closedByServer());
    frank.close();
    assert.equal(await admin.call("PING"), "PONG");
  });
});

Deno.test("ACL SAVE and ACL LOAD round-trip users through the aclfile", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-acl-" });
  const file = `${dir}/users.acl`;
  await Deno.writeTextFile(file, "user default on nopass ~* &* +@all\n");
  try {
    await withServer(async (admin, port) => {
      const hash = hashPassword("gp");
      await admin.call("ACL", "SETUSER", "gina", "on", ">gp", "-@all", "+@read", "~g:*", "&n");
      await admin.call("ACL", "SETUSER", "hank", "off", "(~x +get)");
      assert.equal(await admin.call("ACL", "SAVE"), "OK");
      const text = await Deno.readTextFile(file);
      assert.equal(
        text,
        "user default on nopass ~* &* +@all\n" +
          `user gina on #${hash} ~g:* resetchannels &n -@all +@read\n` +
          "user hank off resetchannels -@all (~x resetchannels -@all +get)\n",
      );
      assert.ok(!text.includes(">gp"), "passwords are never saved in clear");
      const gina = await connectAs(port, "gina", "gp");
      // LOAD replaces every user: clients of non-default users are disconnected
      await Deno.writeTextFile(file, text + "user ivan on >iv +@all ~*\n");
      assert.equal(await admin.call("ACL", "LOAD"), "OK");
      assert.ok(await gina.closedByServer());
      gina.close();
      assert.deepEqual(await admin.call("ACL", "USERS"), ["default", "gina", "hank", "ivan"]);
      const ivan = await connectAs(port, "ivan", "iv");
      ivan.close();
      // a broken file changes nothing
      await Deno.writeTextFile(
        file,
        "user default on nopass +@all\nuser x bogus\nnot a user line\n",
      );
      const reply = err(await admin.call("ACL", "LOAD"));
      assert.equal(
        reply,
        `ERR ${file}:2: Syntax error. ${file}:3 should start with user keyword followed by the username. ` +
          "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
      );
      assert.deepEqual(await admin.call("ACL", "USERS"), ["default", "gina", "hank", "ivan"]);
      await Deno.remove(file);
      assert.equal(
        err(await admin.call("ACL", "LOAD")),
        `ERR Error loading ACLs, opening file '${file}': No such file or directory`,
      );
    }, ["--aclfile", file]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "ACL SAVE writes the same file as Redis for the same users",
  ignore: !HAVE_REDIS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "redeno-acl-" });
    const oursFile = `${dir}/ours.acl`;
    const realFile = `${dir}/real.acl`;
    await Deno.writeTextFile(oursFile, "");
    await Deno.writeTextFile(realFile, "");
    const t = await startRedeno(["--aclfile", oursFile]);
    const r = await startRealRedis(["--aclfile", realFile]);
    const ours = await RespClient.connect(t.port);
    const real = await RespClient.connect(r.port);
    try {
      for (const c of [ours, real]) {
        await c.call("ACL", "SETUSER", "zed", "on", ">z", "+@all", "-@dangerous", "%R~r*", "&c");
        await c.call("ACL", "SETUSER", "amy", "nopass", "-@all", "+@hash", "allchannels");
        assert.equal(await c.call("ACL", "SAVE"), "OK");
      }
      assert.equal(await Deno.readTextFile(oursFile), await Deno.readTextFile(realFile));
    } finally {
      ours.close();
      real.close();
      await r.stop();
      await t.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("user lines in the config define users; aclfile and user lines together fail", async () => {
  await withServer(async (admin, port) => {
    assert.deepEqual(await admin.call("ACL", "USERS"), ["default", "jim", "kim"]);
    const jim = await connectAs(port, "jim", "jp");
    assert.equal(err(await jim.call("GET", "x")), NOPERM_KEY);
    assert.equal(await jim.call("GET", "j:1"), null);
    jim.close();
    const list = await admin.call("ACL", "LIST") as string[];
    assert.equal(list[2], "user kim off resetchannels -@all");
  }, ["--user", "jim", "on", ">jp", "+@all", "~j:*", "--user", "kim"]);

  await assert.rejects(
    () => startRedeno(["--user", "jim", "on", "bogus"]),
    /Error in user declaration 'bogus': Syntax error/,
  );
  const dir = await Deno.makeTempDir({ prefix: "redeno-acl-" });
  try {
    await Deno.writeTextFile(`${dir}/u.acl`, "");
    await assert.rejects(
      () => startRedeno(["--aclfile", `${dir}/u.acl`, "--user", "jim", "on"]),
      /users defined in redis.conf and at the same setting an ACL file path is invalid/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "channel permissions gate PUBLISH, SUBSCRIBE and PSUBSCRIBE",
  ignore: missing("publish", "subscribe", "psubscribe"),
  async fn() {
    await withServer(async (admin, port) => {
      await admin.call(
        "ACL",
        "SETUSER",
        "pub",
        "on",
        ">p",
        "+@all",
        "~*",
        "resetchannels",
        "&news.*",
      );
      const pub = await connectAs(port, "pub", "p");
      try {
        assert.equal(await pub.call("PUBLISH", "news.1", "m"), 0);
        assert.equal(err(await pub.call("PUBLISH", "sports", "m")), NOPERM_CHANNEL);
        assert.equal(err(await pub.call("SUBSCRIBE", "news.1", "sports")), NOPERM_CHANNEL);
        assert.equal(err(await pub.call("PSUBSCRIBE", "news.1*")), NOPERM_CHANNEL);
        assert.deepEqual(await pub.call("PSUBSCRIBE", "news.*"), ["psubscribe", "news.*", 1]);
        // revoking the channel disconnects the subscribed client
        assert.equal(await admin.call("ACL", "SETUSER", "pub", "resetchannels", "&other"), "OK");
        assert.ok(await pub.closedByServer());
      } finally {
        pub.close();
      }
    });
  },
});

Deno.test("ACL GENPASS returns random hex of the requested size", async () => {
  await withServer(async (admin) => {
    const a = await admin.call("ACL", "GENPASS") as string;
    const b = await admin.call("ACL", "GENPASS") as string;
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.notEqual(a, b);
    assert.match(await admin.call("ACL", "GENPASS", "5") as string, /^[0-9a-f]{2}$/);
    assert.match(await admin.call("ACL", "GENPASS", "4096") as string, /^[0-9a-f]{1024}$/);
  });
});

Deno.test("passwords are stored hashed: GETUSER shows SHA-256 hex only", async () => {
  await withServer(async (admin) => {
    await admin.call("ACL", "SETUSER", "lea", ">plain", `#${"a".repeat(64)}`);
    const user = await admin.call("ACL", "GETUSER", "lea") as Reply[];
    assert.deepEqual(user[3], [hashPassword("plain"), "a".repeat(64)]);
    assert.equal(await admin.call("ACL", "SETUSER", "lea", `!${"a".repeat(64)}`, "<plain"), "OK");
    assert.deepEqual((await admin.call("ACL", "GETUSER", "lea") as Reply[])[3], []);
    // binary passwords: the hash is over the raw bytes
    const raw = "\x00\xff\x80 \xa0pw";
    const digest = await crypto.subtle.digest(
      "SHA-256",
      Uint8Array.from(raw, (ch) => ch.charCodeAt(0)),
    );
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(await admin.call("ACL", "SETUSER", "bin", "on", ">" + raw, "+@all"), "OK");
    assert.deepEqual((await admin.call("ACL", "GETUSER", "bin") as Reply[])[3], [hex]);
    assert.equal(await admin.call("AUTH", "bin", raw), "OK");
    assert.equal(await admin.call("ACL", "SETUSER", "us\xa0er", "on"), "OK");
  });
});

Deno.test("NOPERM inside MULTI aborts EXEC", async () => {
  await withServer(async (admin, port) => {
    await admin.call("ACL", "SETUSER", "mo", "on", ">m", "+@all", "-set", "~*");
    const mo = await connectAs(port, "mo", "m");
    try {
      if (!have("multi", "exec")) return;
      assert.equal(await mo.call("MULTI"), "OK");
      assert.equal(err(await mo.call("SET", "a", "1")), noPermCmd("set"));
      assert.equal(
        err(await mo.call("EXEC")),
        "EXECABORT Transaction discarded because of previous errors.",
      );
    } finally {
      mo.close();
    }
  });
});

Deno.test({
  name: "rules changed after MULTI make EXEC refuse the queued commands with Redis's reasons",
  ignore: missing("multi", "exec", "publish"),
  async fn() {
    await withServer(async (admin, port) => {
      await admin.call("ACL", "SETUSER", "tx", "on", ">t", "+@all", "~*", "&*");
      const tx = await connectAs(port, "tx", "t");
      try {
        assert.deepEqual(
          await tx.pipeline([["MULTI"], ["SET", "a", "1"], ["GET", "b"], ["PUBLISH", "ch", "m"]]),
          ["OK", "QUEUED", "QUEUED", "QUEUED"],
        );
        await admin.call("ACL", "SETUSER", "tx", "-set", "resetkeys", "~a", "resetchannels");
        const prefix =
          "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ";
        const replies = (await tx.call("EXEC") as Reply[]).map(err);
        assert.deepEqual(replies, [
          prefix + "no permission to execute the command or subcommand",
          prefix + "no permission to touch the specified keys",
          prefix + "no permission to access one of the channels used as arguments",
        ]);
        const log = await admin.call("ACL", "LOG") as Reply[][];
        assert.deepEqual(log.map((e) => [e[3], e[5], e[7]]), [
          ["channel", "multi", "ch"],
          ["key", "multi", "b"],
          ["command", "multi", "set"],
        ]);
      } finally {
        tx.close();
      }
    });
  },
});

Deno.test({
  name: "an EXEC the user may not run aborts and discards the transaction, as Redis",
  ignore: !HAVE_REDIS,
  async fn() {
    await sideBySide(async (same) => {
      await same("SET", "a", "before");
      await same("ACL", "SETUSER", "noexec", "on", "nopass", "+@all", "-exec", "~*");
      await same("AUTH", "noexec", "x");
      await same("MULTI");
      await same("SET", "a", "1");
      await same("EXEC");
      await same("GET", "a");
      await same("EXEC");
    });
  },
});

Deno.test("disabled default user: new connections need AUTH as another user", async () => {
  await withServer(async (admin, port) => {
    await admin.call("ACL", "SETUSER", "root", "on", ">r", "+@all", "~*", "&*");
    await admin.call("ACL", "SETUSER", "default", "off");
    const c = await RespClient.connect(port);
    try {
      assert.equal(err(await c.call("PING")), "NOAUTH Authentication required.");
      assert.equal(await c.call("AUTH", "root", "r"), "OK");
      assert.equal(await c.call("PING"), "PONG");
      await waitFor(async () => (await admin.call("PING")) === "PONG");
    } finally {
      c.close();
    }
  });
});

Deno.test({
  name: "MONITOR never shows passwords: AUTH is redacted and ACL SETUSER hidden",
  ignore: missing("monitor"),
  async fn() {
    await withServer(async (admin, port) => {
      const monitor = await RespClient.connect(port);
      try {
        assert.equal(await monitor.call("MONITOR"), "OK");
        await admin.call("ACL", "SETUSER", "mia", "on", ">topsecret", "+@all", "~*");
        await admin.call("AUTH", "mia", "topsecret");
        await admin.call("GET", "k");
        const lines: string[] = [];
        while (!lines.some((l) => l.includes('"GET"'))) lines.push(await monitor.read() as string);
        assert.equal(lines.length, 2);
        assert.match(lines[0], /"AUTH" "\(redacted\)" "\(redacted\)"$/);
        assert.ok(!lines.join("\n").includes("topsecret"));
      } finally {
        monitor.close();
      }
    });
  },
});

Deno.test({
  name: "unauthenticated clients get Redis's tighter protocol limits until they AUTH",
  ignore: !HAVE_REDIS,
  async fn() {
    const t = await startRedeno(["--requirepass", "pw"]);
    const r = await startRealRedis(["--requirepass", "pw"]);
    try {
      for (const port of [t.port, r.port]) {
        for (const raw of ["*20\r\n", "*2\r\n$20000\r\n"]) {
          const c = await RespClient.connect(port);
          await c.write(raw);
          const reply = await c.readRaw(200, 3000);
          assert.match(reply, /^-ERR Protocol error: unauthenticated (multibulk|bulk) length\r\n$/);
          c.close();
        }
        const c = await RespClient.connect(port);
        assert.equal(await c.call("AUTH", "pw"), "OK");
        const args = Array.from({ length: 20 }, (_, i) => `k${i}`);
        assert.equal(await c.call("DEL", ...args), 0);
        c.close();
      }
    } finally {
      await r.stop();
      await t.stop();
    }
  },
});

Deno.test("redeno exits non-zero on a bad user line or on users in both aclfile and config", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-acl-" });
  const main = new URL("../main.ts", import.meta.url).pathname;
  try {
    const conf = `${dir}/redis.conf`;
    await Deno.writeTextFile(`${dir}/users.acl`, "");
    const run = async (lines: string[]) => {
      await Deno.writeTextFile(conf, lines.join("\n") + "\n");
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", main, conf, "--port", "0", "--save", ""],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      return { code: out.code, text };
    };
    const bad = await run(["user alice on >pw bogus"]);
    assert.equal(bad.code, 1);
    assert.match(bad.text, /FATAL CONFIG FILE ERROR/);
    assert.match(
      bad.text,
      /at line 1\n>>> 'user alice on >pw bogus'\nError in user declaration 'bogus': Syntax error/,
    );
    const both = await run([`aclfile ${dir}/users.acl`, "user alice on >pw"]);
    assert.equal(both.code, 1);
    assert.match(both.text, /please define either an ACL file or declare users directly/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "secrets in HELLO AUTH and CONFIG SET requirepass are redacted in MONITOR and SLOWLOG",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const t = await startRedeno();
    const r = await startRealRedis();
    const run = async (port: number) => {
      const c = await RespClient.connect(port);
      const mon = await RespClient.connect(port);
      try {
        await c.call("SLOWLOG", "RESET");
        await c.call("CONFIG", "SET", "slowlog-log-slower-than", "0");
        assert.equal(await mon.call("MONITOR"), "OK");
        await c.call("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*");
        await c.call("HELLO", "2", "AUTH", "u", "pw", "SETNAME", "n1");
        await c.call("HELLO", "2", "SETNAME", "n2", "AUTH", "u", "wrong");
        await c.call("CONFIG", "SET", "requirepass", "s3cret", "maxmemory-samples", "5");
        await c.call("CONFIG", "SET", "masterauth", "m4", "nosuchparam", "x");
        await c.call("AUTH", "s3cret");
        await c.call("CONFIG", "SET", "requirepass", "");
        await c.call("PING");
        // MONITOR lines without the timestamp and client address
        const lines: string[] = [];
        for (;;) {
          const line = String(await mon.read());
          lines.push(line.replace(/^[\d.]+ \[[^\]]*\] /, ""));
          if (line.endsWith('"PING"')) break;
        }
        const slow = (await c.call("SLOWLOG", "GET", "-1")) as Reply[][];
        const argvs = slow.map((e) => e[3]).reverse();
        return { lines, argvs };
      } finally {
        c.close();
        mon.close();
      }
    };
    try {
      const ours = await run(t.port);
      const real = await run(r.port);
      assert.deepEqual(ours.lines, real.lines);
      assert.deepEqual(ours.argvs, real.argvs);
      assert.ok(!JSON.stringify(ours).includes("s3cret"));
      assert.ok(!JSON.stringify(ours).includes('"pw"'));
    } finally {
      await r.stop();
      await t.stop();
    }
  },
});

Deno.test("RESET to an unauthenticated state restores the unauthenticated request limits", async () => {
  const t = await startRedeno(["--requirepass", "pw"]);
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await c.call("AUTH", "pw"), "OK");
    assert.equal(await c.call("RESET"), "RESET");
    assert.deepEqual(await c.call("PING"), new RespError("NOAUTH Authentication required."));
    // more than 10 multibulk items before AUTH is a protocol error again
    await c.write(RespClient.encode(["MSET", ..."abcdefghijkl".split("")]));
    const reply = await c.read();
    assert.ok(reply instanceof RespError && /unauthenticated multibulk length/.test(reply.message));
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("CONFIG REWRITE writes the users as user lines unless an aclfile holds them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-acl-rw-" });
  const conf = `${dir}/redis.conf`;
  const BOB = "user bob on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 " +
    "~k* resetchannels -@all +get";
  const original = "# keep me\nuser stale on nopass ~* +@all\nmaxclients 10000\n";
  const rewrite = async (args: string[]) => {
    await Deno.writeTextFile(conf, original);
    const t = await startRedeno(args);
    t.server.config.file = conf;
    const c = await RespClient.connect(t.port);
    try {
      assert.equal(await c.call("ACL", "SETUSER", "bob", "on", ">x", "~k*", "+get"), "OK");
      assert.equal(await c.call("CONFIG", "REWRITE"), "OK");
      return (await Deno.readTextFile(conf)).trimEnd().split("\n");
    } finally {
      c.close();
      await t.stop();
    }
  };
  try {
    // the first user line is rewritten in place, the others follow the marker (as Redis)
    const lines = await rewrite([]);
    assert.deepEqual(lines.slice(0, 3), ["# keep me", BOB, "maxclients 10000"]);
    assert.ok(lines.indexOf("# Generated by CONFIG REWRITE") > 2);
    assert.deepEqual(lines.filter((l) => l.startsWith("user ")), [
      BOB,
      "user default on nopass ~* &* +@all",
    ]);
    // with an aclfile the users live there: user lines are dropped from the config
    await Deno.writeTextFile(`${dir}/users.acl`, "");
    const withFile = await rewrite(["--aclfile", `${dir}/users.acl`]);
    assert.deepEqual(withFile.filter((l) => l.startsWith("user ")), []);
    assert.deepEqual(withFile.slice(0, 2), ["# keep me", "maxclients 10000"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ACL: losing allchannels disconnects pattern subscribers; SORT BY/GET need full read access", async () => {
  await withServer(async (admin, port) => {
    await admin.call("ACL", "SETUSER", "ps", "on", "nopass", "allchannels", "+@all", "~*");
    const sub = await connectAs(port, "ps", "x");
    await sub.call("CLIENT", "SETNAME", "deathrow");
    await sub.call("PSUBSCRIBE", "foo");
    await admin.call("ACL", "SETUSER", "ps", "resetchannels");
    assert.ok(!String(await admin.call("CLIENT", "LIST")).includes("deathrow"));
    sub.close();

    await admin.call("SET", "v1", "1");
    await admin.call("LPUSH", "mylist", "1");
    const s = await connectAs(port, "ps", "x");
    const BY = "ERR BY option of SORT denied due to insufficient ACL permissions.";
    const GET = "ERR GET option of SORT denied due to insufficient ACL permissions.";
    for (const rules of [["~mylist"], ["~mylist", "~v*"], ["~mylist", "%W~*"]]) {
      await admin.call("ACL", "SETUSER", "ps", "resetkeys", ...rules);
      assert.equal(err(await s.call("SORT", "mylist", "BY", "v*")), BY);
      assert.equal(err(await s.call("SORT", "mylist", "GET", "v*")), GET);
    }
    // a BY pattern without "*" does not read other keys
    assert.deepEqual(await s.call("SORT", "mylist", "BY", "nosort"), ["1"]);
    await admin.call("ACL", "SETUSER", "ps", "resetkeys", "~mylist", "%R~*");
    assert.deepEqual(await s.call("SORT", "mylist", "BY", "v*"), ["1"]);
    assert.deepEqual(await s.call("SORT", "mylist", "GET", "v*"), ["1"]);
    s.close();
  });
});

Deno.test({
  name: "a command denied inside a script is logged in the lua context and errors like Redis",
  ignore: !HAVE_REDIS || !have("eval"),
  fn: async () => {
    const t = await startRedeno();
    const r = await startRealRedis();
    const run = async (port: number) => {
      const admin = await RespClient.connect(port);
      await admin.call("ACL", "SETUSER", "x", "on", ">p", "+eval", "~*");
      const c = await connectAs(port, "x", "p");
      try {
        const out: Reply[] = [];
        out.push(await c.call("EVAL", "return redis.pcall('incr','foo')", "0"));
        await admin.call("ACL", "SETUSER", "x", "+incr", "resetkeys", "~bar");
        out.push(await c.call("EVAL", "return redis.pcall('incr','foo')", "0"));
        const log = await admin.call("ACL", "LOG") as Reply[][];
        for (const e of log) {
          const m = new Map<string, Reply>();
          for (let i = 0; i < e.length; i += 2) m.set(e[i] as string, e[i + 1]);
          const info = String(m.get("client-info"));
          out.push([m.get("context")!, m.get("object")!, /cmd=(\S+)/.exec(info)![1]]);
        }
        return out;
      } finally {
        c.close();
        admin.close();
      }
    };
    try {
      const ours = await run(t.port);
      assert.deepEqual(ours, await run(r.port));
      assert.deepEqual(ours.slice(2), [["lua", "foo", "eval"], ["lua", "incr", "eval"]]);
    } finally {
      await r.stop();
      await t.stop();
    }
  },
});

Deno.test("a relative aclfile is relative to dir", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-acl-rel-" });
  try {
    await Deno.writeTextFile(
      `${dir}/rel.acl`,
      "user default on nopass ~* &* +@all\nuser r on nopass\n",
    );
    await withServer(async (admin) => {
      assert.deepEqual(await admin.call("ACL", "USERS"), ["default", "r"]);
      await admin.call("ACL", "SETUSER", "s", "on");
      assert.equal(await admin.call("ACL", "SAVE"), "OK");
      assert.match(await Deno.readTextFile(`${dir}/rel.acl`), /^user s on/m);
    }, ["--dir", dir, "--aclfile", "rel.acl"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
