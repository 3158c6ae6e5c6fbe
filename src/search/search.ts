// Patch search (issue 13, the original's histopathology example): embed a query crop and every tile of the
// images searched, rank tiles by cosine similarity (features standardised over the searched tiles, so what all
// tiles share — background, stain level — does not dominate), and return the k best with their coordinates.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadSafetensors, noGrad, tidy, tensor } from "../engine/index.ts";
import { resolveConfig, imageSizeHW, type Config } from "../config/index.ts";
import { BadInputError, ConfigError } from "../errors.ts";
import { gridTiles, type Tile } from "../io/tiles.ts";
import { readRegionImage, type ImageSource } from "../io/source.ts";
import { checkpointOf, loadRunModel, modelForConfig } from "../train/index.ts";
import { configureEngine } from "../train/trainer.ts";
import { loadWeights } from "../train/checkpoint.ts";
import type { EmbeddingModel } from "../models/index.ts";
import { imageRange, imageRef, prepFor, regionToInput, targetImages } from "./inputs.ts";

export interface SearchOptions {
  /** Query image (file, Zarr, a+b channel files); with `box`, only that region of it. */
  query: string;
  /** [x, y, w, h] of the query crop, in pixels of `level` of the query image (default: the whole image). */
  box?: [number, number, number, number];
  /** in=: a large image, a folder of images or a CSV manifest. */
  target: string;
  k?: number; // default 10
  /** Tile side in pixels at `level` (default: the model's input size; in a dataset, default: each image whole). */
  tile?: number;
  /** Tile step (default tile / 2). */
  stride?: number;
  level?: number; // default 0
  /** Channels to use, in order (default all). */
  channels?: number[];
  /** tile: each tile scaled on its own (as training items are); image: by the whole image's percentiles. */
  normalise?: "tile" | "image";
  batchSize?: number; // default 64
  /**
   * A hit is skipped when more than this share of it overlaps a better hit in the same image (default 0.25:
   * with the default stride, the half-shifted neighbours of a hit are not reported again); 1 keeps all tiles.
   */
  maxOverlap?: number;
  /** Also return every tile's embedding and the query's (evaluation scripts). */
  keepVectors?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface Hit {
  rank: number;
  score: number;
  image: string;
  level: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface SearchResult {
  hits: Hit[];
  tiles: number;
  images: string[];
  queryImage: string;
  queryBox: [number, number, number, number];
  /** Every tile's score, in the order searched (for evaluation). */
  all: { image: number; tile: Tile; score: number }[];
  vectors?: { query: Float32Array; tiles: Float32Array[] };
}

/** The run's model without opening its training data: input channels come from the checkpoint's first layer. */
export async function loadSearchModel(runDir: string): Promise<{ cfg: Config; model: EmbeddingModel }> {
  const dir = resolve(runDir);
  if (!existsSync(join(dir, "config.yaml"))) throw new BadInputError(dir, "not a run folder (no config.yaml)");
  const cfg = resolveConfig({ file: join(dir, "config.yaml"), uniqueName: false });
  const file = checkpointOf(dir);
  const { tensors } = await loadSafetensors(file);
  const first = ["model.encoder.conv1.weight", "encoder.conv1.weight", "model.patch_embed.proj.weight", "patch_embed.proj.weight"].map((n) => tensors.get(n)).find(Boolean);
  const inputChannels = first?.shape[1];
  for (const t of tensors.values()) t.dispose();
  if (inputChannels === undefined || cfg.model.includes("camae")) {
    const { model, src } = await loadRunModel(dir); // channel-agnostic models: ask the training data
    await src.close();
    return { cfg, model };
  }
  configureEngine(cfg);
  const model = modelForConfig(cfg, { inputChannels, imageSize: imageSizeHW(cfg.data.image_size) });
  await loadWeights(file, model);
  model.eval();
  model.fuseForInference?.();
  return { cfg, model };
}

/**
 * Regions → model inputs → embeddings, batched across images (a dataset of small crops is one batch stream).
 * rows: one embedding per region added, in order (channel_mode=batch: the channel embeddings side by side).
 */
class RegionEmbedder {
  readonly rows: Float32Array[] = [];
  private pending: Float32Array[] = [];
  private channels = 0;
  private readonly size: [number, number];
  constructor(private readonly cfg: Config, private readonly model: EmbeddingModel, private readonly batchSize: number, private readonly onBatch: (n: number) => void = () => {}) {
    this.size = imageSizeHW(cfg.data.image_size);
  }

  async add(src: ImageSource, r: Tile, channels: number[], range: [number, number][] | null): Promise<void> {
    const C = channels.length;
    if (this.cfg.data.channel_mode !== "batch" && C !== this.model.spec.inChannels)
      throw new ConfigError("channels", `${src.path} gives ${C} channel(s) but the model takes ${this.model.spec.inChannels}; choose them with channels=0,1,...`);
    if (this.pending.length && C !== this.channels) this.flush(); // one channel count per batch
    this.channels = C;
    const img = await readRegionImage(src, { level: r.level, c: channels, y0: r.y0, x0: r.x0, h: r.h, w: r.w });
    const x = new Float32Array(C * this.size[0] * this.size[1]);
    regionToInput(img, prepFor(this.cfg, C, this.size), range, x, 0);
    this.pending.push(x);
    if (this.pending.length >= this.batchSize) this.flush();
  }

  flush(): void {
    const n = this.pending.length, C = this.channels, [h, w] = this.size;
    if (n === 0) return;
    const x = new Float32Array(n * C * h * w);
    this.pending.forEach((p, i) => x.set(p, i * p.length));
    this.pending = [];
    const shape = this.cfg.data.channel_mode === "batch" ? [n * C, 1, h, w] : [n, C, h, w];
    const z = noGrad(() => tidy(() => this.model.embed(tensor(x, shape)).to("float32").toFloat32()));
    const dim = z.length / n;
    for (let i = 0; i < n; i++) this.rows.push(z.slice(i * dim, (i + 1) * dim));
    this.onBatch(n);
  }
}

const allChannels = (src: ImageSource, level: number) => Array.from({ length: src.shapes[level].c }, (_, c) => c);

export async function searchPatches(runDir: string, o: SearchOptions): Promise<SearchResult> {
  const { cfg, model } = await loadSearchModel(runDir);
  try {
    const size = imageSizeHW(cfg.data.image_size);
    const tile = o.tile ?? size[0];
    const stride = o.stride ?? Math.max(1, Math.floor(tile / 2));
    const level = o.level ?? 0;
    const k = o.k ?? 10;
    const norm = o.normalise ?? "tile";
    const bs = o.batchSize ?? 64;

    // The query
    const q = imageRef(o.query);
    const qsrc = await q.open();
    let queryVec: Float32Array, queryBox: [number, number, number, number];
    try {
      const qlevel = Math.min(level, qsrc.levels - 1);
      const s = qsrc.shapes[qlevel];
      queryBox = o.box ?? [0, 0, s.x, s.y];
      const [x, y, w, h] = queryBox;
      if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > s.x || y + h > s.y) throw new ConfigError("box", `${x},${y},${w},${h} is not inside the ${s.x}×${s.y} query image`);
      const channels = o.channels ?? allChannels(qsrc, qlevel);
      const q1 = new RegionEmbedder(cfg, model, 1);
      await q1.add(qsrc, { source: 0, level: qlevel, t: 0, z: 0, x0: x, y0: y, w, h }, channels, norm === "image" ? await imageRange(qsrc, cfg, channels) : null);
      [queryVec] = q1.rows;
    } finally {
      await qsrc.close();
    }

    // The tiles
    const { images: targets, dataset } = targetImages(o.target, cfg);
    const where: { image: number; tile: Tile }[] = [];
    // One pass: open each image, plan its tiles, embed them (batches run across images). The progress total is
    // exact for one image and estimated from the images seen so far for a dataset.
    let done = 0, planned = 0;
    const embedder = new RegionEmbedder(cfg, model, bs, (n) => o.onProgress?.((done += n), Math.max(done, Math.round((planned / Math.max(1, seen)) * targets.length))));
    let seen = 0;
    for (const [i, t] of targets.entries()) {
      const src = await t.open();
      try {
        const s = src.shapes[level];
        if (!s) throw new ConfigError("level", `${t.name} has ${src.levels} level(s); level=${level} asked`);
        // A dataset's images are candidates as they are unless tile= is given; an image smaller than a tile is one tile.
        const whole = (dataset && o.tile === undefined) || s.x < tile || s.y < tile;
        const plan = whole ? [{ source: 0, level, t: 0, z: 0, y0: 0, x0: 0, h: s.y, w: s.x }] : gridTiles(s, { size: tile, stride, level });
        (planned += plan.length), seen++;
        const channels = o.channels ?? allChannels(src, level);
        const range = norm === "image" ? await imageRange(src, cfg, channels) : null;
        for (const tile of plan) {
          await embedder.add(src, tile, channels, range);
          where.push({ image: i, tile });
        }
      } finally {
        await src.close();
      }
    }
    embedder.flush();
    const rows = embedder.rows;
    if (rows.length === 0) throw new BadInputError(o.target, "no tiles to search");
    if (rows[0].length !== queryVec.length) throw new ConfigError("channels", `the query embeds to ${queryVec.length} values and the tiles to ${rows[0].length}: give both the same channels`);

    const scores = standardisedCosine(queryVec, rows);
    const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
    const kept = distinctHits(order, where.map((w) => ({ image: w.image, ...w.tile })), o.maxOverlap ?? 0.25, k);
    const hits: Hit[] = kept.map((r, i) => {
      const { image, tile: t } = where[r];
      return { rank: i + 1, score: scores[r], image: targets[image].name, level: t.level, x: t.x0, y: t.y0, w: t.w, h: t.h };
    });
    return { hits, tiles: rows.length, images: targets.map((t) => t.name), queryImage: q.name, queryBox, all: where.map((w, r) => ({ ...w, score: scores[r] })), vectors: o.keepVectors ? { query: queryVec, tiles: rows } : undefined };
  } finally {
    model.dispose();
  }
}

/** Share of box a covered by box b (0 when they lie in different images or levels). */
function covered(a: Box, b: Box): number {
  if (a.image !== b.image || a.level !== b.level) return 0;
  const w = Math.min(a.x0 + a.w, b.x0 + b.w) - Math.max(a.x0, b.x0), h = Math.min(a.y0 + a.h, b.y0 + b.h) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? (w * h) / (a.w * a.h) : 0;
}
type Box = { image: number; level: number; x0: number; y0: number; w: number; h: number };

/** The first k of `order` (best first) that overlap no better kept box by more than maxOverlap of their area. */
export function distinctHits(order: readonly number[], boxes: readonly Box[], maxOverlap: number, k: number): number[] {
  const kept: number[] = [];
  for (const r of order) {
    if (kept.length >= k) break;
    if (maxOverlap < 1 && kept.some((q) => covered(boxes[r], boxes[q]) > maxOverlap)) continue;
    kept.push(r);
  }
  return kept;
}

/** Cosine similarity of the query to each row after z-scoring every feature over the rows. */
export function standardisedCosine(query: Float32Array, rows: Float32Array[]): Float64Array {
  const d = query.length, n = rows.length;
  const mean = new Float64Array(d), sd = new Float64Array(d);
  for (const r of rows) for (let f = 0; f < d; f++) mean[f] += r[f] / n;
  for (const r of rows) for (let f = 0; f < d; f++) sd[f] += (r[f] - mean[f]) ** 2 / n;
  for (let f = 0; f < d; f++) sd[f] = Math.sqrt(sd[f]) || 1;
  const z = (v: Float32Array) => Float64Array.from(v, (x, f) => (x - mean[f]) / sd[f]);
  const qz = z(query);
  const qn = Math.hypot(...qz) || 1;
  return Float64Array.from(rows, (r) => {
    const rz = z(r);
    let dot = 0;
    for (let f = 0; f < d; f++) dot += qz[f] * rz[f];
    return dot / (qn * (Math.hypot(...rz) || 1));
  });
}
