// Per-image, per-channel intensity scaling to [0,1]. Microscopy intensities vary by orders of magnitude between
// channels and acquisitions; scaling each image's channels separately makes them comparable inputs.
import type { PlanarImage, PixelArray } from "../io/image.ts";

export type NormaliseMode = "percentile" | "minmax";

/** C×H×W float planes in [0,1]. Constant channels become 0. */
export function normaliseImage(img: PlanarImage, mode: NormaliseMode, pLow: number, pHigh: number): Float32Array {
  const n = img.width * img.height;
  const ranges = Array.from({ length: img.channels }, (_, c) => channelRange(img.data.subarray(c * n, (c + 1) * n) as PixelArray, img.dtype, mode, pLow, pHigh));
  return normaliseWithRange(img, ranges);
}

/** The [lo, hi] a channel's values are scaled by. */
export function channelRange(plane: PixelArray, dtype: string, mode: NormaliseMode, pLow: number, pHigh: number): [number, number] {
  return mode === "minmax" ? minMax(plane) : percentiles(plane, dtype, pLow, pHigh);
}

/** C×H×W planes scaled by given per-channel [lo, hi] (a tile scaled by its whole image's range), clipped to [0,1]. */
export function normaliseWithRange(img: PlanarImage, ranges: readonly (readonly [number, number])[]): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n * img.channels);
  for (let c = 0; c < img.channels; c++) {
    const plane = img.data.subarray(c * n, (c + 1) * n) as PixelArray;
    const [lo, hi] = ranges[c];
    const scale = hi > lo ? 1 / (hi - lo) : 0;
    for (let i = 0; i < n; i++) {
      const v = (plane[i] - lo) * scale;
      out[c * n + i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return out;
}

function minMax(a: PixelArray): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * Two percentiles with numpy's default ("linear") interpolation. 8/16-bit planes large enough to pay for it use a
 * histogram (O(n)); others sort a copy.
 */
export function percentiles(a: PixelArray, dtype: string, pLow: number, pHigh: number): [number, number] {
  const n = a.length;
  const useHistogram = dtype === "uint8" || (dtype === "uint16" && n >= 16384);
  const kth = useHistogram ? histogramOrder(a, dtype === "uint8" ? 256 : 65536) : sortedOrder(a);
  const at = (p: number) => {
    const r = (p / 100) * (n - 1);
    const k = Math.floor(r);
    const f = r - k;
    const v0 = kth(k);
    return f > 0 && k + 1 < n ? v0 + f * (kth(k + 1) - v0) : v0;
  };
  return [at(pLow), at(pHigh)];
}

function sortedOrder(a: PixelArray): (k: number) => number {
  const s = a.slice().sort(); // typed-array sort is numeric and native
  return (k) => s[k];
}

let hist: Uint32Array | null = null; // reused: one per thread, 256 KiB for 16-bit
function histogramOrder(a: PixelArray, bins: number): (k: number) => number {
  if (!hist || hist.length < bins) hist = new Uint32Array(65536);
  const h = hist;
  h.fill(0, 0, bins);
  for (let i = 0; i < a.length; i++) h[a[i]]++;
  const cum = new Float64Array(bins); // cum[v] = number of values <= v
  let acc = 0;
  for (let v = 0; v < bins; v++) cum[v] = acc += h[v];
  return (k) => {
    // smallest v with cum[v] > k
    let lo = 0, hi = bins - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > k) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}
