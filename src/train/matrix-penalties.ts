// Penalties that push a decoded matrix towards a valid distance matrix (task=shapes): zero diagonal,
// symmetry, non-negativity and the triangle inequality. Tensor versions of src/shapes/matrix-losses.ts.
import { op, randperm, type Tensor } from "../engine/index.ts";

export interface PenaltyWeights {
  diagonal: number;
  symmetry: number;
  nonneg: number;
  triangle: number;
}

/** r: [B, 1, N, N]. The triangle term checks d_ij ≤ d_ik + d_kj for `pivots` random k (all k when pivots ≥ N). */
export function matrixPenalties(r: Tensor, pivots = 16): Record<keyof PenaltyWeights, Tensor> {
  const [B, , N] = r.shape;
  const m = r.reshape([B, N, N]);
  const diagonal = m.diagonal(0, 1, 2).square().mean();
  const symmetry = m.sub(m.transpose(1, 2)).square().mean();
  const nonneg = m.neg().relu().square().mean();
  const k = Math.min(pivots, N);
  const perm = randperm(N);
  const ks = k < N ? perm.narrow(0, 0, k) : perm;
  const dik = m.indexSelect(2, ks).transpose(1, 2).unsqueeze(3); // [B, k, N, 1]: d_ik
  const dkj = m.indexSelect(1, ks).unsqueeze(2); // [B, k, 1, N]: d_kj
  const dij = m.unsqueeze(1); // [B, 1, N, N]
  const triangle = op<Tensor>("relu", dij.sub(dik.add(dkj))).square().mean();
  return { diagonal, symmetry, nonneg, triangle };
}
