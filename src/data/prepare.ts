// One item → one model input: decode the file (or read its region), scale each channel to [0,1], fit to
// image_size, augment. Pure given (item, options, seed), which is what lets any worker prepare any item with
// identical results.
import type { AugmentConfig } from "../config/schema.ts";
import { BadInputError } from "../errors.ts";
import { readImage, type PlanarImage } from "../io/image.ts";
import { drawElastic, drawGeometry, itemSeed, photometric } from "./augment.ts";
import type { SkippedItem } from "./items.ts";
import { normaliseImage, normaliseWithRange, type NormaliseMode } from "./normalise.ts";
import { readItemRegion } from "./region-read.ts";
import type { ItemRegion } from "./tile-spec.ts";
import { boxReduce, warpBilinear, type Warp } from "./warp.ts";

/** Everything a worker needs to prepare items; plain data so it can be posted to a thread. */
export interface PrepOptions {
  height: number;
  width: number;
  fit: "resize" | "pad" | "letterbox";
  normalise: NormaliseMode;
  pLow: number;
  pHigh: number;
  /** Channels every image must have (unless mixedChannels). */
  channels: number;
  /** channel_mode=batch without data.channels: images may have any channel count. */
  mixedChannels?: boolean;
  /** File the expected channel count came from, for error messages. */
  channelsFrom: string;
  augment: AugmentConfig;
  skipBad: boolean;
}

/** Present when augmenting: the item's random draws derive from (seed, epoch, item index). */
export interface AugmentSeed {
  seed: number;
  epoch: number;
}

/** What the loader sends a worker for one item: a whole file, or a region of it (tile items). */
export interface TaskItem {
  index: number;
  path: string;
  region?: ItemRegion;
  /** Per-channel [lo, hi] to scale the region by (the whole image's); absent = the pixels' own. */
  range?: [number, number][] | null;
}

/** The raw pixels of an item: the whole file, or its region. */
export function readItemPixels(it: Pick<TaskItem, "path" | "region">): Promise<PlanarImage> {
  return it.region ? readItemRegion(it.path, it.region) : readImage(it.path);
}

/** An item's normalised planes (C×h×w in [0,1]), its channel count checked. */
async function loadPlanes(it: TaskItem, prep: PrepOptions): Promise<{ planes: Float32Array; img: PlanarImage }> {
  const img = await readItemPixels(it);
  if (!prep.mixedChannels && img.channels !== prep.channels)
    throw new BadInputError(it.path, `has ${img.channels} channel(s) but ${prep.channels} are expected (${prep.channelsFrom})`);
  const planes = it.range ? normaliseWithRange(img, it.range) : normaliseImage(img, prep.normalise, prep.pLow, prep.pHigh);
  return { planes, img };
}

/** Prepare one whole-file item into out[offset..] (prep.channels × H × W). */
export async function prepareItem(path: string, index: number, prep: PrepOptions, aug: AugmentSeed | null, out: Float32Array, offset: number): Promise<void> {
  const { planes, img } = await loadPlanes({ index, path }, { ...prep, mixedChannels: false });
  render(planes, img.channels, img.width, img.height, prep, aug ? itemSeed(aug.seed, aug.epoch, index) : null, out, offset);
}

/** Prepare one item of any kind; returns its C×H×W input and C. */
export async function prepareTaskItem(it: TaskItem, prep: PrepOptions, aug: AugmentSeed | null): Promise<{ x: Float32Array; channels: number }> {
  const { planes, img } = await loadPlanes(it, prep);
  const x = new Float32Array(img.channels * prep.height * prep.width);
  render(planes, img.channels, img.width, img.height, prep, aug ? itemSeed(aug.seed, aug.epoch, it.index) : null, x, 0);
  return { x, channels: img.channels };
}

/** Fit (and, with a seed, augment) normalised planes into out[offset..] as C×H×W. */
export function render(
  planes: Float32Array, channels: number, w: number, h: number,
  prep: PrepOptions, seed: number | null, out: Float32Array, offset: number,
): void {
  const H = prep.height, W = prep.width;
  // Base window in source pixels: the whole image (resize), an output-sized window (pad), or the whole image
  // enlarged to the output's aspect (letterbox). Padding is black; resize mirrors at the borders.
  let bw = w, bh = h;
  if (prep.fit === "pad") (bw = W), (bh = H);
  else if (prep.fit === "letterbox") {
    const s = Math.max(w / W, h / H);
    (bw = W * s), (bh = H * s);
  }
  let cx = w / 2, cy = h / 2;
  let m: Warp["m"] = [1, 0, 0, 1];
  let elastic = null;
  if (seed !== null) {
    const g = drawGeometry(prep.augment, seed, H === W);
    m = g.m;
    if (g.crop) {
      cx += g.crop.ox * bw;
      cy += g.crop.oy * bh;
      bw *= g.crop.fw;
      bh *= g.crop.fh;
    }
    elastic = drawElastic(prep.augment, seed, W, H);
  }
  let sx = bw / W, sy = bh / H;
  const fx = Math.max(1, Math.floor(sx)), fy = Math.max(1, Math.floor(sy));
  if (fx > 1 || fy > 1) {
    const r = boxReduce(planes, channels, w, h, fx, fy);
    (planes = r.data), (w = r.width), (h = r.height);
    (cx /= fx), (cy /= fy), (sx /= fx), (sy /= fy);
  }
  const warp: Warp = { m, cx, cy, sx, sy, boundary: prep.fit === "resize" ? "reflect" : "zero", dispX: elastic?.dx, dispY: elastic?.dy };
  warpBilinear(planes, channels, w, h, out, offset, W, H, warp);
  if (seed !== null) photometric(prep.augment, seed, out, offset, channels, W * H);
}

export interface BatchResult {
  /** The kept items' inputs, item after item, each channels[i] × H × W (NCHW contiguous when all are equal). */
  x: Float32Array;
  /** Dataset indices of the items in x, in order. */
  kept: number[];
  /** Channels of each kept item. */
  channels: number[];
  skipped: (SkippedItem & { index: number })[];
}

/** Prepare a batch; bad files are skipped (and reported) when prep.skipBad, otherwise the first one throws. */
export async function prepareBatch(items: TaskItem[], prep: PrepOptions, aug: AugmentSeed | null): Promise<BatchResult> {
  const parts: Float32Array[] = [];
  const kept: number[] = [];
  const channels: number[] = [];
  const skipped: BatchResult["skipped"] = [];
  for (const it of items) {
    try {
      const r = await prepareTaskItem(it, prep, aug);
      parts.push(r.x);
      channels.push(r.channels);
      kept.push(it.index);
    } catch (e) {
      if (!(prep.skipBad && e instanceof BadInputError)) throw e;
      skipped.push({ index: it.index, path: it.path, reason: e.message.slice(e.file.length + 2) });
    }
  }
  const x = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (x.set(p, o), (o += p.length));
  return { x, kept, channels, skipped };
}
