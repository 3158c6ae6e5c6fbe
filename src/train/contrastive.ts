// Contrastive terms that pull together embeddings of views of the same thing (the channels of one image, the
// z-planes of one stack, the wells of one treatment) and push apart the rest of the batch.
import { tensor, op, type Tensor } from "../engine/index.ts";

/**
 * Supervised NT-Xent (Khosla et al. 2020 form of SimCLR's loss): for each row i, the mean over its positives p
 * (same group, p ≠ i) of −log softmax_j≠i(sim(z_i, z_j)/τ)[p], with cosine similarity. Rows without a
 * positive in the batch are left out. groups: one integer per row.
 */
export function ntXent(z: Tensor, groups: ArrayLike<number>, temperature = 0.1): Tensor {
  const n = z.shape[0];
  const pos = new Float32Array(n * n);
  const self = new Uint8Array(n * n);
  const hasPos = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    self[i * n + i] = 1;
    for (let j = 0; j < n; j++)
      if (j !== i && groups[i] === groups[j]) {
        pos[i * n + j] = 1;
        hasPos[i] = 1;
      }
  }
  const rows = hasPos.reduce((a, b) => a + b, 0);
  if (rows === 0) return z.sum().mul(0);
  const zn = z.div(z.norm(2, 1, true).clamp(1e-8));
  const sim = zn.matmul(zn.T).div(temperature);
  const selfMask = tensor(self, [n, n], "bool");
  const logits = sim.maskedFill(selfMask, -1e9); // exclude i itself from the denominator
  const logProb = logits.logSoftmax(1);
  const posMask = tensor(pos, [n, n]);
  const perRow = logProb.mul(posMask).sum([1]).div(posMask.sum([1]).clamp(1)); // mean log-prob of positives
  return perRow.mul(tensor(hasPos, [n])).sum().div(-rows);
}

/** The original project's Euclidean pull: mean squared distance of each row to its group's mean. */
export function groupPull(z: Tensor, groups: ArrayLike<number>): Tensor {
  const n = z.shape[0];
  const ids = [...new Set(Array.from(groups))];
  const assign = new Float32Array(ids.length * n);
  ids.forEach((g, k) => {
    let c = 0;
    for (let i = 0; i < n; i++) if (groups[i] === g) c++;
    for (let i = 0; i < n; i++) if (groups[i] === g) assign[k * n + i] = 1 / c;
  });
  const a = tensor(assign, [ids.length, n]);
  const means = a.matmul(z); // [G, D]
  const idx = tensor(new BigInt64Array(Array.from(groups, (g) => BigInt(ids.indexOf(g)))), [n], "int64");
  return op<Tensor>("mse_loss", z, means.indexSelect(0, idx), 1);
}
