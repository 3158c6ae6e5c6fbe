// Who this process is in a data-parallel run: from the `distributed` config block, overridden by the launcher
// environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT — what torchrun, our local launcher, a Slurm wrapper
// or a Kubernetes manifest sets).
import { ConfigError } from "../errors.ts";

export interface DistributedConfig {
  world_size: number;
  rank: number;
  master: string;
  procs: number;
  timeout_s: number;
  sync_bn: boolean;
}

export interface DdpSettings {
  /** "single": no group; "rank": join a group as `rank`; "launch": spawn `procs` local ranks and wait for them. */
  mode: "single" | "rank" | "launch";
  worldSize: number;
  rank: number;
  host: string;
  port: number;
  timeoutMs: number;
  syncBn: boolean;
  /** Intra-op threads this rank may use (set by the local launcher), else undefined. */
  threads?: number;
}

type Env = Record<string, string | undefined>;

export function parseMaster(master: string, field = "distributed.master"): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(master.trim());
  if (!m || !m[1]) throw new ConfigError(field, `'${master}' is not host:port (e.g. 127.0.0.1:29500)`);
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(field, `port ${port} is above 65535`);
  return { host: m[1], port };
}

function envInt(env: Env, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(name, `environment variable ${name}='${v}' is not a non-negative integer`);
  return n;
}

export function ddpSettings(cfg: DistributedConfig, env: Env = process.env): DdpSettings {
  const master = parseMaster(cfg.master);
  const envWorld = envInt(env, "WORLD_SIZE");
  const envRank = envInt(env, "RANK");
  const host = env.MASTER_ADDR || master.host;
  const port = envInt(env, "MASTER_PORT") ?? master.port;
  const base = { host, port, timeoutMs: Math.round(cfg.timeout_s * 1000), syncBn: cfg.sync_bn, threads: envInt(env, "BIE_RANK_THREADS") || undefined };
  // A launched rank (env set) never launches again, whatever distributed.procs says in the saved config.
  if (envWorld !== undefined || envRank !== undefined) {
    const worldSize = envWorld ?? cfg.world_size;
    const rank = envRank ?? cfg.rank;
    if (rank >= worldSize) throw new ConfigError("RANK", `rank ${rank} is not below the world size ${worldSize}`);
    return { mode: worldSize > 1 ? "rank" : "single", worldSize, rank, ...base };
  }
  if (cfg.procs > 1) return { mode: "launch", worldSize: cfg.procs, rank: 0, ...base };
  if (cfg.rank >= cfg.world_size) throw new ConfigError("distributed.rank", `rank ${cfg.rank} is not below distributed.world_size ${cfg.world_size}`);
  return { mode: cfg.world_size > 1 ? "rank" : "single", worldSize: cfg.world_size, rank: cfg.rank, ...base };
}

/** Per-rank batch size when a global batch is split over the ranks. */
export function perRankBatch(globalBatch: number, worldSize: number): number {
  if (globalBatch % worldSize !== 0)
    throw new ConfigError("batch_size", `the global batch (${globalBatch}) must divide evenly over ${worldSize} ranks; use a multiple of ${worldSize}`);
  return globalBatch / worldSize;
}
