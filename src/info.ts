/**
 * The INFO text (Redis: genRedisInfoString in server.c): sections and field names as
 * Redis 7.0 prints them. Modules replace a section by registering it in
 * server.infoSections (persistence, replication, ...); the defaults here are what a
 * server without that feature prints.
 */
import type { Server } from "./server.ts";
import { REDIS_VERSION } from "./version.ts";
import { evictorOf, STARTUP_MEMORY } from "./evict.ts";
import { scripting } from "./scripting/mod.ts";

/** Section names in Redis's order, and which ones INFO without arguments prints. */
const SECTIONS = [
  "server",
  "clients",
  "memory",
  "persistence",
  "stats",
  "replication",
  "cpu",
  "modules",
  "commandstats",
  "errorstats",
  "latencystats",
  "cluster",
  "keyspace",
] as const;
const DEFAULT_SECTIONS = new Set([
  "server",
  "clients",
  "memory",
  "persistence",
  "stats",
  "replication",
  "cpu",
  "modules",
  "errorstats",
  "cluster",
  "keyspace",
]);
const TITLES: Record<string, string> = {
  server: "Server",
  clients: "Clients",
  memory: "Memory",
  persistence: "Persistence",
  stats: "Stats",
  replication: "Replication",
  cpu: "CPU",
  modules: "Modules",
  commandstats: "Commandstats",
  errorstats: "Errorstats",
  latencystats: "Latencystats",
  cluster: "Cluster",
  keyspace: "Keyspace",
};

