// Cosine k-nearest neighbours in the full embedding, by brute force over unit-length rows: 100k × 64 is a few
// million multiply-adds per query, well under the time a page takes to notice.

import { unitRows } from "../eval/knn.ts";

export { unitRows };
export interface Neighbour { index: number; similarity: number }

/**
 * The k rows most cosine-similar to `query` (any length-d vector), best first; ties go to the lower index so
 * the answer is the same every time. `exclude` (e.g. the query's own row) is skipped.
 */
export function cosineKnn(U: Float32Array, n: number, d: number, query: ArrayLike<number>, k: number, exclude = -1): Neighbour[] {
  let qn = 0;
  for (let f = 0; f < d; f++) qn += query[f] * query[f];
  const inv = qn > 0 ? 1 / Math.sqrt(qn) : 0;
  const q = new Float64Array(d);
  for (let f = 0; f < d; f++) q[f] = query[f] * inv;
  k = Math.min(k, n - (exclude >= 0 && exclude < n ? 1 : 0));
  if (k <= 0) return [];
  const idx = new Int32Array(k), sim = new Float64Array(k);
  let have = 0;
  for (let i = 0; i < n; i++) {
    if (i === exclude) continue;
    let s = 0;
    const o = i * d;
    for (let f = 0; f < d; f++) s += U[o + f] * q[f];
    if (have === k && s <= sim[k - 1]) continue; // equal similarity: the earlier (lower) index stays
    let p = have < k ? have++ : k - 1;
    while (p > 0 && sim[p - 1] < s) {
      sim[p] = sim[p - 1];
      idx[p] = idx[p - 1];
      p--;
    }
    sim[p] = s;
    idx[p] = i;
  }
  return Array.from({ length: have }, (_, j) => ({ index: idx[j], similarity: sim[j] }));
}
