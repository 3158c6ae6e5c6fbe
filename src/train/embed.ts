// Embedding a dataset with a trained run: batched, resumable by parts, written as Parquet (id, path, label,
// metadata, z_0..z_{d-1}) and as embeddings.npy + index.csv for numpy users.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { basename, resolve, join } from "node:path";
import { performance } from "node:perf_hooks";
import { createHash } from "node:crypto";
import { parquetWriteBuffer } from "hyparquet-writer";
import { tidy, noGrad, autocast, manualSeed } from "../engine/index.ts";
import { resolveConfig, type Config } from "../config/index.ts";
import { BieError, ConfigError } from "../errors.ts";
import { dihedralCount, dihedralTransform } from "../data/dihedral.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { writeNpy, readNpy } from "../io/npy.ts";
import { sourceForConfig, type BatchSource } from "./source.ts";
import { modelForConfig, batchTensor, configureEngine } from "./trainer.ts";
import { loadWeights } from "./checkpoint.ts";
import { channelPoolFor, poolItemRows } from "./channel-pool.ts";
import type { EmbeddingModel } from "../models/index.ts";

export interface EmbedOptions {
  /** Items per resumable part file. */
  partSize?: number;
  /** Only embed the items of shard i of n (0-based) — the contract that sweeps and job queues use. */
  shard?: { index: number; count: number };
  outDir?: string;
  onProgress?: (done: number, total: number, imgPerSec: number) => void;
  onLog?: (line: string) => void;
  /** Run the forward pass elsewhere (e.g. onnxruntime): built from the loaded model, used instead of model.embed. */
  embedder?: (model: EmbeddingModel, cfg: Config) => Promise<BatchEmbedder>;
  /** Keep the loaded model for the next call on the same run (a long-lived worker); see loadRunModel. */
  keepModel?: boolean;
}

/** An alternative runtime for embedding batches. */
export interface BatchEmbedder {
  /** Part of the resumable parts' fingerprint, so parts made by another runtime are not reused. */
  name: string;
  /** One batch as the loader gives it ([B, C, H, W] floats) → its embedding rows, flat. */
  embed(x: Float32Array, shape: number[]): Promise<Float32Array>;
  close?(): Promise<void>;
}

export interface EmbedResult {
  outDir: string;
  rows: number;
  dim: number;
  imgPerSec: number;
  skippedParts: number;
}

/** The checkpoint used for embedding: the best by validation loss, else the last. */
export function checkpointOf(runDir: string): string {
  for (const f of ["best.safetensors", "last.safetensors"]) {
    const p = join(runDir, "checkpoints", f);
    if (existsSync(p)) return p;
  }
  throw new BieError("NO_CHECKPOINT", `${runDir}: no checkpoint (is it a run folder of a finished or running training?)`);
}

/**
 * The one model a long-lived process keeps between jobs (a queue worker's sandbox embeds shard after shard of one
 * run): building it and reading its checkpoint cost more than embedding a shard of a few hundred images.
 */
let kept: { key: string; model: EmbeddingModel } | null = null;

/** Everything the loaded model depends on: the checkpoint file as it is now and every setting but the data's location. */
async function modelKey(ckpt: string, cfg: Config, src: BatchSource): Promise<string> {
  const st = await stat(ckpt);
  const { path: _p, manifest: _m, workers: _w, prefetch: _f, ...data } = cfg.data;
  return JSON.stringify([resolve(ckpt), st.size, st.mtimeMs, { ...cfg, data }, src.inputChannels, src.imageSize]);
}

/** Drop the kept model (see loadRunModel's keep). */
export function releaseKeptModel(): void {
  kept?.model.dispose();
  kept = null;
}

/**
 * A run's model, loaded for inference, and its data source. With keep, the model is kept for the next call with the
 * same checkpoint and settings and must not be disposed by the caller (releaseKeptModel drops it).
 */
export async function loadRunModel(runDir: string, overrides: string[] = [], opts: { keep?: boolean } = {}): Promise<{ cfg: Config; model: EmbeddingModel; src: BatchSource }> {
  const cfgFile = join(runDir, "config.yaml");
  if (!existsSync(cfgFile)) throw new BieError("NOT_A_RUN", `${runDir}: not a run folder (no config.yaml)`);
  const cfg = await resolveConfig({ file: cfgFile, overrides });
  configureEngine(cfg);
  manualSeed(cfg.seed);
  const src = await sourceForConfig(cfg);
  const ckpt = checkpointOf(runDir);
  const key = opts.keep ? await modelKey(ckpt, cfg, src) : "";
  if (opts.keep && kept?.key === key) return { cfg, model: kept.model, src };
  const model = modelForConfig(cfg, src);
  await loadWeights(ckpt, model);
  model.eval();
  (model as { fuseForInference?: () => void }).fuseForInference?.();
  if (cfg.engine.memory_format === "channels_last") model.toMemoryFormat("channels_last");
  if (opts.keep) {
    releaseKeptModel();
    kept = { key, model };
  }
  return { cfg, model, src };
}

