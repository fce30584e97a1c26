/**
 * Pub/Sub commands (Redis: pubsub.c): SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
 * SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB. The registries live in
 * src/pubsub.ts. Confirmations are push frames in RESP3 and arrays in RESP2.
 */
import type { Client } from "../client.ts";
import { pubsubOf } from "../pubsub.ts";
import { globMatch } from "../store/glob.ts";
import { cmd, type CommandSpec, container } from "./table.ts";

/** One kind of subscription (Redis's pubsubtype). */
interface Kind {
  subscribeMsg: string;
  unsubscribeMsg: string;
  /** the client's own set of names */
  own(c: Client): Set<string>;
  /** the server registry */
  registry(c: Client): Map<string, Set<Client>>;
  /** the count shown in confirmations */
  count(c: Client): number;
}

const classic = (c: Client) => c.channels.size + c.patterns.size;

const CHANNEL: Kind = {
  subscribeMsg: "subscribe",
  unsubscribeMsg: "unsubscribe",
  own: (c) => c.channels,
  registry: (c) => pubsubOf(c.server).channels,
  count: classic,
};
const PATTERN: Kind = {
  subscribeMsg: "psubscribe",
  unsubscribeMsg: "punsubscribe",
  own: (c) => c.patterns,
  registry: (c) => pubsubOf(c.server).patterns,
  count: classic,
};
const SHARD: Kind = {
  subscribeMsg: "ssubscribe",
  unsubscribeMsg: "sunsubscribe",
  own: (c) => c.shardChannels,
  registry: (c) => pubsubOf(c.server).shardChannels,
  count: (c) => c.shardChannels.size,
};

function confirm(c: Client, kind: string, name: string | null, count: number): void {
  if (c.replyMode !== "on") c.pushing = true;
  c.reply.push(3);
  c.reply.bulk(kind);
  if (name === null) c.reply.nil();
  else c.reply.bulk(name);
  c.reply.int(count);
}

function subscribe(c: Client, names: string[], kind: Kind): void {
  const own = kind.own(c);
  const registry = kind.registry(c);
  for (const name of names) {
    if (!own.has(name)) {
      own.add(name);
      let set = registry.get(name);
      if (set === undefined) registry.set(name, set = new Set());
      set.add(c);
    }
    confirm(c, kind.subscribeMsg, name, kind.count(c));
  }
}

function unsubscribeOne(c: Client, name: string, kind: Kind): void {
  const own = kind.own(c);
  if (own.delete(name)) {
    const registry = kind.registry(c);
    const set = registry.get(name);
    if (set !== undefined) {
      set.delete(c);
      if (set.size === 0) registry.delete(name);
    }
  }
  confirm(c, kind.unsubscribeMsg, name, kind.count(c));
}

function unsubscribe(c: Client, names: string[], kind: Kind): void {
  if (names.length > 0) {
    for (const name of names) unsubscribeOne(c, name, kind);
    return;
  }
  const own = kind.own(c);
  if (own.size === 0) return confirm(c, kind.unsubscribeMsg, null, kind.count(c));
  for (const name of [...own]) unsubscribeOne(c, name, kind);
}

function publish(c: Client, argv: string[]): void {
  c.reply.int(pubsubOf(c.server).publish(argv[1], argv[2]));
  // Redis 7.0: forceCommandPropagation(c, PROPAGATE_REPL): replicas, not the AOF
  c.server.alsoPropagate(c.db.id, argv, true);
}

function spublish(c: Client, argv: string[]): void {
  c.reply.int(pubsubOf(c.server).spublish(argv[1], argv[2]));
  c.server.alsoPropagate(c.db.id, argv, true);
}

function replyChannels(c: Client, registry: Map<string, Set<Client>>, pattern?: string): void {
  const out: string[] = [];
  for (const name of registry.keys()) {
    if (pattern === undefined || globMatch(pattern, name)) out.push(name);
  }
  c.reply.bulkArray(out);
}

function replyNumsub(c: Client, registry: Map<string, Set<Client>>, names: string[]): void {
  c.reply.array(names.length * 2);
  for (const name of names) {
    c.reply.bulk(name);
    c.reply.int(registry.get(name)?.size ?? 0);
  }
}

function subSyntax(c: Client, argv: string[]): void {
  c.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try PUBSUB HELP.`);
}

const PUBSUB_HELP = [
  "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
  "HELP",
  "    Prints this help.",
];

const SUB_FLAGS = "pubsub noscript loading stale";
const PUB_FLAGS = "pubsub loading stale fast may_replicate";

/** The pubsub command specs. */
export const commands: CommandSpec[] = [
  cmd("pubsub", "subscribe", -2, SUB_FLAGS, (c, argv) => subscribe(c, argv.slice(1), CHANNEL)),
  cmd("pubsub", "unsubscribe", -1, SUB_FLAGS, (c, argv) => unsubscribe(c, argv.slice(1), CHANNEL)),
  cmd("pubsub", "psubscribe", -2, SUB_FLAGS, (c, argv) => subscribe(c, argv.slice(1), PATTERN)),
  cmd(
    "pubsub",
    "punsubscribe",
    -1,
    SUB_FLAGS,
    (c, argv) => unsubscribe(c, argv.slice(1), PATTERN),
  ),
  cmd("pubsub", "ssubscribe", -2, SUB_FLAGS, (c, argv) => subscribe(c, argv.slice(1), SHARD), {
    keys: [1, -1, 1],
  }),
  cmd(
    "pubsub",
    "sunsubscribe",
    -1,
    SUB_FLAGS,
    (c, argv) => unsubscribe(c, argv.slice(1), SHARD),
    { keys: [1, -1, 1] },
  ),
  cmd("pubsub", "publish", 3, PUB_FLAGS, publish),
  cmd("pubsub", "spublish", 3, PUB_FLAGS, spublish, { keys: [1, 1, 1] }),
  container("pubsub", "pubsub", -2, [
    cmd("pubsub", "channels", -2, "pubsub loading stale", (c, argv) => {
      if (argv.length > 3) return subSyntax(c, argv);
      replyChannels(c, pubsubOf(c.server).channels, argv[2]);
    }),
    cmd("pubsub", "numsub", -2, "pubsub loading stale", (c, argv) => {
      replyNumsub(c, pubsubOf(c.server).channels, argv.slice(2));
    }),
    cmd("pubsub", "numpat", 2, "pubsub loading stale", (c) => {
      c.reply.int(pubsubOf(c.server).patterns.size);
    }),
    cmd("pubsub", "shardchannels", -2, "pubsub loading stale", (c, argv) => {
      if (argv.length > 3) return subSyntax(c, argv);
      replyChannels(c, pubsubOf(c.server).shardChannels, argv[2]);
    }),
    cmd("pubsub", "shardnumsub", -2, "pubsub loading stale", (c, argv) => {
      replyNumsub(c, pubsubOf(c.server).shardChannels, argv.slice(2));
    }),
    cmd("pubsub", "help", 2, "loading stale", (c) => {
      c.reply.array(PUBSUB_HELP.length);
      for (const l of PUBSUB_HELP) c.reply.simple(l);
    }),
  ]),
];
