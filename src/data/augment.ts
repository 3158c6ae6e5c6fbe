// Random augmentation parameters and the pixel-wise (photometric) operations. Each operation draws from its own
// stream derived from the item's seed, so switching one augmentation on or off leaves the others' draws unchanged.
import type { AugmentConfig } from "../config/schema.ts";
import { Rng, hash32 } from "./rng.ts";

const Stream = { HFlip: 1, VFlip: 2, Rot90: 3, Rotate: 4, Crop: 5, Elastic: 6, Contrast: 7, Brightness: 8, Noise: 9 } as const;
type Stream = (typeof Stream)[keyof typeof Stream];

/** The seed of one item's augmentations in one epoch. */
export const itemSeed = (seed: number, epoch: number, index: number) => hash32(seed, epoch, index);
const stream = (s: number, k: Stream) => new Rng(hash32(s, k));

export interface Geometry {
  m: [number, number, number, number];
  /** Crop window as fractions of the base window: size and centre offset. */
  crop: { fw: number; fh: number; ox: number; oy: number } | null;
}

/** Flips, k·90° and free rotation folded into one 2×2 matrix, plus the random-resized-crop window. */
export function drawGeometry(aug: AugmentConfig, s: number, square: boolean): Geometry {
  let m: [number, number, number, number] = [1, 0, 0, 1];
  const mul = (n: [number, number, number, number]) => {
    m = [m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3], m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3]];
  };
  if (aug.hflip && stream(s, Stream.HFlip).bool()) mul([-1, 0, 0, 1]);
  if (aug.vflip && stream(s, Stream.VFlip).bool()) mul([1, 0, 0, -1]);
  if (aug.rot90) {
    // A quarter turn of a non-square output would not fit its own frame, so only half turns there.
    const k = square ? stream(s, Stream.Rot90).int(4) : 2 * stream(s, Stream.Rot90).int(2);
    const r: [number, number, number, number][] = [[1, 0, 0, 1], [0, -1, 1, 0], [-1, 0, 0, -1], [0, 1, -1, 0]];
    mul(r[k]);
  }
  if (aug.rotate_deg > 0) {
    const t = (stream(s, Stream.Rotate).uniform(-aug.rotate_deg, aug.rotate_deg) * Math.PI) / 180;
    mul([Math.cos(t), -Math.sin(t), Math.sin(t), Math.cos(t)]);
  }
  let crop: Geometry["crop"] = null;
  if (aug.crop_scale) {
    const r = stream(s, Stream.Crop);
    const [lo, hi] = aug.crop_scale[0] <= aug.crop_scale[1] ? aug.crop_scale : [aug.crop_scale[1], aug.crop_scale[0]];
    const area = r.uniform(lo, hi);
    const ratio = Math.exp(r.uniform(Math.log(3 / 4), Math.log(4 / 3)));
    const fw = Math.min(1, Math.sqrt(area * ratio)), fh = Math.min(1, Math.sqrt(area / ratio));
    crop = { fw, fh, ox: r.uniform(-(1 - fw) / 2, (1 - fw) / 2), oy: r.uniform(-(1 - fh) / 2, (1 - fh) / 2) };
  }
  return { m, crop };
}

/** Elastic displacement field (Simard et al. 2003): uniform noise in [-1,1], Gaussian-smoothed, times alpha. */
export function drawElastic(aug: AugmentConfig, s: number, w: number, h: number): { dx: Float32Array; dy: Float32Array } | null {
  if (aug.elastic_alpha <= 0) return null;
  const r = stream(s, Stream.Elastic);
  const field = () => {
    const f = new Float32Array(w * h);
    for (let i = 0; i < f.length; i++) f[i] = r.uniform(-1, 1);
    gaussianBlur(f, w, h, aug.elastic_sigma);
    for (let i = 0; i < f.length; i++) f[i] *= aug.elastic_alpha;
    return f;
  };
  const dx = field();
  return { dx, dy: field() };
}

function gaussianBlur(f: Float32Array, w: number, h: number, sigma: number): void {
  const rad = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * rad + 1);
  let sum = 0;
  for (let i = -rad; i <= rad; i++) sum += k[i + rad] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  // Each row/column is copied into an edge-padded line so the inner loop needs no bounds checks.
  const kn = k.length;
  const line = new Float32Array(Math.max(w, h) + 2 * rad);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let i = 0; i < w + 2 * rad; i++) line[i] = f[row + Math.min(w - 1, Math.max(0, i - rad))];
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let t = 0; t < kn; t++) acc += k[t] * line[x + t];
      f[row + x] = acc;
    }
  }
  for (let x = 0; x < w; x++) {
    for (let i = 0; i < h + 2 * rad; i++) line[i] = f[Math.min(h - 1, Math.max(0, i - rad)) * w + x];
    for (let y = 0; y < h; y++) {
      let acc = 0;
      for (let t = 0; t < kn; t++) acc += k[t] * line[y + t];
      f[y * w + x] = acc;
    }
  }
}

/** Contrast (about each channel's mean), brightness, Gaussian noise; then clip to [0,1], the decoder's range. */
export function photometric(aug: AugmentConfig, s: number, x: Float32Array, offset: number, channels: number, n: number): void {
  const c = aug.contrast > 0 ? stream(s, Stream.Contrast).uniform(1 - aug.contrast, 1 + aug.contrast) : 1;
  const b = aug.brightness > 0 ? stream(s, Stream.Brightness).uniform(-aug.brightness, aug.brightness) : 0;
  const noise = aug.noise_std > 0 ? stream(s, Stream.Noise) : null;
  if (c === 1 && b === 0 && !noise) return;
  for (let ch = 0; ch < channels; ch++) {
    const o = offset + ch * n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[o + i];
    mean /= n;
    for (let i = 0; i < n; i++) {
      let v = (x[o + i] - mean) * c + mean + b;
      if (noise) {
        // Box–Muller, both values of each pair used (pixels i and i+1).
        const r = aug.noise_std * Math.sqrt(-2 * Math.log(1 - noise.next())), t = 2 * Math.PI * noise.next();
        v += r * Math.cos(t);
        if (i + 1 < n) {
          const u = (x[o + i + 1] - mean) * c + mean + b + r * Math.sin(t);
          x[o + i + 1] = u < 0 ? 0 : u > 1 ? 1 : u;
        }
        x[o + i] = v < 0 ? 0 : v > 1 ? 1 : v;
        i++;
        continue;
      }
      x[o + i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
}
