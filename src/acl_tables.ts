/**
 * Redis 7.0 command data the ACL needs beyond what the command table carries, extracted
 * from a real redis-server 7.0 (COMMAND INFO):
 *
 * - the key access flags of each command's key specs, as the ACL key check uses them
 *   (Redis: ACLSelectorCheckKey). "R" = the key's value is read (ACCESS), "W" = the key
 *   is written (INSERT, DELETE or UPDATE), "" = neither (EXISTS, TYPE...). Commands with
 *   several key specs list them as "<first key index>=<flags>" or "kw:<KEYWORD>=<flags>".
 * - the ACL categories Redis declares for each command beyond those its flags imply
 *   (the command JSON files' acl_categories), so ACL CAT and +@category match Redis
 *   even where a family module leaves them out.
 */
const TABLE = `
append:W bitcount:R bitfield:RW bitfield_ro:R bitop:2=W,3=R bitpos:R blmove:1=RW,2=W blmpop:RW
blpop:RW brpop:RW brpoplpush:1=RW,2=W bzmpop:RW bzpopmax:RW bzpopmin:RW copy:1=R,2=W decr:RW
decrby:RW del:W dump:R eval:RW eval_ro:R evalsha:RW evalsha_ro:R exists: expire:W expireat:W
expiretime:R fcall:RW fcall_ro:R geoadd:W geodist:R geohash:R geopos:R georadius:1=R,kw:STORE=W,kw:STOREDIST=W
georadius_ro:R georadiusbymember:1=R,kw:STORE=W,kw:STOREDIST=W georadiusbymember_ro:R geosearch:R
geosearchstore:1=W,2=R get:R getbit:R getdel:RW getex:RW getrange:R getset:RW hdel:W hexists:
hget:R hgetall:R hincrby:RW hincrbyfloat:RW hkeys:R hlen: hmget:R hmset:W hrandfield:R
hscan:R hset:W hsetnx:W hstrlen: hvals:R incr:RW incrby:RW incrbyfloat:RW lcs:R lindex:R
linsert:W llen: lmove:1=RW,2=W lmpop:RW lpop:RW lpos:R lpush:W lpushx:W lrange:R lrem:W
lset:W ltrim:W memory|usage: mget:R migrate:RW move:RW mset:W msetnx:W object|encoding:
object|freq: object|idletime: object|refcount: persist:W pexpire:W pexpireat:W pexpiretime:R
pfadd:W pfcount:R pfdebug:R pfmerge:1=RW,2=R psetex:W pttl:R rename:1=RW,2=W renamenx:1=RW,2=W
restore:W restore-asking:W rpop:RW rpoplpush:1=RW,2=W rpush:W rpushx:W sadd:W scard: sdiff:R
sdiffstore:1=W,2=R set:RW setbit:RW setex:W setnx:W setrange:W sinter:R sintercard:R sinterstore:1=W,2=R
sismember: smembers:R smismember:R smove:1=RW,2=W sort:1=R,kw:STORE=W sort_ro:R spop:RW
spublish: srandmember:R srem:W sscan:R ssubscribe: strlen: substr:R sunion:R sunionstore:1=W,2=R
sunsubscribe: touch: ttl:R type: unlink:W watch: xack:W xadd:W xautoclaim:W xclaim:W xdel:W
xgroup|create:W xgroup|createconsumer:W xgroup|delconsumer:W xgroup|destroy:W xgroup|setid:W
xinfo|consumers:R xinfo|groups:R xinfo|stream:R xlen: xpending:R xrange:R xread:R xreadgroup:R
xrevrange:R xsetid:W xtrim:W zadd:W zcard: zcount:R zdiff:R zdiffstore:1=W,2=R zincrby:RW
zinter:R zintercard:R zinterstore:1=W,2=R zlexcount:R zmpop:RW zmscore:R zpopmax:RW zpopmin:RW
zrandmember:R zrange:R zrangebylex:R zrangebyscore:R zrangestore:1=W,2=R zrank:R zrem:W
zremrangebylex:W zremrangebyrank:W zremrangebyscore:W zrevrange:R zrevrangebylex:R zrevrangebyscore:R
zrevrank:R zscan:R zscore:R zunion:R zunionstore:1=W,2=R
`;

