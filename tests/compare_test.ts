/**
 * Side by side with a real redis-server 7.0: the same command sequences go to Redeno
 * and to Redis and every decoded reply must be identical (strings, keys, bitmaps,
 * transactions; errors included, byte for byte).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  HAVE_REDIS,
  parseCommands,
  type Reply,
  RespClient,
  startRealRedis,
  startRedeno,
  waitFor,
} from "./helpers.ts";
import { digest, waitInSync, waitLinkUp } from "./replication_util.ts";
import { rawReplyDiffs } from "./helpers.ts";

type Cmd = Array<string | number>;

/** Replies whose content is inherently different between servers are normalised. */
interface Normalise {
  /** sort the reply array (KEYS) */
  sort?: boolean;
}

const BIN = "\x00\x01\xff\x80\r\n bin";

/** Command sequences: each group starts from an empty keyspace. */
const GROUPS: Record<string, Array<Cmd | [Cmd, Normalise]>> = {
  "strings: SET options and errors": [
    ["SET", "k", "v"],
    ["GET", "k"],
    ["SET", "k", "v2", "NX"],
    ["SET", "k", "v2", "XX"],
    ["SET", "nokey", "v", "XX"],
    ["SET", "k", "v3", "GET"],
    ["SET", "new", "v", "GET"],
    ["SET", "k", "v", "NX", "XX"],
    ["SET", "k", "v", "XX", "NX"],
    ["SET", "k", "v", "EX"],
    ["SET", "k", "v", "EX", "10", "PX", "100"],
    ["SET", "k", "v", "EX", "10", "KEEPTTL"],
    ["SET", "k", "v", "KEEPTTL", "EX", "10"],
    ["SET", "k", "v", "EX", "0"],
    ["SET", "k", "v", "EX", "-1"],
    ["SET", "k", "v", "PX", "0"],
    ["SET", "k", "v", "EX", "abc"],
    ["SET", "k", "v", "EX", "9223372036854775807"],
    ["SET", "k", "v", "PX", "9223372036854775807"],
    ["SET", "k", "v", "EXAT", "9223372036854775"],
    ["SET", "k", "v", "EXAT", "9223372036854776"],
    ["SET", "k", "v", "PERSIST"],
    ["SET", "k", "v", "FOO"],
    ["SET", "k", "v", "EX", "100", "EX", "200"],
    ["TTL", "k"],
    ["SET", "k", "v", "KEEPTTL"],
    ["TTL", "k"],
    ["SET", "k", "v"],
    ["TTL", "k"],
    ["SET", "k", "v", "px", "100000", "nx"],
    ["SET", "k", "v", "px", "100000", "xx", "get"],
    ["LPUSH", "list", "a"],
    ["SET", "list", "v", "GET"],
    ["GET", "list"],
    ["SET", "list", "x"],
    ["GET", "list"],
    ["SET"],
    ["SET", "k"],
    ["GET"],
    ["GET", "a", "b"],
    ["SET", BIN, BIN],
    ["GET", BIN],
    ["SET", "", ""],
    ["GET", ""],
    ["STRLEN", ""],
  ],
  "strings: SETNX SETEX PSETEX GETSET GETDEL GETEX": [
    ["SETNX", "a", "1"],
    ["SETNX", "a", "2"],
    ["GET", "a"],
    ["SETEX", "b", "100", "v"],
    ["SETEX", "b", "0", "v"],
    ["SETEX", "b", "-5", "v"],
    ["SETEX", "b", "x", "v"],
    ["PSETEX", "c", "100000", "v"],
    ["PSETEX", "c", "0", "v"],
    ["SETEX", "b", "100"],
    ["GETSET", "a", "3"],
    ["GETSET", "nokey", "x"],
    ["GET", "nokey"],
    ["GETDEL", "a"],
    ["GETDEL", "a"],
    ["EXISTS", "a"],
    ["GETEX", "b"],
    ["GETEX", "nokey"],
    ["GETEX", "b", "PERSIST"],
    ["TTL", "b"],
    ["GETEX", "b", "EX", "100", "PERSIST"],
    ["GETEX", "b", "PERSIST", "EX", "100"],
    ["GETEX", "b", "EX", "0"],
    ["GETEX", "b", "EX", "-1"],
    ["GETEX", "b", "NX"],
    ["GETEX", "b", "KEEPTTL"],
    ["GETEX", "b", "GET"],
    ["GETEX", "b", "EX"],
    ["GETEX", "b", "EXAT", "1"],
    ["EXISTS", "b"],
    ["RPUSH", "l", "x"],
    ["GETEX", "l"],
    ["GETDEL", "l"],
    ["GETSET", "l", "x"],
    ["SETNX", "l", "x"],
  ],
  "strings: MGET MSET MSETNX APPEND STRLEN ranges": [
    ["MSET", "a", "1", "b", "2"],
    ["MSET", "a", "1", "b"],
    ["MSET", "a"],
    ["MGET", "a", "b", "nokey"],
    ["RPUSH", "l", "x"],
    ["MGET", "a", "l"],
    ["MSETNX", "a", "1", "z", "2"],
    ["MSETNX", "x", "1", "y", "2"],
    ["MSETNX", "x", "1", "y"],
    ["MGET", "x", "y", "z"],
    ["APPEND", "s", "hello"],
    ["APPEND", "s", " world"],
    ["APPEND", "l", "x"],
    ["STRLEN", "s"],
    ["STRLEN", "nokey"],
    ["STRLEN", "l"],
    ["GETRANGE", "s", "0", "4"],
    ["GETRANGE", "s", "-5", "-1"],
    ["GETRANGE", "s", "-1", "-5"],
    ["GETRANGE", "s", "5", "2"],
    ["GETRANGE", "s", "0", "1000"],
    ["GETRANGE", "s", "-1000", "1000"],
    ["GETRANGE", "s", "100", "200"],
    ["GETRANGE", "nokey", "0", "-1"],
    ["GETRANGE", "s", "a", "1"],
    ["GETRANGE", "l", "0", "1"],
    ["SUBSTR", "s", "0", "2"],
    ["SET", "n", "12345"],
    ["GETRANGE", "n", "1", "2"],
    ["SETRANGE", "s", "6", "WORLD"],
    ["GET", "s"],
    ["SETRANGE", "s", "20", "!"],
    ["GET", "s"],
    ["SETRANGE", "s", "-1", "x"],
    ["SETRANGE", "s", "0", ""],
    ["SETRANGE", "new", "0", ""],
    ["EXISTS", "new"],
    ["SETRANGE", "new", "3", "abc"],
    ["GET", "new"],
    ["SETRANGE", "new", "536870912", "x"],
    ["SETRANGE", "l", "0", "x"],
    ["SETRANGE", "new", "x", "x"],
  ],
  "strings: counters": [
    ["INCR", "c"],
    ["INCRBY", "c", "10"],
    ["DECR", "c"],
    ["DECRBY", "c", "5"],
    ["INCRBY", "c", "-100"],
    ["INCRBY", "c", "abc"],
    ["INCRBY", "c", "1.5"],
    ["INCRBY", "c", "9223372036854775807"],
    ["SET", "c", "9223372036854775806"],
    ["INCR", "c"],
    ["INCR", "c"],
    ["SET", "c", "-9223372036854775808"],
    ["DECR", "c"],
    ["DECRBY", "c", "-9223372036854775808"],
    ["DECRBY", "x", "-9223372036854775807"],
    ["INCRBY", "y", "9223372036854775808"],
    ["SET", "s", "abc"],
    ["INCR", "s"],
    ["SET", "s", " 1"],
    ["INCR", "s"],
    ["SET", "s", "01"],
    ["INCR", "s"],
    ["SET", "s", "+1"],
    ["INCR", "s"],
    ["SET", "s", "-0"],
    ["INCR", "s"],
    ["RPUSH", "l", "x"],
    ["INCR", "l"],
    ["INCRBYFLOAT", "f", "0.1"],
    ["INCRBYFLOAT", "f", "0.2"],
    ["INCRBYFLOAT", "f", "10.5"],
    ["INCRBYFLOAT", "f", "-10.8"],
    ["INCRBYFLOAT", "f", "1e3"],
    ["INCRBYFLOAT", "f", "abc"],
    ["INCRBYFLOAT", "f", ""],
    ["INCRBYFLOAT", "f", " 1"],
    ["INCRBYFLOAT", "f", "inf"],
    ["INCRBYFLOAT", "f", "nan"],
    ["INCRBYFLOAT", "g", "12345.6789"],
    ["INCRBYFLOAT", "g", "1.1"],
    ["INCRBYFLOAT", "h", "3.0e-5"],
    ["INCRBYFLOAT", "h", "-3.0e-5"],
    ["GET", "h"],
    ["SET", "i", "5"],
    ["INCRBYFLOAT", "i", "5"],
    ["INCRBYFLOAT", "s", "1"],
    ["INCRBYFLOAT", "l", "1"],
    ["SET", "j", "1.5"],
    ["INCR", "j"],
    ["INCRBYFLOAT", "k", "1.7976931348623157e308"],
    ["INCRBYFLOAT", "k", "1.7976931348623157e308"],
  ],
  "strings: LCS": [
    ["MSET", "a", "ohmytext", "b", "mynewtext"],
    ["LCS", "a", "b"],
    ["LCS", "a", "b", "LEN"],
    ["LCS", "a", "b", "IDX"],
    ["LCS", "a", "b", "IDX", "MINMATCHLEN", "4"],
    ["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
    ["LCS", "a", "b", "IDX", "WITHMATCHLEN"],
    ["LCS", "a", "b", "IDX", "LEN"],
    ["LCS", "a", "b", "FOO"],
    ["LCS", "a", "b", "MINMATCHLEN"],
    ["LCS", "a", "b", "MINMATCHLEN", "x"],
    ["LCS", "a", "nokey"],
    ["LCS", "a", "nokey", "IDX"],
    ["RPUSH", "l", "x"],
    ["LCS", "a", "l"],
    ["MSET", "x", "rosettacode", "y", "raisethysword"],
    ["LCS", "x", "y", "IDX", "WITHMATCHLEN"],
  ],
  "keys: DEL EXISTS TYPE RENAME COPY MOVE": [
    ["MSET", "a", "1", "b", "2", "c", "3"],
    ["DEL", "a", "a", "nokey"],
    ["UNLINK", "b", "x"],
    ["EXISTS", "c", "c", "nokey"],
    ["TYPE", "c"],
    ["TYPE", "nokey"],
    ["RPUSH", "l", "x"],
    ["TYPE", "l"],
    ["RENAME", "c", "d"],
    ["RENAME", "c", "d"],
    ["RENAME", "d", "d"],
    ["RENAMENX", "d", "d"],
    ["RENAMENX", "nokey", "d"],
    ["SET", "e", "5"],
    ["RENAMENX", "d", "e"],
    ["RENAMENX", "d", "f"],
    ["GET", "f"],
    ["RENAME", "f", "l"],
    ["TYPE", "l"],
    ["SET", "t", "v", "EX", "1000"],
    ["RENAME", "t", "t2"],
    ["EXPIRETIME", "t"],
    ["COPY", "t2", "t3"],
    ["COPY", "t2", "t3"],
    ["COPY", "t2", "t3", "REPLACE"],
    ["GET", "t3"],
    ["COPY", "t2", "t2"],
    ["COPY", "t2", "t2", "DB", "1"],
    ["COPY", "t2", "x", "DB", "16"],
    ["COPY", "t2", "x", "DB", "-1"],
    ["COPY", "t2", "x", "DB", "a"],
    ["COPY", "t2", "x", "DB"],
    ["COPY", "t2", "x", "FOO"],
    ["COPY", "nokey", "x"],
    ["MOVE", "t2", "1"],
    ["MOVE", "t2", "1"],
    ["MOVE", "e", "0"],
    ["MOVE", "e", "16"],
    ["MOVE", "e", "x"],
    ["SELECT", "1"],
    ["GET", "t2"],
    ["GET", "t2"],
    ["SET", "e", "other"],
    ["SELECT", "0"],
    ["MOVE", "e", "1"],
    ["SWAPDB", "0", "1"],
    ["GET", "t2"],
    ["SWAPDB", "0", "1"],
    ["SWAPDB", "0", "16"],
    ["SWAPDB", "x", "1"],
    ["SWAPDB", "1", "x"],
    ["SWAPDB", "0", "0"],
    ["DBSIZE"],
    ["TOUCH", "e", "l", "nokey"],
    [["KEYS", "*"], { sort: true }],
    ["DEL"],
    ["FLUSHDB", "FOO"],
    ["FLUSHDB", "ASYNC", "SYNC"],
    ["FLUSHALL", "SYNC"],
    ["DBSIZE"],
    ["RANDOMKEY"],
  ],
  "keys: KEYS and SCAN patterns": [
    [
      "MSET",
      "hello",
      "1",
      "hallo",
      "1",
      "hxllo",
      "1",
      "hllo",
      "1",
      "heeeello",
      "1",
      "h*llo",
      "1",
      "h[a]llo",
      "1",
      "HELLO",
      "1",
    ],
    [["KEYS", "*"], { sort: true }],
    [["KEYS", "h?llo"], { sort: true }],
    [["KEYS", "h*llo"], { sort: true }],
    [["KEYS", "h[ae]llo"], { sort: true }],
    [["KEYS", "h[^e]llo"], { sort: true }],
    [["KEYS", "h[a-b]llo"], { sort: true }],
    [["KEYS", "h[b-a]llo"], { sort: true }],
    [["KEYS", "h\\*llo"], { sort: true }],
    [["KEYS", "h\\[a\\]llo"], { sort: true }],
    [["KEYS", "h[a"], { sort: true }],
    [["KEYS", "h[\\]a]llo"], { sort: true }],
    [["KEYS", "*\\"], { sort: true }],
    [["KEYS", "nomatch*"], { sort: true }],
    ["SCAN", "0", "COUNT", "100", "MATCH", "nothing"],
    ["SCAN", "abc"],
    ["SCAN", "0", "COUNT", "0"],
    ["SCAN", "0", "COUNT", "x"],
    ["SCAN", "0", "MATCH"],
    ["SCAN", "0", "FOO", "bar"],
    ["SCAN", "0", "TYPE", "list", "COUNT", "100"],
  ],
  "keys: expiry commands": [
    ["SET", "k", "v"],
    ["TTL", "k"],
    ["PTTL", "k"],
    ["EXPIRETIME", "k"],
    ["PEXPIRETIME", "k"],
    ["TTL", "nokey"],
    ["PTTL", "nokey"],
    ["EXPIRETIME", "nokey"],
    ["EXPIRE", "k", "1000"],
    ["TTL", "k"],
    ["EXPIRE", "k", "1000", "NX"],
    ["EXPIRE", "k", "2000", "XX"],
    ["EXPIRE", "k", "100", "GT"],
    ["EXPIRE", "k", "3000", "GT"],
    ["EXPIRE", "k", "5000", "LT"],
    ["EXPIRE", "k", "500", "LT"],
    ["TTL", "k"],
    ["EXPIRE", "k", "100", "NX", "XX"],
    ["EXPIRE", "k", "100", "GT", "LT"],
    ["EXPIRE", "k", "100", "FOO"],
    ["EXPIRE", "k", "abc"],
    ["EXPIRE", "k", "9223372036854775807"],
    ["PEXPIRE", "k", "9223372036854775807"],
    ["EXPIREAT", "k", "9223372036854775807"],
    ["PEXPIREAT", "k", "9223372036854775807"],
    ["EXPIRE", "nokey", "100"],
    ["PERSIST", "k"],
    ["PERSIST", "k"],
    ["PERSIST", "nokey"],
    ["TTL", "k"],
    ["EXPIRE", "k", "100", "XX"],
    ["EXPIRE", "k", "100", "GT"],
    ["EXPIRE", "k", "100", "LT"],
    ["TTL", "k"],
    ["EXPIREAT", "k", "4000000000"],
    ["EXPIRETIME", "k"],
    ["PEXPIREAT", "k", "4000000000123"],
    ["PEXPIRETIME", "k"],
    ["EXPIRETIME", "k"],
    ["EXPIRE", "k", "-1"],
    ["EXISTS", "k"],
    ["SET", "k", "v"],
    ["PEXPIREAT", "k", "1"],
    ["EXISTS", "k"],
    ["SET", "k", "v"],
    ["EXPIRE", "k", "0"],
    ["GET", "k"],
  ],
  "keys: OBJECT": [
    ["SET", "int", "12345"],
    ["SET", "small", "0"],
    ["SET", "neg", "-1"],
    ["SET", "embstr", "hello"],
    ["SET", "raw", "x".repeat(45)],
    ["SET", "emb44", "x".repeat(44)],
    ["SET", "notint", "012"],
    ["SET", "big", "99999999999999999999"],
    ["OBJECT", "ENCODING", "int"],
    ["OBJECT", "ENCODING", "small"],
    ["OBJECT", "ENCODING", "neg"],
    ["OBJECT", "ENCODING", "embstr"],
    ["OBJECT", "ENCODING", "raw"],
    ["OBJECT", "ENCODING", "emb44"],
    ["OBJECT", "ENCODING", "notint"],
    ["OBJECT", "ENCODING", "big"],
    ["OBJECT", "ENCODING", "nokey"],
    ["OBJECT", "REFCOUNT", "small"],
    ["OBJECT", "REFCOUNT", "int"],
    ["OBJECT", "REFCOUNT", "embstr"],
    ["OBJECT", "REFCOUNT", "nokey"],
    ["APPEND", "embstr", "!"],
    ["OBJECT", "ENCODING", "embstr"],
    ["APPEND", "fresh", "12"],
    ["OBJECT", "ENCODING", "fresh"],
    ["APPEND", "fresh", "3"],
    ["OBJECT", "ENCODING", "fresh"],
    ["INCR", "fresh"],
    ["OBJECT", "ENCODING", "fresh"],
    ["SETRANGE", "sr", "0", "1"],
    ["OBJECT", "ENCODING", "sr"],
    ["SETBIT", "sb", "1", "1"],
    ["OBJECT", "ENCODING", "sb"],
    ["INCRBYFLOAT", "fl", "1.5"],
    ["OBJECT", "ENCODING", "fl"],
    ["INCRBYFLOAT", "fl", "1.5"],
    ["OBJECT", "ENCODING", "fl"],
    ["BITOP", "OR", "bo", "small"],
    ["OBJECT", "ENCODING", "bo"],
    ["OBJECT", "FREQ", "int"],
    ["OBJECT", "IDLETIME", "nokey"],
    ["OBJECT", "HELP"],
    ["OBJECT", "FOO"],
    ["OBJECT", "ENCODING"],
    ["OBJECT"],
  ],
  "bitmaps: SETBIT GETBIT BITCOUNT BITPOS BITOP": [
    ["SETBIT", "b", "7", "1"],
    ["SETBIT", "b", "7", "0"],
    ["SETBIT", "b", "7", "1"],
    ["SETBIT", "b", "100", "1"],
    ["GET", "b"],
    ["SETBIT", "b", "-1", "1"],
    ["SETBIT", "b", "x", "1"],
    ["SETBIT", "b", "1", "2"],
    ["SETBIT", "b", "1", "-1"],
    ["SETBIT", "b", "4294967296", "1"],
    ["GETBIT", "b", "7"],
    ["GETBIT", "b", "8"],
    ["GETBIT", "b", "100000"],
    ["GETBIT", "nokey", "1"],
    ["GETBIT", "b", "-1"],
    ["RPUSH", "l", "x"],
    ["GETBIT", "l", "1"],
    ["SETBIT", "l", "1", "1"],
    ["SET", "s", "foobar"],
    ["BITCOUNT", "s"],
    ["BITCOUNT", "s", "0", "0"],
    ["BITCOUNT", "s", "1", "1"],
    ["BITCOUNT", "s", "1", "1", "BYTE"],
    ["BITCOUNT", "s", "5", "30", "BIT"],
    ["BITCOUNT", "s", "-3", "-1", "BIT"],
    ["BITCOUNT", "s", "-1", "-3"],
    ["BITCOUNT", "s", "0", "-1", "FOO"],
    ["BITCOUNT", "s", "0"],
    ["BITCOUNT", "s", "a", "b"],
    ["BITCOUNT", "nokey"],
    ["BITCOUNT", "nokey", "0"],
    ["BITCOUNT", "l"],
    ["SET", "p", "\xff\xf0\x00"],
    ["BITPOS", "p", "0"],
    ["BITPOS", "p", "1"],
    ["BITPOS", "p", "0", "2"],
    ["BITPOS", "p", "1", "2"],
    ["BITPOS", "p", "0", "0", "0"],
    ["BITPOS", "p", "1", "7", "15", "BIT"],
    ["BITPOS", "p", "0", "7", "15", "BIT"],
    ["BITPOS", "p", "0", "3", "6", "BIT"],
    ["BITPOS", "p", "1", "12", "-1", "BIT"],
    ["BITPOS", "p", "2"],
    ["BITPOS", "p", "x"],
    ["BITPOS", "p", "0", "x"],
    ["BITPOS", "p", "0", "0", "1", "FOO"],
    ["BITPOS", "nokey", "0"],
    ["BITPOS", "nokey", "1"],
    ["SET", "ones", "\xff\xff"],
    ["BITPOS", "ones", "0"],
    ["BITPOS", "ones", "0", "0", "-1"],
    ["BITPOS", "ones", "0", "0"],
    ["SET", "empty", ""],
    ["BITPOS", "empty", "0"],
    ["BITPOS", "empty", "1"],
    ["BITCOUNT", "empty"],
    ["SET", "x", "abc"],
    ["SET", "y", "\x0f\x0f"],
    ["BITOP", "AND", "d", "x", "y"],
    ["GET", "d"],
    ["BITOP", "OR", "d", "x", "y", "nokey"],
    ["GET", "d"],
    ["BITOP", "XOR", "d", "x", "y"],
    ["GET", "d"],
    ["BITOP", "NOT", "d", "x"],
    ["GET", "d"],
    ["BITOP", "NOT", "d", "x", "y"],
    ["BITOP", "FOO", "d", "x"],
    ["BITOP", "AND", "d", "nokey", "nokey2"],
    ["EXISTS", "d"],
    ["BITOP", "AND", "d", "x", "l"],
  ],
  "bitmaps: BITFIELD": [
    ["BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0"],
    ["BITFIELD", "bf", "INCRBY", "i8", "0", "100"],
    ["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100"],
    ["BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "100"],
    ["BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "u2", "100", "1", "GET", "u2", "100"],
    ["BITFIELD", "bf", "SET", "u8", "#1", "255", "GET", "u8", "8", "GET", "u4", "#3"],
    ["BITFIELD", "bf", "SET", "i64", "0", "-9223372036854775808", "GET", "i64", "0"],
    ["BITFIELD", "bf", "INCRBY", "i64", "0", "-1"],
    ["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1"],
    ["BITFIELD", "bf", "SET", "u63", "0", "-1", "GET", "u63", "0"],
    ["BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", "0", "-1"],
    ["BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", "0", "1000", "GET", "i8", "0"],
    ["BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "0", "256"],
    ["BITFIELD", "bf", "GET", "u64", "0"],
    ["BITFIELD", "bf", "GET", "i65", "0"],
    ["BITFIELD", "bf", "GET", "i0", "0"],
    ["BITFIELD", "bf", "GET", "x8", "0"],
    ["BITFIELD", "bf", "GET", "i8", "-1"],
    ["BITFIELD", "bf", "GET", "i8", "#x"],
    ["BITFIELD", "bf", "GET", "i8"],
    ["BITFIELD", "bf", "FOO"],
    ["BITFIELD", "bf", "OVERFLOW", "FOO"],
    ["BITFIELD", "bf", "SET", "i8", "0", "x"],
    ["BITFIELD", "bf"],
    ["BITFIELD", "bf", "OVERFLOW", "SAT"],
    ["BITFIELD", "nokey", "GET", "u8", "0"],
    ["EXISTS", "nokey"],
    ["BITFIELD_RO", "bf", "GET", "u8", "0"],
    ["BITFIELD_RO", "bf", "SET", "u8", "0", "1"],
    ["BITFIELD_RO", "bf", "INCRBY", "u8", "0", "1"],
    ["RPUSH", "l", "x"],
    ["BITFIELD", "l", "GET", "u8", "0"],
    ["BITFIELD", "l", "SET", "u8", "0", "1"],
    ["BITFIELD", "bf2", "OVERFLOW", "FAIL", "SET", "i4", "100", "100"],
    ["GET", "bf2"],
    ["BITFIELD", "bf3", "INCRBY", "u5", "3", "31", "INCRBY", "i5", "3", "31"],
  ],
  "transactions: queueing and errors": [
    ["EXEC"],
    ["DISCARD"],
    ["MULTI"],
    ["MULTI"],
    ["SET", "a", "1"],
    ["INCR", "a"],
    ["LPUSH", "a", "x"],
    ["GET", "a"],
    ["EXEC"],
    ["MULTI"],
    ["SET", "a"],
    ["NOSUCHCOMMAND"],
    ["SET", "b", "2"],
    ["EXEC"],
    ["GET", "b"],
    ["MULTI"],
    ["WATCH", "a"],
    ["SET", "b", "3"],
    ["DISCARD"],
    ["GET", "b"],
    ["MULTI"],
    ["EXEC"],
    ["WATCH", "a"],
    ["SET", "a", "changed"],
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["WATCH", "a"],
    ["UNWATCH"],
    ["SET", "a", "changed"],
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["MULTI"],
    ["BLPOP", "nolist", "0"],
    ["EXEC"],
    ["MULTI"],
    ["SAVE"],
    ["SET", "never", "1"],
    ["EXEC"],
    ["EXISTS", "never"],
    ["MULTI"],
    ["SELECT", "1"],
    ["SET", "indb1", "x"],
    ["EXEC"],
    ["GET", "indb1"],
    ["SELECT", "0"],
  ],
};

async function connectedPair(): Promise<
  { ours: RespClient; real: RespClient; stop(): Promise<void> }
> {
  const t = await startRedeno();
  let r: Awaited<ReturnType<typeof startRealRedis>>;
  let ours: RespClient;
  let real: RespClient;
  try {
    r = await startRealRedis();
    ours = await RespClient.connect(t.port);
    real = await RespClient.connect(r.port);
  } catch (e) {
    await t.stop();
    throw e;
  }
  return {
    ours,
    real,
    async stop() {
      ours.close();
      real.close();
      await r.stop();
      await t.stop();
    },
  };
}

function normalise(reply: Reply, how: Normalise | undefined): Reply {
  if (how?.sort && Array.isArray(reply)) return [...reply].map(String).sort();
  return reply;
}

for (const protocol of [2, 3]) {
  Deno.test({
    name:
      `strings, keys, bitmaps and transactions reply byte-identically to redis-server (RESP${protocol})`,
    ignore: !HAVE_REDIS,
    async fn() {
      const pair = await connectedPair();
      const mismatches: string[] = [];
      try {
        if (protocol === 3) {
          await pair.ours.call("HELLO", "3");
          await pair.real.call("HELLO", "3");
        }
        for (const [group, commands] of Object.entries(GROUPS)) {
          await pair.ours.call("FLUSHALL");
          await pair.real.call("FLUSHALL");
          for (const item of commands) {
            const [command, how] = Array.isArray(item[0])
              ? item as [Cmd, Normalise]
              : [item as Cmd, undefined];
            const [a, b] = await Promise.all([
              pair.ours.call(...command),
              pair.real.call(...command),
            ]);
            const ours = normalise(a, how);
            const real = normalise(b, how);
            try {
              assertEquals(ours, real);
            } catch {
              mismatches.push(
                `${group}: ${JSON.stringify(command)}\n  redeno: ${show(ours)}\n  redis:  ${
                  show(real)
                }`,
              );
            }
          }
        }
      } finally {
        await pair.stop();
      }
      assertEquals(mismatches.length, 0, "\n" + mismatches.join("\n"));
    },
  });
}

function show(r: Reply): string {
  return JSON.stringify(r, (_k, v) => {
    if (typeof v === "bigint") return v.toString();
    if (v && typeof v === "object" && "message" in v) return `ERROR(${v.message})`;
    return v;
  });
}

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random commands whose replies depend on exact range, bit and number arithmetic. */
function randomCommands(seed: number, n: number): Cmd[] {
  const rand = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: T[]) => xs[int(0, xs.length - 1)];
  const bytes = (len: number, alphabet?: string) => {
    let s = "";
    for (let i = 0; i < len; i++) {
      s += alphabet ? alphabet[int(0, alphabet.length - 1)] : String.fromCharCode(int(0, 255));
    }
    return s;
  };
  const cmds: Cmd[] = [];
  for (let i = 0; i < n; i++) {
    const key = `k${int(0, 3)}`;
    const idx = () => String(int(-12, 12));
    switch (int(0, 12)) {
      case 0:
        cmds.push(["SET", key, bytes(int(0, 6))]);
        break;
      case 1:
        cmds.push(["BITCOUNT", key, idx(), idx(), pick(["BIT", "BYTE"])]);
        break;
      case 2:
        cmds.push(["BITPOS", key, pick(["0", "1"]), idx(), idx(), pick(["BIT", "BYTE"])]);
        break;
      case 3:
        cmds.push(["BITPOS", key, pick(["0", "1"]), idx()]);
        break;
      case 4:
        cmds.push(["GETRANGE", key, idx(), idx()]);
        break;
      case 5:
        cmds.push(["SETRANGE", key, String(int(0, 8)), bytes(int(0, 3))]);
        break;
      case 6: {
        const signed = rand() < 0.5;
        const bits = signed ? int(1, 64) : int(1, 63);
        const type = (signed ? "i" : "u") + bits;
        const value = String(
          BigInt(int(-1000, 1000)) * BigInt(int(1, 2 ** 20)) ** BigInt(int(1, 3)),
        );
        cmds.push([
          "BITFIELD",
          key,
          "OVERFLOW",
          pick(["WRAP", "SAT", "FAIL"]),
          pick(["SET", "INCRBY"]),
          type,
          String(int(0, 40)),
          value,
          "GET",
          type,
          String(int(0, 40)),
        ]);
        break;
      }
      case 7:
        cmds.push(["SETBIT", key, String(int(0, 60)), pick(["0", "1"])]);
        break;
      case 8:
        cmds.push(["BITOP", pick(["AND", "OR", "XOR"]), key, `k${int(0, 3)}`, `k${int(0, 3)}`]);
        break;
      case 9:
        cmds.push(["LCS", key, `k${int(0, 3)}`, "IDX", "WITHMATCHLEN"]);
        break;
      case 10: {
        const num = `${pick(["", "-"])}${int(0, 99999)}.${int(0, 9999)}${pick(["", "e3", "e-2"])}`;
        cmds.push(["INCRBYFLOAT", `f${int(0, 2)}`, num]);
        break;
      }
      case 11:
        cmds.push(
          pick([
            ["APPEND", key, bytes(int(0, 3))],
            ["GET", key],
            ["STRLEN", key],
            ["GETBIT", key, String(int(0, 70))],
            ["COPY", key, `k${int(0, 3)}`, "REPLACE"],
            ["INCRBY", key, String(int(-5, 5))],
          ]),
        );
        break;
      default:
        cmds.push(["SET", key, bytes(int(0, 12), "ab*?[]^-\\c")]);
        cmds.push(["KEYS", bytes(int(1, 6), "ab*?[]^-\\c")]);
    }
  }
  return cmds;
}

Deno.test({
  name: "random bit, range, LCS, float and glob commands reply like redis-server",
  ignore: !HAVE_REDIS,
  async fn() {
    const pair = await connectedPair();
    const mismatches: string[] = [];
    try {
      const cmds = randomCommands(20260521, 3000);
      for (let i = 0; i < cmds.length; i += 500) {
        const chunk = cmds.slice(i, i + 500);
        const [ours, real] = await Promise.all([
          pair.ours.pipeline(chunk),
          pair.real.pipeline(chunk),
        ]);
        chunk.forEach((command, j) => {
          const sort = command[0] === "KEYS";
          const a = normalise(ours[j], { sort });
          const b = normalise(real[j], { sort });
          try {
            assertEquals(a, b);
          } catch {
            if (mismatches.length < 20) {
              mismatches.push(
                `${JSON.stringify(command)}\n  redeno: ${show(a)}\n  redis:  ${show(b)}`,
              );
            }
          }
        });
      }
    } finally {
      await pair.stop();
    }
    assertEquals(mismatches.length, 0, "\n" + mismatches.join("\n"));
  },
});

/** Reads pub/sub messages until one arrives on channel `until`. */
async function collectEvents(sub: RespClient, until: string): Promise<string[]> {
  const events: string[] = [];
  for (;;) {
    const msg = await sub.read() as string[];
    if (msg[0] === "message" && msg[1] === until) return events;
    if (msg[0] === "pmessage") events.push(`${msg[2]} ${msg[3]}`);
  }
}

Deno.test({
  name: "keyspace notifications of string, key and bitmap commands match redis-server",
  ignore: !HAVE_REDIS,
  async fn() {
    const t = await startRedeno();
    const r = await startRealRedis(["--enable-debug-command", "yes"]);
    const clients: RespClient[] = [];
    try {
      const run = async (port: number) => {
        const c = await RespClient.connect(port);
        // the lazily expired key must expire when read, not earlier by the active cycle
        await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
        const sub = await RespClient.connect(port);
        clients.push(c, sub);
        await c.call("CONFIG", "SET", "notify-keyspace-events", "KEA");
        await sub.call("PSUBSCRIBE", "__key*__:*");
        await sub.call("SUBSCRIBE", "done");
        const commands: Cmd[] = [
          ["SET", "s", "1"],
          ["SET", "s", "2", "EX", "100"],
          ["INCR", "s"],
          ["INCRBYFLOAT", "s", "1.5"],
          ["APPEND", "s", "x"],
          ["SETRANGE", "s", "0", "y"],
          ["GETEX", "s", "EX", "50"],
          ["GETEX", "s", "PERSIST"],
          ["EXPIRE", "s", "100"],
          ["PERSIST", "s"],
          ["RENAME", "s", "t"],
          ["COPY", "t", "u"],
          ["MOVE", "u", "1"],
          ["GETDEL", "t"],
          ["MSET", "a", "1", "b", "2"],
          ["DEL", "a", "b", "nokey"],
          ["SETBIT", "bits", "3", "1"],
          ["BITOP", "NOT", "bits2", "bits"],
          ["BITFIELD", "bits", "INCRBY", "u8", "0", "1"],
          ["BITOP", "AND", "bits2", "nokey"],
          ["SET", "e", "v"],
          ["EXPIRE", "e", "-1"],
          ["SET", "lazy", "v", "PX", "1"],
          ["GETSET", "g", "1"],
          ["SETNX", "g", "2"],
          ["SETEX", "h", "10", "v"],
          ["LCS", "g", "h"],
        ];
        for (const command of commands) await c.call(...command);
        await new Promise((res) => setTimeout(res, 10));
        await c.call("GET", "lazy");
        await c.call("PUBLISH", "done", "1");
        return await collectEvents(sub, "done");
      };
      const [ours, real] = await Promise.all([run(t.port), run(r.port)]);
      assertEquals(ours, real);
    } finally {
      for (const c of clients) c.close();
      await r.stop();
      await t.stop();
    }
  },
});

/** Replaces unix-ms timestamps near now with a placeholder (they differ by a few ms). */
function normaliseTimes(cmds: string[][]): string[][] {
  const now = Date.now();
  return cmds.map((argv) =>
    argv.map((a) => /^\d{13}$/.test(a) && Math.abs(Number(a) - now) < 86_400_000 ? "<ms>" : a)
  );
}

Deno.test({
  name: "writes propagate in the same deterministic forms as redis-server's AOF",
  ignore: !HAVE_REDIS,
  async fn() {
    const t = await startRedeno();
    const r = await startRealRedis([
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--enable-debug-command",
      "yes",
    ]);
    const ours = await RespClient.connect(t.port);
    const real = await RespClient.connect(r.port);
    // keys expire only when touched, on both sides, so the streams line up exactly
    t.server.activeExpireEnabled = false;
    assertEquals(await real.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "OK");
    const fed: string[][] = [];
    let db = -1;
    t.server.sinks.push({
      feed(dbId, bytes) {
        if (dbId !== db) fed.push(["SELECT", String(db = dbId)]);
        fed.push(...parseCommands(bytes));
      },
    });
    try {
      const script: Cmd[] = [
        ["SET", "a", "1"],
        ["SET", "b", "v", "EX", "100"],
        ["SET", "b", "v", "PX", "100000", "GET"],
        ["SET", "b", "v", "KEEPTTL", "GET"],
        ["SET", "b", "v", "PXAT", "99999999999999", "XX"],
        ["SET", "c", "v", "NX", "GET"],
        ["SET", "c", "v", "NX"],
        ["SETNX", "c", "v"],
        ["SETEX", "d", "100", "v"],
        ["PSETEX", "d", "100000", "v"],
        ["GETEX", "d", "EX", "100"],
        ["GETEX", "d", "PXAT", "99999999999999"],
        ["GETEX", "d", "PERSIST"],
        ["GETEX", "d", "PERSIST"],
        ["GETEX", "d"],
        ["GETEX", "d", "EXAT", "1"],
        ["GETSET", "a", "2"],
        ["GETDEL", "a"],
        ["GETDEL", "a"],
        ["MSET", "x", "1", "y", "2"],
        ["MSETNX", "x", "1", "z", "2"],
        ["MSETNX", "z", "1", "w", "2"],
        ["APPEND", "x", "abc"],
        ["SETRANGE", "x", "1", "zz"],
        ["SETRANGE", "x", "1", ""],
        ["INCR", "n"],
        ["INCRBY", "n", "10"],
        ["DECRBY", "n", "3"],
        ["INCRBYFLOAT", "f", "0.1"],
        ["INCRBYFLOAT", "f", "0.2"],
        ["EXPIRE", "x", "100"],
        ["EXPIRE", "x", "200", "GT"],
        ["EXPIRE", "x", "50", "GT"],
        ["PEXPIRE", "x", "100000", "LT"],
        ["EXPIREAT", "x", "4000000000"],
        ["PEXPIREAT", "x", "4000000000000", "XX"],
        ["PERSIST", "x"],
        ["PERSIST", "x"],
        ["EXPIRE", "y", "-1"],
        ["EXPIRE", "nokey", "10"],
        ["DEL", "nokey"],
        ["DEL", "z", "w", "nokey"],
        ["UNLINK", "x"],
        ["SET", "r", "1"],
        ["RENAME", "r", "r2"],
        ["RENAMENX", "r2", "n"],
        ["COPY", "r2", "r3"],
        ["COPY", "r2", "r3", "DB", "2", "REPLACE"],
        ["MOVE", "r3", "3"],
        ["SWAPDB", "2", "3"],
        ["SETBIT", "bits", "9", "1"],
        ["SETBIT", "bits", "9", "1"],
        ["BITFIELD", "bits", "SET", "u8", "0", "255", "GET", "u8", "0"],
        ["BITFIELD", "bits", "GET", "u8", "0"],
        ["BITFIELD", "bits", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1"],
        ["BITOP", "NOT", "bits2", "bits"],
        ["BITOP", "AND", "bits2", "nokey"],
        ["BITOP", "AND", "bits3", "nokey"],
        ["MULTI"],
        ["SET", "m", "1"],
        ["GET", "m"],
        ["EXEC"],
        ["MULTI"],
        ["SET", "m", "1"],
        ["INCR", "m"],
        ["SELECT", "5"],
        ["SET", "m5", "x"],
        ["EXEC"],
        ["MULTI"],
        ["GET", "m5"],
        ["EXEC"],
        ["SELECT", "0"],
        ["SET", "lazy", "v", "PX", "1"],
        ["SLEEP"],
        ["GET", "lazy"],
        ["SET", "k", "v"],
        ["MULTI"],
        ["SET", "lazy2", "v", "PX", "1"],
        ["EXEC"],
        ["SLEEP"],
        ["MULTI"],
        ["GET", "lazy2"],
        ["SET", "k", "v2"],
        ["EXEC"],
        ["FLUSHDB"],
        ["FLUSHALL"],
        ["FLUSHALL"],
        ["FLUSHDB"],
        ["SET", "last", "done"],
      ];
      for (const command of script) {
        if (command[0] === "SLEEP") await new Promise((res) => setTimeout(res, 5));
        else await Promise.all([ours.call(...command), real.call(...command)]);
      }
      const aofDir = `${r.dir}/appendonlydir`;
      const readAof = async () => {
        for await (const entry of Deno.readDir(aofDir)) {
          if (entry.name.endsWith(".incr.aof")) {
            return parseCommands(await Deno.readFile(`${aofDir}/${entry.name}`));
          }
        }
        return [];
      };
      const aof = await waitFor(async () => {
        const cmds = await readAof();
        return cmds.some((c) => c[1] === "last") ? cmds : null;
      }, { what: "redis AOF" });
      assertEquals(normaliseTimes(fed), normaliseTimes(aof!));
    } finally {
      ours.close();
      real.close();
      await r.stop();
      await t.stop();
    }
  },
});

Deno.test({
  name: "writes count changes (rdb_changes_since_last_save) like redis-server",
  ignore: !HAVE_REDIS,
  async fn() {
    const pair = await connectedPair();
    try {
      const changes = async (c: RespClient) => {
        const info = await c.call("INFO", "persistence") as string;
        return Number(/rdb_changes_since_last_save:(\d+)/.exec(info)![1]);
      };
      const script: Cmd[] = [
        ["SET", "a", "1"],
        ["MSET", "a", "1", "b", "2", "c", "3"],
        ["DEL", "a", "b", "nokey"],
        ["INCRBYFLOAT", "f", "1"],
        ["SETBIT", "s", "1", "1"],
        ["SETBIT", "s", "1", "1"],
        ["BITFIELD", "s", "SET", "u8", "0", "1", "SET", "u8", "8", "1"],
        ["EXPIRE", "c", "100"],
        ["PERSIST", "c"],
        ["RENAME", "c", "d"],
        ["COPY", "d", "e"],
        ["MOVE", "e", "1"],
        ["SWAPDB", "0", "1"],
        ["FLUSHDB"],
        ["FLUSHALL"],
        ["FLUSHALL"],
        ["SETRANGE", "x", "0", "abc"],
        ["APPEND", "x", "y"],
        ["GETDEL", "x"],
        ["SET", "t", "v", "EX", "100"],
        ["GETEX", "t", "PERSIST"],
        ["EXPIRE", "t", "-1"],
      ];
      for (const command of script) {
        const [o0, r0] = [await changes(pair.ours), await changes(pair.real)];
        await Promise.all([pair.ours.call(...command), pair.real.call(...command)]);
        const [o1, r1] = [await changes(pair.ours), await changes(pair.real)];
        assertEquals(o1 - o0, r1 - r0, `changes counted for ${JSON.stringify(command)}`);
      }
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "reads count keyspace_hits and keyspace_misses like redis-server",
  ignore: !HAVE_REDIS,
  async fn() {
    const pair = await connectedPair();
    try {
      const stats = async (c: RespClient) => {
        const info = await c.call("INFO", "stats") as string;
        const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)![1]);
        return [field("keyspace_hits"), field("keyspace_misses")];
      };
      const script: Cmd[] = [
        ["SET", "s", "hello"],
        ["RPUSH", "l", "x"],
        ["GET", "s"],
        ["GET", "nokey"],
        ["MGET", "s", "nokey", "l"],
        ["SET", "s", "v", "GET"],
        ["EXISTS", "s", "nokey"],
        ["TYPE", "s"],
        ["TYPE", "nokey"],
        ["TTL", "s"],
        ["PTTL", "nokey"],
        ["EXPIRETIME", "s"],
        ["TOUCH", "s", "nokey"],
        ["STRLEN", "s"],
        ["GETRANGE", "s", "0", "1"],
        ["GETEX", "s"],
        ["GETDEL", "nokey"],
        ["GETSET", "s", "v"],
        ["INCR", "n"],
        ["APPEND", "s", "x"],
        ["SETRANGE", "s", "0", "x"],
        ["LCS", "s", "nokey"],
        ["BITCOUNT", "s"],
        ["BITPOS", "s", "1"],
        ["GETBIT", "s", "1"],
        ["SETBIT", "s", "1", "1"],
        ["BITOP", "OR", "d", "s", "nokey"],
        ["BITFIELD", "s", "GET", "u8", "0"],
        ["BITFIELD", "s", "SET", "u8", "0", "1"],
        ["BITFIELD_RO", "nokey", "GET", "u8", "0"],
        ["OBJECT", "ENCODING", "s"],
        ["OBJECT", "ENCODING", "nokey"],
        ["RENAME", "s", "s2"],
        ["COPY", "s2", "s3"],
        ["MOVE", "s3", "1"],
        ["EXPIRE", "s2", "100"],
        ["PERSIST", "s2"],
        ["DEL", "s2"],
        ["KEYS", "*"],
      ];
      for (const command of script) {
        const [o0, r0] = [await stats(pair.ours), await stats(pair.real)];
        await Promise.all([pair.ours.call(...command), pair.real.call(...command)]);
        const [o1, r1] = [await stats(pair.ours), await stats(pair.real)];
        assertEquals(
          [o1[0] - o0[0], o1[1] - o0[1]],
          [r1[0] - r0[0], r1[1] - r0[1]],
          `hits/misses for ${JSON.stringify(command)}`,
        );
      }
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "COMMAND INFO of string, key, bitmap and transaction commands matches redis-server",
  ignore: !HAVE_REDIS,
  async fn() {
    const pair = await connectedPair();
    try {
      const names = ("get set setnx setex psetex getset getdel getex mget mset msetnx append " +
        "strlen getrange substr setrange incr decr incrby decrby incrbyfloat lcs del unlink " +
        "exists type keys scan randomkey rename renamenx copy move swapdb touch dbsize flushdb " +
        "flushall expire pexpire expireat pexpireat ttl pttl expiretime pexpiretime persist " +
        "object setbit getbit bitcount bitpos bitop bitfield bitfield_ro multi exec discard " +
        "watch unwatch").split(" ");
      for (const name of names) {
        const [ours, real] = await Promise.all([
          pair.ours.call("COMMAND", "INFO", name),
          pair.real.call("COMMAND", "INFO", name),
        ]);
        // Redis lists subcommands in its dict's (seeded, random) order
        const sortSubcommands = (info: Reply) => {
          const entry = (info as Reply[][])[0];
          if (Array.isArray(entry[9])) {
            entry[9] = [...entry[9] as Reply[][]].sort((a, b) =>
              String(a[0]) < String(b[0]) ? -1 : 1
            );
          }
          return info;
        };
        assertEquals(sortSubcommands(ours), sortSubcommands(real), `COMMAND INFO ${name}`);
      }
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "WATCH scenarios with a second client end like redis-server's",
  ignore: !HAVE_REDIS,
  async fn() {
    const t = await startRedeno();
    const r = await startRealRedis();
    const conns: RespClient[] = [];
    try {
      // [setup by the watcher, key to watch, what the other client does]
      const scenarios: Array<[Cmd[], string, Cmd[]]> = [
        [[["SET", "k", "1"]], "k", [["SET", "k", "2"]]],
        [[["SET", "k", "1"]], "k", [["SET", "k", "1"]]],
        [[["SET", "k", "1"]], "k", [["GET", "k"]]],
        [[], "k", [["DEL", "k"]]],
        [[], "k", [["SET", "k", "x"]]],
        [[["SET", "k", "1"]], "k", [["EXPIRE", "k", "100"]]],
        [[["SET", "k", "1", "EX", "100"]], "k", [["PERSIST", "k"]]],
        [[["SET", "k", "1"]], "k", [["PERSIST", "k"]]],
        [[["SET", "k", "1"]], "k", [["APPEND", "k", "x"]]],
        [[["SET", "k", "1"]], "k", [["SETRANGE", "k", "0", ""]]],
        [[["SET", "k", "1"]], "k", [["SETBIT", "k", "0", "0"]]],
        [[["SET", "k", "1"]], "k", [["INCRBYFLOAT", "k", "0"]]],
        [[["SET", "k", "1"]], "k", [["RENAME", "k", "k2"]]],
        [[["SET", "k2", "1"]], "k", [["RENAME", "k2", "k"]]],
        [[["SET", "k", "1"]], "k", [["COPY", "k", "k3"]]],
        [[["SET", "k3", "1"]], "k", [["COPY", "k3", "k"]]],
        [[["SET", "k", "1"]], "k", [["MOVE", "k", "1"]]],
        [[], "k", [["FLUSHALL"]]],
        [[["SET", "k", "1"]], "k", [["FLUSHDB"]]],
        [[["SET", "other", "1"]], "k", [["FLUSHDB"]]],
        [[], "k", [["SELECT", "1"], ["SET", "k", "x"], ["SWAPDB", "0", "1"], ["SELECT", "0"]]],
        [[["SET", "k", "1"]], "k", [["SWAPDB", "0", "9"]]],
        [[["SET", "k", "1"]], "k", [["SELECT", "1"], ["SET", "k", "x"], ["SELECT", "0"]]],
        [[["SET", "k", "1"]], "k", [["BITOP", "AND", "k", "nokey"]]],
        [[["SET", "k", "1"]], "k", [["GETDEL", "k"]]],
        [[["SET", "k", "1"]], "k", [["GETEX", "k", "EX", "100"]]],
        [[["SET", "k", "1"]], "k", [["MSETNX", "k", "2"]]],
      ];
      const run = async (port: number) => {
        const a = await RespClient.connect(port);
        const b = await RespClient.connect(port);
        conns.push(a, b);
        const results: Reply[] = [];
        for (const [setup, key, actions] of scenarios) {
          await a.call("FLUSHALL");
          for (const cmd of setup) await a.call(...cmd);
          await a.call("WATCH", key);
          for (const cmd of actions) await b.call(...cmd);
          await a.call("MULTI");
          await a.call("PING");
          results.push(await a.call("EXEC"));
        }
        return results;
      };
      const [ours, real] = await Promise.all([run(t.port), run(r.port)]);
      const differ = scenarios.flatMap((s, i) =>
        show(ours[i]) === show(real[i])
          ? []
          : [`${JSON.stringify(s)}: redeno ${show(ours[i])} redis ${show(real[i])}`]
      );
      assertEquals(differ, []);
    } finally {
      for (const c of conns) c.close();
      await r.stop();
      await t.stop();
    }
  },
});

/** Writes of every string/key family the two replication tests apply on a primary. */
const REPLICATED_SCRIPT: Cmd[] = [
  ["SET", "a", "1"],
  ["SET", "b", "v", "EX", "1000"],
  ["SET", "c", "v", "PX", "1000000", "GET"],
  ["SETEX", "d", "1000", "v"],
  ["GETEX", "d", "PERSIST"],
  ["GETEX", "a", "EX", "500"],
  ["INCRBYFLOAT", "f", "0.1"],
  ["INCRBYFLOAT", "f", "0.2"],
  ["INCRBYFLOAT", "g", "12345.6789"],
  ["INCRBY", "n", "9223372036854775806"],
  ["APPEND", "s", "hello"],
  ["SETRANGE", "s", "10", "world"],
  ["SETBIT", "bits", "100", "1"],
  ["BITFIELD", "bits", "SET", "i16", "#3", "-1234", "INCRBY", "u7", "0", "100"],
  ["BITOP", "XOR", "x", "bits", "s"],
  ["MSET", "m1", "1", "m2", "2"],
  ["MSETNX", "m3", "3", "m4", "4"],
  ["RENAME", "m1", "m5"],
  ["COPY", "m5", "m6", "DB", "3"],
  ["MOVE", "m2", "4"],
  ["SWAPDB", "3", "5"],
  ["EXPIRE", "m3", "1000", "NX"],
  ["PEXPIREAT", "m4", "99999999999999"],
  ["PERSIST", "m4"],
  ["EXPIRE", "m4", "-1"],
  ["GETDEL", "m5"],
  ["MULTI"],
  ["SET", "t1", "1"],
  ["INCR", "t1"],
  ["SELECT", "6"],
  ["SET", "t2", "2"],
  ["EXEC"],
  ["SELECT", "0"],
  ["RPUSH", "list", "a", "b"],
  ["COPY", "list", "list2"],
  ["SET", "gone", "v", "PX", "1"],
];

Deno.test({
  name: "a real redis-server replica of Redeno ends with the same dataset after these writes",
  ignore: !HAVE_REDIS,
  async fn() {
    const t = await startRedeno(["--repl-diskless-sync-delay", "0"]);
    const replica = await startRealRedis([
      "--replicaof",
      "127.0.0.1",
      String(t.port),
      "--enable-debug-command",
      "yes",
    ]);
    const primary = await RespClient.connect(t.port);
    const rc = await RespClient.connect(replica.port);
    try {
      await waitLinkUp(rc);
      const script = REPLICATED_SCRIPT;
      for (const command of script) {
        assertEquals(!((await primary.call(...command)) instanceof Error), true);
      }
      await new Promise((res) => setTimeout(res, 10));
      await primary.call("GET", "gone");
      await waitInSync(primary, [rc]);
      const contents = async (c: RespClient) => {
        const out: string[] = [];
        for (let db = 0; db < 16; db++) {
          await c.call("SELECT", db);
          const keys = (await c.call("KEYS", "*") as string[]).sort();
          for (const k of keys) {
            const type = await c.call("TYPE", k);
            const v = type === "string"
              ? await c.call("GET", k)
              : type === "list"
              ? await c.call("LRANGE", k, 0, -1)
              : type;
            out.push(`${db} ${k} ${show(v)} ttl:${(await c.call("PTTL", k) as number) > 0}`);
          }
        }
        await c.call("SELECT", 0);
        return out;
      };
      assertEquals(await contents(primary), await contents(rc));
      assertEquals(await digest(primary), await digest(rc));
      for (const key of ["a", "b", "c", "m3"]) {
        const [ours, real] = [await primary.call("TTL", key), await rc.call("TTL", key)];
        assert(Math.abs((ours as number) - (real as number)) <= 1, `TTL ${key}: ${ours} ${real}`);
      }
      await primary.call("FLUSHALL");
      await waitInSync(primary, [rc]);
      assertEquals(await rc.call("DBSIZE"), 0);
    } finally {
      primary.close();
      rc.close();
      await replica.stop();
      await t.stop();
    }
  },
});

Deno.test({
  name: "Redeno as a replica of a real redis-server applies these writes to the same dataset",
  ignore: !HAVE_REDIS,
  async fn() {
    const real = await startRealRedis([
      "--enable-debug-command",
      "yes",
      "--repl-diskless-sync-delay",
      "0",
    ]);
    const t = await startRedeno(["--replicaof", "127.0.0.1", String(real.port)]);
    const primary = await RespClient.connect(real.port);
    const ours = await RespClient.connect(t.port);
    try {
      await waitLinkUp(ours);
      const script = REPLICATED_SCRIPT;
      for (const command of script) await primary.call(...command);
      await new Promise((res) => setTimeout(res, 10));
      await primary.call("GET", "gone");
      await waitInSync(primary, [ours]);
      assertEquals(await digest(ours), await digest(primary));
      await primary.call("SWAPDB", "0", "1");
      await primary.call("FLUSHDB");
      await waitInSync(primary, [ours]);
      assertEquals(await digest(ours), await digest(primary));
    } finally {
      primary.close();
      ours.close();
      await t.stop();
      await real.stop();
    }
  },
});

Deno.test({
  name: "DEBUG PROTOCOL replies with the same bytes as Redis in RESP2 and RESP3",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const types = [
      "string",
      "integer",
      "double",
      "bignum",
      "null",
      "array",
      "set",
      "map",
      "attrib",
      "push",
      "verbatim",
      "true",
      "false",
      "nosuch",
    ];
    const cmds = types.map((t) => ["DEBUG", "PROTOCOL", t]);
    const args = ["--enable-debug-command", "yes"];
    assertEquals(await rawReplyDiffs(cmds, { args }), []);
    // (the test parser does not read RESP3 attributes: the Tcl suite checks attrib)
    const resp3 = cmds.filter((c) => c[2] !== "attrib");
    assertEquals(await rawReplyDiffs(resp3, { args, resp3: true }), []);
  },
});
