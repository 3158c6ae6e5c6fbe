// One shard of an embedding job: embedRun on blocks b ≡ i (mod N) of the items (shardItems), then the done marker. Idempotent — a finished
// shard is skipped, a half-finished one resumes from its parts — so a job queue or Slurm may run it again freely.
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { resolveConfig, type Config } from "../config/index.ts";
import { BieError } from "../errors.ts";
import { checkpointOf, embedBatchSize, embedRun } from "../train/index.ts";
import { readShardDone, shardDir, writeShardDone, type ShardDone, type ShardRef } from "./shard.ts";

export interface EmbedShardOptions {
  shard?: ShardRef;
  /** Output folder (holds shards/ and, after `bie merge`, the joined table); default: where `bie embed` writes. */
  out?: string;
  partSize?: number;
  onProgress?: (done: number, total: number, imgPerSec: number) => void;
  onLog?: (line: string) => void;
  /** Keep the model loaded for the next shard of the same run (see loadRunModel). */
  keepModel?: boolean;
}

export interface EmbedShardResult {
  out: string;
  dir: string;
  rows: number;
  dim: number;
  /** True when the shard was already finished and nothing ran. */
  skipped: boolean;
}

export function runConfig(runDir: string, overrides: string[]): Config {
  const file = join(runDir, "config.yaml");
  if (!existsSync(file)) throw new BieError("NOT_A_RUN", `${runDir}: not a run folder (no config.yaml)`);
  return resolveConfig({ file, overrides, uniqueName: false });
}

/** Where embedRun writes without outDir: the run folder for its own data, else <run>/embed_<data>. Mirrors embed.ts. */
export async function defaultEmbedOut(runDir: string, cfg: Config): Promise<string> {
  const info = JSON.parse(await readFile(join(runDir, "run.json"), "utf8").catch(() => "{}")) as { data?: string };
  const dataKey = cfg.data.path ?? cfg.data.manifest ?? "";
  return resolve(dataKey) === resolve(info.data ?? "") ? runDir : join(runDir, `embed_${basename(dataKey).replace(/[^A-Za-z0-9._-]/g, "_")}`);
}

/** Checkpoint identity plus every setting that changes embedding values; thread counts are left out. */
export async function sourceFingerprint(runDir: string, cfg: Config): Promise<string> {
  const ckpt = checkpointOf(runDir);
  const st = await stat(ckpt);
  const { workers: _w, prefetch: _p, ...data } = cfg.data;
  const settings = { model: cfg.model, latent_dim: cfg.latent_dim, task: cfg.task, data, precision: cfg.engine.precision, memory_format: cfg.engine.memory_format, shapes: cfg.shapes, block: embedBatchSize(cfg) };
  return createHash("sha256").update(`${resolve(ckpt)}\0${st.size}\0${st.mtimeMs}\0${JSON.stringify(settings)}`).digest("hex").slice(0, 16);
}

export async function embedShard(runDir: string, overrides: string[], o: EmbedShardOptions = {}): Promise<EmbedShardResult> {
  runDir = resolve(runDir);
  const cfg = runConfig(runDir, overrides);
  const out = o.out ? resolve(o.out) : await defaultEmbedOut(runDir, cfg);
  if (!o.shard) {
    const r = await embedRun(runDir, overrides, { outDir: out, partSize: o.partSize, onProgress: o.onProgress, onLog: o.onLog, keepModel: o.keepModel });
    return { out, dir: r.outDir, rows: r.rows, dim: r.dim, skipped: false };
  }
  const shard = o.shard;
  const dir = shardDir(out, shard);
  const source = await sourceFingerprint(runDir, cfg);
  const done = await readShardDone(dir);
  if (done) {
    if (done.source !== source)
      throw new BieError("SHARD_MISMATCH", `${dir} was embedded with another checkpoint or data settings; delete it (or use another out=) to redo it`);
    o.onLog?.(`${dir}: already finished (${done.rows} rows), nothing to do`);
    return { out, dir, rows: done.rows, dim: done.dim, skipped: true };
  }
  const r = await embedRun(runDir, overrides, { shard, outDir: out, partSize: o.partSize, onProgress: o.onProgress, onLog: o.onLog, keepModel: o.keepModel });
  if (resolve(r.outDir) !== dir) throw new BieError("SHARD_LAYOUT", `embedRun wrote shard ${shard.index}/${shard.count} to ${r.outDir}, expected ${dir}`);
  const marker: ShardDone = { shard: shard.index, count: shard.count, block: embedBatchSize(cfg), rows: r.rows, dim: r.dim, source, finished: new Date().toISOString(), host: hostname() };
  await writeShardDone(dir, marker);
  return { out, dir, rows: r.rows, dim: r.dim, skipped: false };
}