const CATEGORY_TABLE = `
append:string asking:connection auth:connection bitcount:bitmap bitfield:bitmap
bitfield_ro:bitmap bitop:bitmap bitpos:bitmap blmove:list blmpop:list blpop:list brpop:list
brpoplpush:list bzmpop:sortedset bzpopmax:sortedset bzpopmin:sortedset
client|caching:connection client|getname:connection client|getredir:connection
client|help:connection client|id:connection client|info:connection client|kill:connection
client|list:connection client|no-evict:connection client|pause:connection
client|reply:connection client|setname:connection client|tracking:connection
client|trackinginfo:connection client|unblock:connection client|unpause:connection
command:connection command|count:connection command|docs:connection command|getkeys:connection
command|getkeysandflags:connection command|help:connection command|info:connection
command|list:connection copy:keyspace dbsize:keyspace decr:string decrby:string del:keyspace
discard:transaction dump:keyspace echo:connection eval:scripting eval_ro:scripting
evalsha:scripting evalsha_ro:scripting exec:transaction exists:keyspace expire:keyspace
expireat:keyspace expiretime:keyspace fcall:scripting fcall_ro:scripting
flushall:keyspace,dangerous flushdb:keyspace,dangerous function|delete:scripting
function|dump:scripting function|flush:scripting function|help:scripting
function|kill:scripting function|list:scripting function|load:scripting
function|restore:scripting function|stats:scripting geoadd:geo geodist:geo geohash:geo
geopos:geo georadius:geo georadius_ro:geo georadiusbymember:geo georadiusbymember_ro:geo
geosearch:geo geosearchstore:geo get:string getbit:bitmap getdel:string getex:string
getrange:string getset:string hdel:hash hello:connection hexists:hash hget:hash hgetall:hash
hincrby:hash hincrbyfloat:hash hkeys:hash hlen:hash hmget:hash hmset:hash hrandfield:hash
hscan:hash hset:hash hsetnx:hash hstrlen:hash hvals:hash incr:string incrby:string
incrbyfloat:string info:dangerous keys:keyspace,dangerous lastsave:admin,dangerous lcs:string
lindex:list linsert:list llen:list lmove:list lmpop:list lpop:list lpos:list lpush:list
lpushx:list lrange:list lrem:list lset:list ltrim:list mget:string migrate:keyspace,dangerous
move:keyspace mset:string msetnx:string multi:transaction object|encoding:keyspace
object|freq:keyspace object|help:keyspace object|idletime:keyspace object|refcount:keyspace
persist:keyspace pexpire:keyspace pexpireat:keyspace pexpiretime:keyspace pfadd:hyperloglog
pfcount:hyperloglog pfdebug:hyperloglog pfmerge:hyperloglog pfselftest:hyperloglog
ping:connection psetex:string pttl:keyspace quit:connection randomkey:keyspace
readonly:connection readwrite:connection rename:keyspace renamenx:keyspace reset:connection
restore-asking:keyspace,dangerous restore:keyspace,dangerous role:admin,dangerous rpop:list
rpoplpush:list rpush:list rpushx:list sadd:set scan:keyspace scard:set script|debug:scripting
script|exists:scripting script|flush:scripting script|help:scripting script|kill:scripting
script|load:scripting sdiff:set sdiffstore:set select:connection set:string setbit:bitmap
setex:string setnx:string setrange:string sinter:set sintercard:set sinterstore:set
sismember:set smembers:set smismember:set smove:set sort:set,sortedset,list,dangerous
sort_ro:set,sortedset,list,dangerous spop:set srandmember:set srem:set sscan:set strlen:string
substr:string sunion:set sunionstore:set swapdb:keyspace,dangerous touch:keyspace ttl:keyspace
type:keyspace unlink:keyspace unwatch:transaction wait:connection watch:transaction
xack:stream xadd:stream xautoclaim:stream xclaim:stream xdel:stream xgroup|create:stream
xgroup|createconsumer:stream xgroup|delconsumer:stream xgroup|destroy:stream
xgroup|help:stream xgroup|setid:stream xinfo|consumers:stream xinfo|groups:stream
xinfo|help:stream xinfo|stream:stream xlen:stream xpending:stream xrange:stream xread:stream
xreadgroup:stream xrevrange:stream xsetid:stream xtrim:stream zadd:sortedset zcard:sortedset
zcount:sortedset zdiff:sortedset zdiffstore:sortedset zincrby:sortedset zinter:sortedset
zintercard:sortedset zinterstore:sortedset zlexcount:sortedset zmpop:sortedset
zmscore:sortedset zpopmax:sortedset zpopmin:sortedset zrandmember:sortedset zrange:sortedset
zrangebylex:sortedset zrangebyscore:sortedset zrangestore:sortedset zrank:sortedset
zrem:sortedset zremrangebylex:sortedset zremrangebyrank:sortedset zremrangebyscore:sortedset
zrevrange:sortedset zrevrangebylex:sortedset zrevrangebyscore:sortedset zrevrank:sortedset
zscan:sortedset zscore:sortedset zunion:sortedset zunionstore:sortedset
`;

/** Categories Redis declares beyond the flag-derived ones, by full command name. */
export const EXPLICIT_CATEGORIES: ReadonlyMap<string, readonly string[]> = new Map(
  CATEGORY_TABLE.split(/\s+/).filter((e) => e !== "").map((e) => {
    const colon = e.indexOf(":");
    return [e.slice(0, colon), e.slice(colon + 1).split(",")];
  }),
);

/** One key spec: where it starts (an argv index or a keyword) and the flags it needs. */
export interface KeySpecFlags {
  index: number;
  keyword: string | null;
  read: boolean;
  write: boolean;
}

/** Key specs by full command name ("get", "object|encoding"). */
export const KEY_SPEC_FLAGS: ReadonlyMap<string, KeySpecFlags[]> = parseTable(TABLE);

function parseTable(text: string): Map<string, KeySpecFlags[]> {
  const out = new Map<string, KeySpecFlags[]>();
  for (const entry of text.split(/\s+/)) {
    if (entry === "") continue;
    const colon = entry.indexOf(":");
    const name = entry.slice(0, colon);
    const specs: KeySpecFlags[] = [];
    for (const part of entry.slice(colon + 1).split(",")) {
      const eq = part.indexOf("=");
      const where = eq < 0 ? "" : part.slice(0, eq);
      const flags = eq < 0 ? part : part.slice(eq + 1);
      specs.push({
        index: where.startsWith("kw:") || where === "" ? 0 : Number(where),
        keyword: where.startsWith("kw:") ? where.slice(3) : null,
        read: flags.includes("R"),
        write: flags.includes("W"),
      });
    }
    out.set(name, specs);
  }
  return out;
}