export async function embedRun(runDir: string, overrides: string[] = [], opts: EmbedOptions = {}): Promise<EmbedResult> {
  runDir = resolve(runDir);
  const { cfg, model, src } = await loadRunModel(runDir, overrides, { keep: opts.keepModel });
  let alt: BatchEmbedder | null = null;
  try {
    alt = opts.embedder ? await opts.embedder(model, cfg) : null;
    const trainedOn = await readTrainedData(runDir);
    const dataKey = cfg.data.path ?? cfg.data.manifest ?? "";
    const sameData = resolve(dataKey) === resolve(trainedOn);
    const outDir = opts.outDir ? resolve(opts.outDir) : sameData ? runDir : join(runDir, `embed_${basename(dataKey).replace(/[^A-Za-z0-9._-]/g, "_")}`);
    const shard = opts.shard;
    const finalDir = shard ? join(outDir, "shards", `shard_${shard.index}_of_${shard.count}`) : outDir;
    await mkdir(join(finalDir, "parts"), { recursive: true });

    const block = embedBatchSize(cfg);
    const mine = shard ? shardItems(src.items.length, shard, block) : src.items.map((_, i) => i);
    // Parts hold whole batches, so every batch is one block whichever way the dataset is sharded.
    const partSize = Math.ceil((opts.partSize ?? 1024) / block) * block;
    const parts: number[][] = [];
    for (let i = 0; i < mine.length; i += partSize) parts.push(mine.slice(i, i + partSize));
    const fingerprint = createHash("sha256").update(checkpointOf(runDir)).update(JSON.stringify(cfg.data)).update(alt ? alt.name : "").update(cfg.embed.channel_pool).update(cfg.embed.average).update(String(block)).digest("hex").slice(0, 16);

    const t0 = performance.now();
    let done = 0, skippedParts = 0, embeddedImgs = 0;
    let dim = 0;
    const bf16 = cfg.engine.precision === "bf16";
    const pool = channelPoolFor(cfg.embed.channel_pool, src.channelCounts);
    if (cfg.embed.average === "dihedral" && cfg.task === "shapes")
      throw new ConfigError("embed.average", "shape runs already average over start points and directions; dihedral is for image tasks");
    const views = cfg.embed.average === "dihedral" ? dihedralCount(src.imageSize[0], src.imageSize[1]) : 1;
    for (let p = 0; p < parts.length; p++) {
      const file = join(finalDir, "parts", `part_${String(p).padStart(5, "0")}_${fingerprint}.npy`);
      if (existsSync(file)) {
        dim = (await readNpy(file)).shape[1];
        done += parts[p].length;
        skippedParts++;
        continue;
      }
      const rows: Float32Array[] = [];
      const loader = src.loaderFor(parts[p], block);
      for await (const batch of loader) {
        const variants = src.variantsPerItem ?? 1;
        const once = async (x: Float32Array) =>
          alt
            ? meanOverVariants(await alt.embed(x, batch.shape), batch.indices.length, variants)
            : noGrad(() =>
                tidy(() => {
                  let e = autocast(bf16, () => model.embed(batchTensor(x, batch.shape, cfg))).to("float32");
                  if (variants > 1) e = e.reshape([batch.indices.length, variants, -1]).mean(1); // average over symmetries
                  return e.toFloat32();
                }),
              );
        const zRows = await averagedOver(views, batch.x, batch.shape, once);
        // channel_mode=batch: an item's rows (one per channel) joined into one embedding
        const z = batch.itemRows ? poolItemRows(zRows, batch.itemRows, pool, src.channelsPerItem, (i) => src.items[batch.indices[i]].path) : zRows;
        const perItem = (z.length / batch.indices.length) | 0;
        dim = perItem;
        rows.push(z);
        done += batch.indices.length;
        embeddedImgs += batch.indices.length;
        opts.onProgress?.(done, mine.length, embeddedImgs / ((performance.now() - t0) / 1000));
      }
      const flat = concat(rows);
      await writeNpy(file, flat, [flat.length / dim, dim]);
    }
    const imgPerSec = embeddedImgs / Math.max(1e-9, (performance.now() - t0) / 1000);
    // assemble
    const chunks: Float32Array[] = [];
    for (let p = 0; p < parts.length; p++) {
      const file = join(finalDir, "parts", `part_${String(p).padStart(5, "0")}_${fingerprint}.npy`);
      const { data, shape } = await readNpy(file);
      dim = shape[1];
      if (shape[0] !== parts[p].length) throw new BieError("EMBED_PART", `${file}: holds ${shape[0]} rows, expected ${parts[p].length} (a bad input was skipped?)`);
      chunks.push(data as Float32Array);
    }
    const X = concat(chunks);
    await writeEmbeddingTables(finalDir, src, mine, X, dim);
    await rm(join(finalDir, "parts"), { recursive: true, force: true });
    opts.onLog?.(`embedded ${mine.length} items → ${finalDir} (dim ${dim}, ${Math.round(imgPerSec)} img/s)`);
    return { outDir: finalDir, rows: mine.length, dim, imgPerSec, skippedParts };
  } finally {
    await alt?.close?.();
    if (!opts.keepModel) model.dispose();
    await src.close();
  }
}

