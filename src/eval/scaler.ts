// StandardScaler: per-column mean and population standard deviation fitted on training rows only;
// zero-variance columns are centred but not scaled (sklearn's convention).
import type { Matrix } from "./forest/forest.ts";

export class StandardScaler {
  private constructor(readonly mean: Float64Array, readonly scale: Float64Array) {}

  static fit(X: Matrix, d: number): StandardScaler {
    const n = X.length / d;
    const mean = new Float64Array(d), m2 = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) mean[f] += X[i * d + f];
    for (let f = 0; f < d; f++) mean[f] /= n;
    for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) { const v = X[i * d + f] - mean[f]; m2[f] += v * v; }
    const scale = new Float64Array(d);
    for (let f = 0; f < d; f++) {
      const sd = Math.sqrt(m2[f] / n);
      // sklearn treats a variance below 10·eps·mean² (rounding noise) as zero.
      scale[f] = sd === 0 || m2[f] / n < 10 * Number.EPSILON * mean[f] * mean[f] ? 1 : sd;
    }
    return new StandardScaler(mean, scale);
  }

  transform(X: Matrix): Float64Array {
    const d = this.mean.length;
    const out = new Float64Array(X.length);
    for (let i = 0; i < X.length; i++) { const f = i % d; out[i] = (X[i] - this.mean[f]) / this.scale[f]; }
    return out;
  }
}

/** Rows `idx` of a row-major matrix with d columns. */
export function takeRows(X: Matrix, d: number, idx: ArrayLike<number>): Float64Array {
  const out = new Float64Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) out.set(X.subarray(idx[r] * d, idx[r] * d + d), r * d);
  return out;
}
