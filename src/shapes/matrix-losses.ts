// Penalties that push a decoded N×N matrix towards being a distance matrix. Pure functions on one row-major
// matrix: the reference definitions that the engine's batched losses must reproduce (same means, same
// squares), each zero exactly when its property holds.
// The first three follow bioimage_embed's shapes/loss_functions.py (F.mse_loss / relu().mean()); its triangle
// term compared randomly drawn *entries*, not triangles, so ours is the plain definition over all triples.
import { ConfigError } from "../errors.ts";
import { matrixSide } from "./distance.ts";

type Mat = ArrayLike<number>;

/** mean_i D[i][i]²: distances from a point to itself are zero. */
export function diagonalLoss(d: Mat): number {
  const n = matrixSide(d);
  let s = 0;
  for (let i = 0; i < n; i++) s += d[i * n + i] ** 2;
  return s / n;
}

/** mean_ij (D[i][j] − D[j][i])²: distances are symmetric. */
export function symmetryLoss(d: Mat): number {
  const n = matrixSide(d);
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += (d[i * n + j] - d[j * n + i]) ** 2;
  return (2 * s) / (n * n); // each unordered pair appears twice in the mean over (i, j)
}

/** mean_ij max(0, −D[i][j]): distances are not negative. */
export function nonNegativeLoss(d: Mat): number {
  const n = matrixSide(d);
  let s = 0;
  for (let i = 0; i < n * n; i++) if (d[i] < 0) s -= d[i];
  return s / (n * n);
}

/** mean over all ordered triples (i, j, k) of max(0, D[i][k] − D[i][j] − D[j][k]): no detour is shorter than the direct path. O(N³). */
export function triangleInequalityLoss(d: Mat): number {
  const n = matrixSide(d);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j < n; j++) {
      const dij = d[ri + j], rj = j * n;
      for (let k = 0; k < n; k++) {
        const v = d[ri + k] - dij - d[rj + k];
        if (v > 0) s += v;
      }
    }
  }
  return s / (n * n * n);
}

/** Same mean estimated from `samples` triples drawn uniformly with a seeded generator (for large N). */
export function triangleInequalityLossSampled(d: Mat, samples: number, seed = 0): number {
  const n = matrixSide(d);
  if (!Number.isInteger(samples) || samples < 1) throw new ConfigError("samples", `must be a positive integer, got ${samples}`);
  const rand = mulberry32(seed);
  let s = 0;
  for (let t = 0; t < samples; t++) {
    const i = Math.floor(rand() * n), j = Math.floor(rand() * n), k = Math.floor(rand() * n);
    const v = d[i * n + k] - d[i * n + j] - d[j * n + k];
    if (v > 0) s += v;
  }
  return s / samples;
}

/** Small, fast, seedable PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MatrixLossWeights {
  diagonal?: number;
  symmetry?: number;
  nonNegative?: number;
  triangle?: number;
}

/** Every term and their weighted sum (terms with weight 0 or unset are not computed and reported as 0). */
export function matrixLosses(d: Mat, w: MatrixLossWeights): { diagonal: number; symmetry: number; nonNegative: number; triangle: number; total: number } {
  for (const [k, v] of Object.entries(w))
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new ConfigError(`shapes.loss.${k}`, `weight must be a finite number ≥ 0, got ${v}`);
  const diagonal = w.diagonal ? diagonalLoss(d) : 0;
  const symmetry = w.symmetry ? symmetryLoss(d) : 0;
  const nonNegative = w.nonNegative ? nonNegativeLoss(d) : 0;
  const triangle = w.triangle ? triangleInequalityLoss(d) : 0;
  const total = (w.diagonal ?? 0) * diagonal + (w.symmetry ?? 0) * symmetry + (w.nonNegative ?? 0) * nonNegative + (w.triangle ?? 0) * triangle;
  return { diagonal, symmetry, nonNegative, triangle, total };
}
