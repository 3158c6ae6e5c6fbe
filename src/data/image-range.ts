// Per-channel intensity range of a whole (possibly huge) image, so every tile of it is scaled alike: a tile of
// background is not stretched to full contrast, and a bright object keeps its brightness relative to the image.
import type { NormaliseMode } from "./normalise.ts";
import { channelRange } from "./normalise.ts";
import { ARRAY_OF, type ImageSource } from "../io/source.ts";
import type { PixelArray } from "../io/image.ts";
import { readRegionOf } from "./region-read.ts";

/** Pixels per channel read for the statistics (all planes together); more is sampled in a centred window. */
const BUDGET = 4 << 20;

/** Evenly spaced picks of at most k of 0..n-1. */
const spread = (n: number, k: number) => (n <= k ? [...Array(n).keys()] : Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * n) / k)));

/**
 * [lo, hi] per channel, measured on the coarsest level (a centred window of it when larger than the budget): a
 * few time points, and the z max-projection (zMax) or a few z planes pooled, as the tiles will see them.
 */
export async function imageRange(src: ImageSource, zMax: boolean, mode: NormaliseMode, pLow: number, pHigh: number): Promise<[number, number][]> {
  const level = src.levels - 1;
  const s = src.shapes[level];
  const ts = spread(s.t, 4), zs = zMax ? [null] : spread(s.z, 8);
  const shrink = Math.min(1, Math.sqrt(BUDGET / (ts.length * zs.length * s.y * s.x)));
  const h = Math.max(1, Math.floor(s.y * shrink)), w = Math.max(1, Math.floor(s.x * shrink));
  const base = { level, y0: (s.y - h) >> 1, x0: (s.x - w) >> 1, h, w };
  const reads: PixelArray[] = [];
  for (const t of ts) for (const z of zs) reads.push((await readRegionOf(src, { ...base, t, z })).data);
  const n = h * w;
  return Array.from({ length: s.c }, (_, c) => {
    const pooled = new ARRAY_OF[src.dtype](n * reads.length);
    reads.forEach((r, i) => (pooled as Uint8Array).set((r as Uint8Array).subarray(c * n, (c + 1) * n), i * n));
    return channelRange(pooled, src.dtype, mode, pLow, pHigh);
  });
}
