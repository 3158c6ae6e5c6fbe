// N points → N×N Euclidean distance matrix (row-major Float32Array), and the matrix operations that keep the
// shape: moving the start point (cyclic shift) and reversing the direction (what a mirror image gives).
import { ConfigError } from "../errors.ts";
import type { Contour } from "./contour.ts";

/** "frobenius": divide by ‖D‖_F (the reference's choice); "max": by the largest distance; "none": pixels. */
export type Normalisation = "frobenius" | "max" | "none";

export function checkNormalisation(v: unknown): Normalisation {
  if (v === undefined) return "frobenius";
  if (v === "frobenius" || v === "max" || v === "none") return v;
  throw new ConfigError("shapes.normalise", `must be "frobenius", "max" or "none", got ${JSON.stringify(v)}`);
}

/** Pairwise distances of the points, normalised; computed in float64, stored as float32. */
export function distanceMatrix(points: Contour, normalise: Normalisation = "frobenius", out?: Float32Array): Float32Array {
  normalise = checkNormalisation(normalise);
  const { x, y } = points;
  const n = x.length;
  const d = out ?? new Float32Array(n * n);
  if (d.length !== n * n) throw new ConfigError("out", `needs ${n * n} values, has ${d.length}`);
  let scale = 1;
  if (normalise === "frobenius") {
    // Σ_ij |p_i - p_j|² = 2n Σ_i |p_i - mean|²: the norm without touching the N² entries.
    let mx = 0, my = 0;
    for (let i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= n; my /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (x[i] - mx) ** 2 + (y[i] - my) ** 2;
    scale = Math.sqrt(2 * n * ss);
  } else if (normalise === "max") {
    let best = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const q = (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2;
        if (q > best) best = q;
      }
    scale = Math.sqrt(best);
  }
  if (!(scale > 0)) throw new ConfigError("points", "all points coincide; the distance matrix cannot be normalised");
  const inv = 1 / scale;
  for (let i = 0; i < n; i++) {
    d[i * n + i] = 0;
    const xi = x[i], yi = y[i];
    for (let j = i + 1; j < n; j++) {
      const v = Math.sqrt((xi - x[j]) ** 2 + (yi - y[j]) ** 2) * inv;
      d[i * n + j] = v;
      d[j * n + i] = v;
    }
  }
  return d;
}

/** Side of a square matrix stored flat; throws if the length is not a square. */
export function matrixSide(d: ArrayLike<number>): number {
  const n = Math.round(Math.sqrt(d.length));
  if (n * n !== d.length) throw new ConfigError("matrix", `length ${d.length} is not N×N`);
  return n;
}

/** Distance matrix of the same points with point k as the new start: D'[i][j] = D[(i+k) mod n][(j+k) mod n]. */
export function cyclicShift(d: Float32Array, k: number): Float32Array {
  const n = matrixSide(d);
  k = ((k % n) + n) % n;
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const src = ((i + k) % n) * n, dst = i * n;
    // Row i is row (i+k) rotated left by k: two contiguous copies.
    out.set(d.subarray(src + k, src + n), dst);
    out.set(d.subarray(src, src + k), dst + n - k);
  }
  return out;
}

/** Distance matrix of the points in the opposite direction, same start: index i → (n - i) mod n. */
export function reverseMatrix(d: Float32Array): Float32Array {
  const n = matrixSide(d);
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const si = ((n - i) % n) * n, dst = i * n;
    for (let j = 0; j < n; j++) out[dst + j] = d[si + ((n - j) % n)];
  }
  return out;
}

/**
 * The 2·shifts matrices of one shape under its symmetries: start points 0, n/shifts, 2n/shifts, … in both
 * directions (for averaging an embedding over them, as the anchors' "averaged" rows do with 8 × 2).
 */
export function symmetryVariants(d: Float32Array, shifts = 8): Float32Array[] {
  const n = matrixSide(d);
  if (!Number.isInteger(shifts) || shifts < 1 || shifts > n) throw new ConfigError("shifts", `must be an integer in 1..${n}, got ${shifts}`);
  const out: Float32Array[] = [];
  const rev = reverseMatrix(d);
  for (const base of [d, rev]) for (let s = 0; s < shifts; s++) out.push(cyclicShift(base, Math.floor((s * n) / shifts)));
  return out;
}

/** A random symmetry (uniform start point, reversed with probability ½) for training augmentation. */
export function randomSymmetry(d: Float32Array, random: () => number): Float32Array {
  const n = matrixSide(d);
  const shifted = cyclicShift(d, Math.floor(random() * n));
  return random() < 0.5 ? reverseMatrix(shifted) : shifted;
}

/**
 * The two ends of the outline's diameter (the farthest pair of points, i < j): for elongated shapes (worms,
 * rods) the two tips. Anchoring the start point there removes the start point as a nuisance instead of
 * averaging over it.
 */
export function diameterEnds(d: Float32Array): [number, number] {
  const n = matrixSide(d);
  let best = -Infinity, bi = 0, bj = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      if (d[i * n + j] > best) {
        best = d[i * n + j];
        bi = i;
        bj = j;
      }
  return [bi, bj];
}

/**
 * The 4 matrices of one shape anchored at its tips: start at either end of the diameter, either direction
 * (the only symmetries left once the start point is fixed to a tip). `ends` saves the O(N²) search when known.
 */
export function tipVariants(d: Float32Array, ends = diameterEnds(d)): Float32Array[] {
  const out: Float32Array[] = [];
  for (const t of ends) {
    const s = cyclicShift(d, t);
    out.push(s, reverseMatrix(s));
  }
  return out;
}

/** Tip-anchored matrix k (0–3) of one shape, as tipVariants lists them: end k >> 1, reversed when k is odd. */
export function tipVariant(d: Float32Array, k: number, ends = diameterEnds(d)): Float32Array {
  const s = cyclicShift(d, ends[k >> 1]);
  return k & 1 ? reverseMatrix(s) : s;
}