/** Items per embedding batch. It is also the block size of the shard contract (see shardItems). */
export const embedBatchSize = (cfg: Pick<Config, "batch_size">): number => cfg.batch_size * 4;

/**
 * The items of shard i of N: the dataset is cut into blocks of `block` consecutive items (one embedding batch each)
 * and shard i takes blocks i, i+N, i+2N, ... in order. Each batch then holds the same items at the same places as in a
 * single-process run, so the embeddings are bit for bit the same: libtorch's kernels may round differently for
 * another batch size or for an item at another place in the batch.
 */
export function shardItems(total: number, shard: { index: number; count: number }, block: number): number[] {
  const out: number[] = [];
  for (let b0 = shard.index * block; b0 < total; b0 += shard.count * block)
    for (let j = b0; j < Math.min(total, b0 + block); j++) out.push(j);
  return out;
}

/** The mean of embed(x) over `views` symmetries of the batch (views = 1: embed(x) itself). */
export async function averagedOver(views: number, x: Float32Array, shape: readonly number[], embed: (x: Float32Array) => Promise<Float32Array> | Float32Array): Promise<Float32Array> {
  if (views === 1) return embed(x);
  let sum: Float32Array | null = null;
  for (let k = 0; k < views; k++) {
    const z = await embed(dihedralTransform(x, shape, k));
    if (!sum) sum = Float32Array.from(z);
    else for (let i = 0; i < z.length; i++) sum[i] += z[i];
  }
  for (let i = 0; i < sum!.length; i++) sum![i] /= views;
  return sum!;
}

/** Average the rows of each item's symmetry variants (as the native path's reshape + mean). */
function meanOverVariants(z: Float32Array, items: number, variants: number): Float32Array {
  if (variants === 1) return z;
  const dim = z.length / (items * variants);
  const out = new Float32Array(items * dim);
  for (let i = 0; i < items; i++)
    for (let v = 0; v < variants; v++)
      for (let d = 0; d < dim; d++) out[i * dim + d] += z[(i * variants + v) * dim + d] / variants;
  return out;
}

async function readTrainedData(runDir: string): Promise<string> {
  const info = JSON.parse(await readFile(join(runDir, "run.json"), "utf8").catch(() => "{}")) as { data?: string };
  return info.data ?? "";
}

function concat(parts: Float32Array[]): Float32Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** embeddings.parquet, embeddings.npy and index.csv, rows in dataset order. */
export async function writeEmbeddingTables(dir: string, src: Pick<BatchSource, "items">, indices: number[], X: Float32Array, dim: number): Promise<void> {
  const items = indices.map((i) => src.items[i]);
  const metaKeys = [...new Set(items.flatMap((it) => Object.keys(it.meta ?? {})))];
  const columnData: { name: string; data: unknown[]; type: "STRING" | "FLOAT" | "INT32" }[] = [
    { name: "index", data: indices, type: "INT32" },
    { name: "id", data: items.map((it) => it.id), type: "STRING" },
    { name: "path", data: items.map((it) => it.path), type: "STRING" },
    { name: "label", data: items.map((it) => it.label ?? null), type: "STRING" },
    { name: "group", data: items.map((it) => it.group ?? null), type: "STRING" },
    ...metaKeys.filter((k) => !["index", "id", "path", "label", "group"].includes(k)).map((k) => ({ name: k, data: items.map((it) => (it.meta?.[k] ?? null) as unknown), type: "STRING" as const })),
  ];
  for (let d = 0; d < dim; d++) {
    const col = new Array<number>(items.length);
    for (let r = 0; r < items.length; r++) col[r] = X[r * dim + d];
    columnData.push({ name: `z_${d}`, data: col, type: "FLOAT" });
  }
  const buf = parquetWriteBuffer({ columnData: columnData as never });
  await writeFileAtomic(join(dir, "embeddings.parquet"), new Uint8Array(buf));
  await writeNpy(join(dir, "embeddings.npy"), X, [items.length, dim]);
  const esc = (v: unknown) => {
    const s = v == null ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const header = ["index", "id", "path", "label", "group", ...metaKeys];
  const lines = [header.join(",")];
  items.forEach((it, r) => lines.push([indices[r], it.id, it.path, it.label, it.group, ...metaKeys.map((k) => it.meta?.[k])].map(esc).join(",")));
  await writeFileAtomic(join(dir, "index.csv"), lines.join("\n") + "\n");
}
