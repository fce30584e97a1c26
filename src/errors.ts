/**
 * Redis's shared replies and error strings, verbatim (Redis: createSharedObjects in
 * server.c). Errors are written without the leading "-" and trailing CRLF.
 */
export const ERR = {
  wrongType: "WRONGTYPE Operation against a key holding the wrong kind of value",
  syntax: "ERR syntax error",
  notInteger: "ERR value is not an integer or out of range",
  notFloat: "ERR value is not a valid float",
  outOfRange: "ERR index out of range",
  noSuchKey: "ERR no such key",
  overflow: "ERR increment or decrement would overflow",
  incrNanInf: "ERR increment would produce NaN or Infinity",
  minMaxNotFloat: "ERR min or max is not a float",
  noAuth: "NOAUTH Authentication required.",
  wrongPass: "WRONGPASS invalid username-password pair or user is disabled.",
  readOnly: "READONLY You can't write against a read only replica.",
  masterDown: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
  noReplicas: "NOREPLICAS Not enough good replicas to write.",
  oom: "OOM command not allowed when used memory > 'maxmemory'.",
  loading: "LOADING Redis is loading the dataset in memory",
  execAbort: "EXECABORT Transaction discarded because of previous errors.",
  invalidExpire: (cmd: string) => `ERR invalid expire time in '${cmd}' command`,
  timeoutNotFloat: "ERR timeout is not a float or out of range",
  timeoutNegative: "ERR timeout is negative",
  dbIndexOutOfRange: "ERR DB index is out of range",
  selectNotInteger: "ERR value is not an integer or out of range",
  bitOffset: "ERR bit offset is not an integer or out of range",
  bitValue: "ERR bit is not an integer or out of range",
  stringTooLong: "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
  sameObject: "ERR source and destination objects are the same",
  wrongArgs: (name: string) => `ERR wrong number of arguments for '${name}' command`,
} as const;

/** Shared simple-string replies, pre-encoded. */
export const OK_BYTES = new TextEncoder().encode("+OK\r\n");