/** Redis's bytesToHuman: 1.50K, 23.54G ... */
export function bytesToHuman(n: number): string {
  const units = ["B", "K", "M", "G", "T", "P"];
  if (n < 1024) return `${n}B`;
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

/** Which sections `INFO args...` selects, in Redis's order. */
export function selectSections(args: string[]): string[] {
  if (args.length === 0) return SECTIONS.filter((s) => DEFAULT_SECTIONS.has(s));
  const wanted = new Set(args.map((a) => a.toLowerCase()));
  if (wanted.has("everything") || wanted.has("all")) return [...SECTIONS];
  const out: string[] = SECTIONS.filter((s) =>
    wanted.has(s) || (wanted.has("default") && DEFAULT_SECTIONS.has(s))
  );
  // sections only a module knows, asked by name
  for (const w of wanted) if (!out.includes(w)) out.push(w);
  return out;
}

/** Builds the INFO reply for the given arguments. */
export function infoText(server: Server, args: string[]): string {
  const parts: string[] = [];
  for (const name of selectSections(args)) {
    const lines = sectionLines(server, name);
    if (lines === null) continue;
    const title = TITLES[name] ?? name.charAt(0).toUpperCase() + name.slice(1);
    parts.push(`# ${title}\r\n` + lines.map((l) => l + "\r\n").join(""));
  }
  return parts.join("\r\n");
}

function sectionLines(server: Server, name: string): string[] | null {
  const hook = server.infoSections.get(name);
  if (hook !== undefined) return hook();
  switch (name) {
    case "server":
      return serverSection(server);
    case "clients":
      return clientsSection(server);
    case "memory":
      return memorySection(server);
    case "persistence":
      return persistenceSection(server);
    case "stats":
      return statsSection(server);
    case "replication":
      return replicationSection(server);
    case "cpu":
      return cpuSection();
    case "modules":
      return [];
    case "commandstats":
      return commandStatsSection(server);
    case "errorstats":
      return [...server.stats.errors].map(([code, n]) => `errorstat_${code}:count=${n}`);
    case "latencystats":
      return latencyStatsSection(server);
    case "cluster":
      return ["cluster_enabled:0"];
    case "keyspace":
      return keyspaceSection(server);
    default:
      return null;
  }
}

let osLine: string | null = null;
function osName(): string {
  if (osLine === null) {
    const release = Deno.osRelease();
    const arch = Deno.build.arch;
    osLine = `${Deno.build.os === "linux" ? "Linux" : Deno.build.os} ${release} ${arch}`;
  }
  return osLine;
}

function serverSection(server: Server): string[] {
  const now = Date.now();
  const uptime = Math.floor((now - server.stats.startTime) / 1000);
  const hz = server.config.num("hz");
  return [
    `redis_version:${REDIS_VERSION}`,
    "redis_git_sha1:00000000",
    "redis_git_dirty:0",
    "redis_build_id:0",
    "redis_mode:standalone",
    `os:${osName()}`,
    "arch_bits:64",
    "monotonic_clock:POSIX clock_gettime",
    "multiplexing_api:epoll",
    "atomicvar_api:c11-builtin",
    "gcc_version:0.0.0",
    `process_id:${Deno.pid}`,
    "process_supervised:no",
    `run_id:${server.runId}`,
    `tcp_port:${server.port}`,
    `server_time_usec:${now * 1000}`,
    `uptime_in_seconds:${uptime}`,
    `uptime_in_days:${Math.floor(uptime / 86400)}`,
    `hz:${hz}`,
    `configured_hz:${hz}`,
    `lru_clock:${Math.floor(now / 1000) & 0xffffff}`,
    `executable:${Deno.execPath()}`,
    `config_file:${server.config.file ?? ""}`,
    "io_threads_active:0",
    // while a shutdown waits for lagging replicas
    ...(server.shutdownMstime !== 0
      ? [`shutdown_in_milliseconds:${Math.max(0, server.shutdownMstime - Date.now())}`]
      : []),
    `deno_version:${Deno.version.deno}`,
  ];
}

function clientsSection(server: Server): string[] {
  let normal = 0;
  let maxIn = 0;
  let maxOut = 0;
  let inTimeout = 0;
  let blocked = 0;
  for (const c of server.clients.values()) {
    if (!c.isReplica || c.isMonitor) normal++;
    maxIn = Math.max(maxIn, c.parser.pending);
    maxOut = Math.max(maxOut, c.pendingOutput);
    if (c.blocked !== null) {
      // Redis 7.0 counts clients held by CLIENT PAUSE too
      blocked++;
      if (c.blocked.timer !== undefined) inTimeout++;
    }
  }
  return [
    `connected_clients:${normal}`,
    "cluster_connections:0",
    `maxclients:${server.config.num("maxclients")}`,
    `client_recent_max_input_buffer:${maxIn}`,
    `client_recent_max_output_buffer:${maxOut}`,
    `blocked_clients:${blocked}`,
    `tracking_clients:${server.tracking?.clients.size ?? 0}`,
    `clients_in_timeout_table:${inTimeout}`,
  ];
}

/** Process memory figures: used (JS heap + external buffers) and RSS. */
export function memoryUsage(): { used: number; rss: number } {
  const m = Deno.memoryUsage();
  return { used: m.heapUsed + m.external, rss: m.rss };
}

/**
 * The script cache and function libraries (INFO memory's scripting fields). The Lua
 * VMs' own heaps live in the JS heap and cannot be told apart from it: the vm fields
 * count what is held for them (script bodies, library code).
 */
function scriptingFields(server: Server): string[] {
  const s = scripting(server);
  const evalBytes = s.scriptsBytes;
  let fnBytes = 0;
  let functions = 0;
  let libraries = 0;
  if (s.hasFunctions) {
    for (const lib of s.functions.libraries.values()) {
      fnBytes += lib.code.length;
      functions += lib.functions.size;
      libraries++;
    }
  }
  return [
    `used_memory_lua:${evalBytes}`,
    `used_memory_vm_eval:${evalBytes}`,
    `used_memory_lua_human:${bytesToHuman(evalBytes)}`,
    `used_memory_scripts_eval:${evalBytes}`,
    `number_of_cached_scripts:${s.scripts.size}`,
    `number_of_functions:${functions}`,
    `number_of_libraries:${libraries}`,
    `used_memory_vm_functions:${fnBytes}`,
    `used_memory_vm_total:${evalBytes + fnBytes}`,
    `used_memory_vm_total_human:${bytesToHuman(evalBytes + fnBytes)}`,
    `used_memory_functions:${fnBytes}`,
    `used_memory_scripts:${evalBytes + fnBytes}`,
    `used_memory_scripts_human:${bytesToHuman(evalBytes + fnBytes)}`,
  ];
}

let peakMemory = 0;

function memorySection(server: Server): string[] {
  const { rss } = memoryUsage();
  // V8's heap as Redis reports jemalloc's: allocated (live), active (reserved), resident
  const heap = Deno.memoryUsage();
  const allocated = heap.heapUsed + heap.external;
  const active = heap.heapTotal + heap.external;
  const resident = Math.max(rss, active);
  // used_memory is the estimate maxmemory is enforced against (src/evict.ts); the
  // process's real footprint is used_memory_rss
  const m = evictorOf(server)?.figures() ?? {
    used: memoryUsage().used,
    dataset: 0,
    clientsNormal: 0,
    clientsSlaves: 0,
    replBacklog: 0,
    notCountedForEvict: 0,
  };
  const used = m.used;
  peakMemory = Math.max(peakMemory, used);
  const total = Deno.systemMemoryInfo().total;
  const maxmemory = server.config.num("maxmemory");
  const overhead = used - m.dataset;
  const startup = STARTUP_MEMORY;
  const datasetPerc = used - startup > 0 ? (m.dataset * 100 / (used - startup)) : 0;
  return [
    `used_memory:${used}`,
    `used_memory_human:${bytesToHuman(used)}`,
    `used_memory_rss:${rss}`,
    `used_memory_rss_human:${bytesToHuman(rss)}`,
    `used_memory_peak:${peakMemory}`,
    `used_memory_peak_human:${bytesToHuman(peakMemory)}`,
    `used_memory_peak_perc:${(used / peakMemory * 100).toFixed(2)}%`,
    `used_memory_overhead:${overhead}`,
    `used_memory_startup:${startup}`,
    `used_memory_dataset:${m.dataset}`,
    `used_memory_dataset_perc:${datasetPerc.toFixed(2)}%`,
    `allocator_allocated:${allocated}`,
    `allocator_active:${active}`,
    `allocator_resident:${resident}`,
    `total_system_memory:${total}`,
    `total_system_memory_human:${bytesToHuman(total)}`,
    ...scriptingFields(server),
    `maxmemory:${maxmemory}`,
    `maxmemory_human:${bytesToHuman(maxmemory)}`,
    `maxmemory_policy:${server.config.get("maxmemory-policy")}`,
    `allocator_frag_ratio:${(active / Math.max(1, allocated)).toFixed(2)}`,
    `allocator_frag_bytes:${active - allocated}`,
    `allocator_rss_ratio:${(resident / Math.max(1, active)).toFixed(2)}`,
    `allocator_rss_bytes:${resident - active}`,
    `rss_overhead_ratio:${(rss / Math.max(1, resident)).toFixed(2)}`,
    `rss_overhead_bytes:${rss - resident}`,
    `mem_fragmentation_ratio:${(rss / Math.max(1, used)).toFixed(2)}`,
    `mem_fragmentation_bytes:${rss - used}`,
    `mem_not_counted_for_evict:${m.notCountedForEvict}`,
    `mem_replication_backlog:${m.replBacklog}`,
    `mem_total_replication_buffers:${m.replBacklog + m.clientsSlaves}`,
    `mem_clients_slaves:${m.clientsSlaves}`,
    `mem_clients_normal:${m.clientsNormal}`,
    "mem_cluster_links:0",
    "mem_aof_buffer:0",
    "mem_allocator:v8",
    "active_defrag_running:0",
    "lazyfree_pending_objects:0",
    `lazyfreed_objects:${server.stats.lazyfreedObjects}`,
  ];
}

function persistenceSection(server: Server): string[] {
  return [
    `loading:${server.loading ? 1 : 0}`,
    `async_loading:${server.asyncLoading ? 1 : 0}`,
    `rdb_changes_since_last_save:${server.dirty}`,
    "rdb_bgsave_in_progress:0",
    `rdb_last_save_time:${Math.floor(server.lastSave / 1000)}`,
    "rdb_last_bgsave_status:ok",
    "rdb_last_bgsave_time_sec:-1",
    "rdb_current_bgsave_time_sec:-1",
    "rdb_saves:0",
    "aof_enabled:0",
    "aof_rewrite_in_progress:0",
    "aof_rewrite_scheduled:0",
    "aof_last_rewrite_time_sec:-1",
    "aof_current_rewrite_time_sec:-1",
    "aof_last_bgrewrite_status:ok",
    "aof_rewrites:0",
    "aof_last_write_status:ok",
  ];
}

function statsSection(server: Server): string[] {
  const s = server.stats;
  const inst = s.instantaneous();
  const channels = new Set<string>();
  const patterns = new Set<string>();
  const shard = new Set<string>();
  for (const c of server.clients.values()) {
    for (const ch of c.channels) channels.add(ch);
    for (const p of c.patterns) patterns.add(p);
    for (const ch of c.shardChannels) shard.add(ch);
  }
  return [
    `total_connections_received:${s.totalConnections}`,
    `total_commands_processed:${s.totalCommands}`,
    `instantaneous_ops_per_sec:${inst.ops}`,
    `total_net_input_bytes:${s.netInputBytes}`,
    `total_net_output_bytes:${s.netOutputBytes}`,
    `total_net_repl_input_bytes:${s.netReplInputBytes}`,
    `total_net_repl_output_bytes:${s.netReplOutputBytes}`,
    `instantaneous_input_kbps:${inst.inKbps.toFixed(2)}`,
    `instantaneous_output_kbps:${inst.outKbps.toFixed(2)}`,
    "instantaneous_input_repl_kbps:0.00",
    "instantaneous_output_repl_kbps:0.00",
    `rejected_connections:${s.rejectedConnections}`,
    `sync_full:${s.syncFull}`,
    `sync_partial_ok:${s.syncPartialOk}`,
    `sync_partial_err:${s.syncPartialErr}`,
    `expired_keys:${s.expiredKeys}`,
    "expired_stale_perc:0.00",
    "expired_time_cap_reached_count:0",
    "expire_cycle_cpu_milliseconds:0",
    `evicted_keys:${s.evictedKeys}`,
    `evicted_clients:${s.evictedClients}`,
    "total_eviction_exceeded_time:0",
    "current_eviction_exceeded_time:0",
    `keyspace_hits:${s.keyspaceHits}`,
    `keyspace_misses:${s.keyspaceMisses}`,
    `pubsub_channels:${channels.size}`,
    `pubsub_patterns:${patterns.size}`,
    `pubsubshard_channels:${shard.size}`,
    "latest_fork_usec:0",
    `total_forks:${s.totalForks}`,
    `migrate_cached_sockets:${server.migrateCachedSockets}`,
    "slave_expires_tracked_keys:0",
    "active_defrag_hits:0",
    "active_defrag_misses:0",
    "active_defrag_key_hits:0",
    "active_defrag_key_misses:0",
    "total_active_defrag_time:0",
    "current_active_defrag_time:0",
    `tracking_total_keys:${server.tracking?.totalKeys ?? 0}`,
    `tracking_total_items:${server.tracking?.totalItems ?? 0}`,
    `tracking_total_prefixes:${server.tracking?.prefixes.size ?? 0}`,
    `unexpected_error_replies:${s.unexpectedErrorReplies}`,
    `total_error_replies:${s.totalErrorReplies}`,
    "dump_payload_sanitizations:0",
    `total_reads_processed:${s.totalReads}`,
    `total_writes_processed:${s.totalWrites}`,
    "io_threaded_reads_processed:0",
    "io_threaded_writes_processed:0",
    `reply_buffer_shrinks:${s.replyBufferShrinks}`,
    `reply_buffer_expands:${s.replyBufferExpands}`,
  ];
}

function replicationSection(server: Server): string[] {
  return [
    `role:${server.isReplica ? "slave" : "master"}`,
    "connected_slaves:0",
    "master_failover_state:no-failover",
    `master_replid:${server.runId}`,
    "master_replid2:0000000000000000000000000000000000000000",
    "master_repl_offset:0",
    "second_repl_offset:-1",
    "repl_backlog_active:0",
    `repl_backlog_size:${server.config.num("repl-backlog-size")}`,
    "repl_backlog_first_byte_offset:0",
    "repl_backlog_histlen:0",
  ];
}

/** This process's user and system CPU seconds (from /proc/self/stat on Linux). */
export function processCpu(): { user: number; sys: number } {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 (1-based), in clock ticks (100 Hz)
    return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
  } catch {
    return { user: 0, sys: 0 };
  }
}

