// The synthetic acquisition shift of batch B (issue 13): per-channel gain and offset, Gaussian blur (focus) and
// Gaussian noise (camera), on uint16 Jurkat crops. Used by batch-effect-data.ts and test/batch.test.ts.
import { encode } from "fast-png";
import type { Rng } from "../../src/data/index.ts";

export const SHIFT = { gain: [1.25, 0.8, 1.3], offset: [60, 20, 10], blurSigma: 1.0, noiseSd: [15, 15, 6] };

/** Separable Gaussian blur of one plane, reflecting at the borders. */
function blur(p: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = k.reduce((a, b) => a + b, 0);
  const refl = (i: number, n: number) => (i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i);
  const tmp = new Float32Array(p.length), o = new Float32Array(p.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { let a = 0; for (let j = -r; j <= r; j++) a += k[j + r] * p[y * w + refl(x + j, w)]; tmp[y * w + x] = a / s; }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { let a = 0; for (let j = -r; j <= r; j++) a += k[j + r] * tmp[refl(y + j, h) * w + x]; o[y * w + x] = a / s; }
  return o;
}

/** The batch-B acquisition: blur, gain and offset, then noise; rounded and clipped to uint16. */
export function shiftCell(data: Uint16Array, w: number, h: number, channels: number, rng: Rng): Uint16Array {
  const n = w * h, outPix = new Uint16Array(data.length);
  for (let c = 0; c < channels; c++) {
    const b = blur(Float32Array.from(data.subarray(c * n, (c + 1) * n)), w, h, SHIFT.blurSigma);
    for (let i = 0; i < n; i++) {
      const v = b[i] * SHIFT.gain[c] + SHIFT.offset[c] + rng.normal() * SHIFT.noiseSd[c];
      outPix[c * n + i] = Math.max(0, Math.min(65535, Math.round(v)));
    }
  }
  return outPix;
}

/** C×H×W planes → interleaved 16-bit RGB PNG. */
export function png16(data: Uint16Array, w: number, h: number, channels: number): Uint8Array {
  const n = w * h, inter = new Uint16Array(n * channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) inter[i * channels + c] = data[c * n + i];
  return encode({ width: w, height: h, data: inter, depth: 16, channels });
}
