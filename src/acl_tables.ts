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
 * - every Redis 7.0 command and subcommand with all its categories: rules naming a
 *   command Redeno does not implement (+eval, -cluster) are accepted as Redis accepts
 *   them, and category sizes match Redis's, so ACL LIST's best-fit descriptors do too.
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

const REDIS_COMMAND_TABLE = `
acl:slow acl|cat:slow acl|deluser:admin,slow,dangerous acl|dryrun:admin,slow,dangerous
acl|genpass:slow acl|getuser:admin,slow,dangerous acl|help:slow acl|list:admin,slow,dangerous
acl|load:admin,slow,dangerous acl|log:admin,slow,dangerous acl|save:admin,slow,dangerous
acl|setuser:admin,slow,dangerous acl|users:admin,slow,dangerous acl|whoami:slow
append:write,string,fast asking:fast,connection auth:fast,connection
bgrewriteaof:admin,slow,dangerous bgsave:admin,slow,dangerous bitcount:read,bitmap,slow
bitfield:write,bitmap,slow bitfield_ro:read,bitmap,fast bitop:write,bitmap,slow
bitpos:read,bitmap,slow blmove:write,list,slow,blocking blmpop:write,list,slow,blocking
blpop:write,list,slow,blocking brpop:write,list,slow,blocking
brpoplpush:write,list,slow,blocking bzmpop:write,sortedset,slow,blocking
bzpopmax:write,sortedset,fast,blocking bzpopmin:write,sortedset,fast,blocking client:slow
client|caching:slow,connection client|getname:slow,connection client|getredir:slow,connection
client|help:slow,connection client|id:slow,connection client|info:slow,connection
client|kill:admin,slow,dangerous,connection client|list:admin,slow,dangerous,connection
client|no-evict:admin,slow,dangerous,connection client|pause:admin,slow,dangerous,connection
client|reply:slow,connection client|setname:slow,connection client|tracking:slow,connection
client|trackinginfo:slow,connection client|unblock:admin,slow,dangerous,connection
client|unpause:admin,slow,dangerous,connection cluster:slow
cluster|addslots:admin,slow,dangerous cluster|addslotsrange:admin,slow,dangerous
cluster|bumpepoch:admin,slow,dangerous cluster|count-failure-reports:admin,slow,dangerous
cluster|countkeysinslot:slow cluster|delslots:admin,slow,dangerous
cluster|delslotsrange:admin,slow,dangerous cluster|failover:admin,slow,dangerous
cluster|flushslots:admin,slow,dangerous cluster|forget:admin,slow,dangerous
cluster|getkeysinslot:slow cluster|help:slow cluster|info:slow cluster|keyslot:slow
cluster|links:slow cluster|meet:admin,slow,dangerous cluster|myid:slow cluster|nodes:slow
cluster|replicas:admin,slow,dangerous cluster|replicate:admin,slow,dangerous
cluster|reset:admin,slow,dangerous cluster|saveconfig:admin,slow,dangerous
cluster|set-config-epoch:admin,slow,dangerous cluster|setslot:admin,slow,dangerous
cluster|shards:slow cluster|slaves:admin,slow,dangerous cluster|slots:slow
command:slow,connection command|count:slow,connection command|docs:slow,connection
command|getkeys:slow,connection command|getkeysandflags:slow,connection
command|help:slow,connection command|info:slow,connection command|list:slow,connection
config:slow config|get:admin,slow,dangerous config|help:slow
config|resetstat:admin,slow,dangerous config|rewrite:admin,slow,dangerous
config|set:admin,slow,dangerous copy:keyspace,write,slow dbsize:keyspace,read,fast
debug:admin,slow,dangerous decr:write,string,fast decrby:write,string,fast
del:keyspace,write,slow discard:fast,transaction dump:keyspace,read,slow echo:fast,connection
eval:slow,scripting eval_ro:slow,scripting evalsha:slow,scripting evalsha_ro:slow,scripting
exec:slow,transaction exists:keyspace,read,fast expire:keyspace,write,fast
expireat:keyspace,write,fast expiretime:keyspace,read,fast failover:admin,slow,dangerous
fcall:slow,scripting fcall_ro:slow,scripting flushall:keyspace,write,slow,dangerous
flushdb:keyspace,write,slow,dangerous function:slow function|delete:write,slow,scripting
function|dump:slow,scripting function|flush:write,slow,scripting function|help:slow,scripting
function|kill:slow,scripting function|list:slow,scripting function|load:write,slow,scripting
function|restore:write,slow,scripting function|stats:slow,scripting geoadd:write,geo,slow
geodist:read,geo,slow geohash:read,geo,slow geopos:read,geo,slow georadius:write,geo,slow
georadius_ro:read,geo,slow georadiusbymember:write,geo,slow georadiusbymember_ro:read,geo,slow
geosearch:read,geo,slow geosearchstore:write,geo,slow get:read,string,fast
getbit:read,bitmap,fast getdel:write,string,fast getex:write,string,fast
getrange:read,string,slow getset:write,string,fast hdel:write,hash,fast hello:fast,connection
hexists:read,hash,fast hget:read,hash,fast hgetall:read,hash,slow hincrby:write,hash,fast
hincrbyfloat:write,hash,fast hkeys:read,hash,slow hlen:read,hash,fast hmget:read,hash,fast
hmset:write,hash,fast hrandfield:read,hash,slow hscan:read,hash,slow hset:write,hash,fast
hsetnx:write,hash,fast hstrlen:read,hash,fast hvals:read,hash,slow incr:write,string,fast
incrby:write,string,fast incrbyfloat:write,string,fast info:slow,dangerous
keys:keyspace,read,slow,dangerous lastsave:admin,fast,dangerous latency:slow
latency|doctor:admin,slow,dangerous latency|graph:admin,slow,dangerous latency|help:slow
latency|histogram:admin,slow,dangerous latency|history:admin,slow,dangerous
latency|latest:admin,slow,dangerous latency|reset:admin,slow,dangerous lcs:read,string,slow
lindex:read,list,slow linsert:write,list,slow llen:read,list,fast lmove:write,list,slow
lmpop:write,list,slow lolwut:read,fast lpop:write,list,fast lpos:read,list,slow
lpush:write,list,fast lpushx:write,list,fast lrange:read,list,slow lrem:write,list,slow
lset:write,list,slow ltrim:write,list,slow memory:slow memory|doctor:slow memory|help:slow
memory|malloc-stats:slow memory|purge:slow memory|stats:slow memory|usage:read,slow
mget:read,string,fast migrate:keyspace,write,slow,dangerous module:slow module|help:slow
module|list:admin,slow,dangerous module|load:admin,slow,dangerous
module|loadex:admin,slow,dangerous module|unload:admin,slow,dangerous
monitor:admin,slow,dangerous move:keyspace,write,fast mset:write,string,slow
msetnx:write,string,slow multi:fast,transaction object:slow object|encoding:keyspace,read,slow
object|freq:keyspace,read,slow object|help:keyspace,slow object|idletime:keyspace,read,slow
object|refcount:keyspace,read,slow persist:keyspace,write,fast pexpire:keyspace,write,fast
pexpireat:keyspace,write,fast pexpiretime:keyspace,read,fast pfadd:write,hyperloglog,fast
pfcount:read,hyperloglog,slow pfdebug:write,hyperloglog,admin,slow,dangerous
pfmerge:write,hyperloglog,slow pfselftest:hyperloglog,admin,slow,dangerous
ping:fast,connection psetex:write,string,slow psubscribe:pubsub,slow
psync:admin,slow,dangerous pttl:keyspace,read,fast publish:pubsub,fast pubsub:slow
pubsub|channels:pubsub,slow pubsub|help:slow pubsub|numpat:pubsub,slow
pubsub|numsub:pubsub,slow pubsub|shardchannels:pubsub,slow pubsub|shardnumsub:pubsub,slow
punsubscribe:pubsub,slow quit:fast,connection randomkey:keyspace,read,slow
readonly:fast,connection readwrite:fast,connection rename:keyspace,write,slow
renamenx:keyspace,write,fast replconf:admin,slow,dangerous replicaof:admin,slow,dangerous
reset:fast,connection restore-asking:keyspace,write,slow,dangerous
restore:keyspace,write,slow,dangerous role:admin,fast,dangerous rpop:write,list,fast
rpoplpush:write,list,slow rpush:write,list,fast rpushx:write,list,fast sadd:write,set,fast
save:admin,slow,dangerous scan:keyspace,read,slow scard:read,set,fast script:slow
script|debug:slow,scripting script|exists:slow,scripting script|flush:slow,scripting
script|help:slow,scripting script|kill:slow,scripting script|load:slow,scripting
sdiff:read,set,slow sdiffstore:write,set,slow select:fast,connection set:write,string,slow
setbit:write,bitmap,slow setex:write,string,slow setnx:write,string,fast
setrange:write,string,slow shutdown:admin,slow,dangerous sinter:read,set,slow
sintercard:read,set,slow sinterstore:write,set,slow sismember:read,set,fast
slaveof:admin,slow,dangerous slowlog:slow slowlog|get:admin,slow,dangerous slowlog|help:slow
slowlog|len:admin,slow,dangerous slowlog|reset:admin,slow,dangerous smembers:read,set,slow
smismember:read,set,fast smove:write,set,fast sort:write,set,sortedset,list,slow,dangerous
sort_ro:read,set,sortedset,list,slow,dangerous spop:write,set,fast spublish:pubsub,fast
srandmember:read,set,slow srem:write,set,fast sscan:read,set,slow ssubscribe:pubsub,slow
strlen:read,string,fast subscribe:pubsub,slow substr:read,string,slow sunion:read,set,slow
sunionstore:write,set,slow sunsubscribe:pubsub,slow swapdb:keyspace,write,fast,dangerous
sync:admin,slow,dangerous time:fast touch:keyspace,read,fast ttl:keyspace,read,fast
type:keyspace,read,fast unlink:keyspace,write,fast unsubscribe:pubsub,slow
unwatch:fast,transaction wait:slow,connection watch:fast,transaction xack:write,stream,fast
xadd:write,stream,fast xautoclaim:write,stream,fast xclaim:write,stream,fast
xdel:write,stream,fast xgroup:slow xgroup|create:write,stream,slow
xgroup|createconsumer:write,stream,slow xgroup|delconsumer:write,stream,slow
xgroup|destroy:write,stream,slow xgroup|help:stream,slow xgroup|setid:write,stream,slow
xinfo:slow xinfo|consumers:read,stream,slow xinfo|groups:read,stream,slow
xinfo|help:stream,slow xinfo|stream:read,stream,slow xlen:read,stream,fast
xpending:read,stream,slow xrange:read,stream,slow xread:read,stream,slow,blocking
xreadgroup:write,stream,slow,blocking xrevrange:read,stream,slow xsetid:write,stream,fast
xtrim:write,stream,slow zadd:write,sortedset,fast zcard:read,sortedset,fast
zcount:read,sortedset,fast zdiff:read,sortedset,slow zdiffstore:write,sortedset,slow
zincrby:write,sortedset,fast zinter:read,sortedset,slow zintercard:read,sortedset,slow
zinterstore:write,sortedset,slow zlexcount:read,sortedset,fast zmpop:write,sortedset,slow
zmscore:read,sortedset,fast zpopmax:write,sortedset,fast zpopmin:write,sortedset,fast
zrandmember:read,sortedset,slow zrange:read,sortedset,slow zrangebylex:read,sortedset,slow
zrangebyscore:read,sortedset,slow zrangestore:write,sortedset,slow zrank:read,sortedset,fast
zrem:write,sortedset,fast zremrangebylex:write,sortedset,slow
zremrangebyrank:write,sortedset,slow zremrangebyscore:write,sortedset,slow
zrevrange:read,sortedset,slow zrevrangebylex:read,sortedset,slow
zrevrangebyscore:read,sortedset,slow zrevrank:read,sortedset,fast zscan:read,sortedset,slow
zscore:read,sortedset,fast zunion:read,sortedset,slow zunionstore:write,sortedset,slow
`;

/** Every Redis 7.0 command and subcommand with its ACL categories (containers first). */
export const REDIS_COMMAND_CATEGORIES: ReadonlyMap<string, readonly string[]> = new Map(
  REDIS_COMMAND_TABLE.split(/\s+/).filter((e) => e !== "").map((e) => {
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