function cpuSection(): string[] {
  const { user, sys } = processCpu();
  return [
    `used_cpu_sys:${sys.toFixed(6)}`,
    `used_cpu_user:${user.toFixed(6)}`,
    "used_cpu_sys_children:0.000000",
    "used_cpu_user_children:0.000000",
    `used_cpu_sys_main_thread:${sys.toFixed(6)}`,
    `used_cpu_user_main_thread:${user.toFixed(6)}`,
  ];
}

function commandStatsSection(server: Server): string[] {
  const out: string[] = [];
  for (const [spec, s] of server.stats.commands) {
    if (s.calls === 0 && s.failed === 0 && s.rejected === 0) continue;
    const name = server.commandName(spec);
    const perCall = s.calls === 0 ? 0 : s.usec / s.calls;
    out.push(
      `cmdstat_${name}:calls=${s.calls},usec=${s.usec},usec_per_call=${
        perCall.toFixed(2)
      },rejected_calls=${s.rejected},failed_calls=${s.failed}`,
    );
  }
  return out.sort();
}

function latencyStatsSection(server: Server): string[] {
  if (!server.config.bool("latency-tracking")) return [];
  const percentiles = server.config.get("latency-tracking-info-percentiles").split(" ")
    .filter((p) => p !== "").map(Number);
  const out: string[] = [];
  for (const [spec, s] of server.stats.commands) {
    if (s.calls === 0 || s.histogram === undefined) continue;
    const fields = percentiles.map((p) =>
      `p${formatPercentile(p)}=${histogramPercentile(s.histogram!, s.calls, p).toFixed(3)}`
    );
    out.push(`latency_percentiles_usec_${server.commandName(spec)}:${fields.join(",")}`);
  }
  return out.sort();
}

function formatPercentile(p: number): string {
  return Number.isInteger(p) ? String(p) : String(Number(p.toFixed(6)));
}

/**
 * The latency (µs) under which `p` percent of calls fell, from a histogram of
 * power-of-two buckets of microseconds: the upper bound of the bucket holding it.
 */
function histogramPercentile(h: Uint32Array, total: number, p: number): number {
  const target = Math.max(1, Math.ceil(total * p / 100));
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i];
    if (seen >= target) return Math.pow(2, i);
  }
  return Math.pow(2, h.length - 1);
}

function keyspaceSection(server: Server): string[] {
  const out: string[] = [];
  for (const db of server.dbs) {
    if (db.size === 0) continue;
    out.push(
      `db${db.id}:keys=${db.size},expires=${db.volatileCount},avg_ttl=${Math.round(db.avgTtl)}`,
    );
  }
  return out;
}
