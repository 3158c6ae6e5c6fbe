// One image file → one model input: decode, scale each channel to [0,1], fit to image_size, augment.
// Pure given (file, options, seed), which is what lets any worker prepare any item with identical results.
import type { AugmentConfig } from "../config/schema.ts";
import { BadInputError } from "../errors.ts";
import { readImage } from "../io/image.ts";
import { drawElastic, drawGeometry, itemSeed, photometric } from "./augment.ts";
import type { SkippedItem } from "./items.ts";
import { normaliseImage, type NormaliseMode } from "./normalise.ts";
import { boxReduce, warpBilinear, type Warp } from "./warp.ts";

/** Everything a worker needs to prepare items; plain data so it can be posted to a thread. */
export interface PrepOptions {
  height: number;
  width: number;
  fit: "resize" | "pad" | "letterbox";
  normalise: NormaliseMode;
  pLow: number;
  pHigh: number;
  /** Channels every image must have. */
  channels: number;
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

export async function prepareItem(path: string, index: number, prep: PrepOptions, aug: AugmentSeed | null, out: Float32Array, offset: number): Promise<void> {
  const img = await readImage(path);
  if (img.channels !== prep.channels)
    throw new BadInputError(path, `has ${img.channels} channel(s) but ${prep.channels} are expected (${prep.channelsFrom})`);
  const planes = normaliseImage(img, prep.normalise, prep.pLow, prep.pHigh);
  render(planes, img.channels, img.width, img.height, prep, aug ? itemSeed(aug.seed, aug.epoch, index) : null, out, offset);
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
  /** kept.length × C × H × W, NCHW contiguous. */
  x: Float32Array;
  /** Dataset indices of the rows of x, in order. */
  kept: number[];
  skipped: (SkippedItem & { index: number })[];
}

/** Prepare a batch; bad files are skipped (and reported) when prep.skipBad, otherwise the first one throws. */
export async function prepareBatch(items: { index: number; path: string }[], prep: PrepOptions, aug: AugmentSeed | null): Promise<BatchResult> {
  const per = prep.channels * prep.height * prep.width;
  const x = new Float32Array(items.length * per);
  const kept: number[] = [];
  const skipped: BatchResult["skipped"] = [];
  for (const it of items) {
    try {
      await prepareItem(it.path, it.index, prep, aug, x, kept.length * per);
      kept.push(it.index);
    } catch (e) {
      if (!(prep.skipBad && e instanceof BadInputError)) throw e;
      skipped.push({ index: it.index, path: it.path, reason: e.message.slice(e.file.length + 2) });
    }
  }
  return { x: kept.length === items.length ? x : x.slice(0, kept.length * per), kept, skipped };
}
