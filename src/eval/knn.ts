// Cosine nearest neighbours: a k-NN classifier (majority vote, ties to the first class in class order, as
// scikit-learn's KNeighborsClassifier) and label retrieval precision@k over a whole table.
import type { Matrix } from "./forest/forest.ts";
import { MersenneTwister } from "./random.ts";

/** Rows scaled to unit length (zero rows stay zero: cosine similarity 0 to everything). */
export function unitRows(X: Matrix, d: number): Float32Array {
  const n = X.length / d, out = new Float32Array(X.length);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let f = 0; f < d; f++) s += X[i * d + f] * X[i * d + f];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let f = 0; f < d; f++) out[i * d + f] = X[i * d + f] * inv;
  }
  return out;
}

/**
 * For each query row, the indices of its k most cosine-similar base rows (most similar first).
 * `exclude(q, b)` can veto pairs (e.g. the query itself). Ties keep the lower base index.
 */
export function cosineNeighbours(queries: Float32Array, base: Float32Array, d: number, k: number, exclude?: (q: number, b: number) => boolean): Int32Array {
  const nq = queries.length / d, nb = base.length / d;
  const kk = Math.min(k, nb);
  const out = new Int32Array(nq * kk).fill(-1);
  const bestSim = new Float64Array(kk);
  const bestIdx = new Int32Array(kk);
  for (let q = 0; q < nq; q++) {
    bestSim.fill(-Infinity); bestIdx.fill(-1);
    const qo = q * d;
    for (let b = 0; b < nb; b++) {
      const bo = b * d;
      let s = 0;
      for (let f = 0; f < d; f++) s += queries[qo + f] * base[bo + f];
      if (s <= bestSim[kk - 1]) continue;
      if (exclude && exclude(q, b)) continue;
      // insert into the sorted top-k list
      let j = kk - 1;
      while (j > 0 && s > bestSim[j - 1]) { bestSim[j] = bestSim[j - 1]; bestIdx[j] = bestIdx[j - 1]; j--; }
      bestSim[j] = s; bestIdx[j] = b;
    }
    out.set(bestIdx, q * kk);
  }
  return out;
}

export class KnnClassifier {
  private constructor(readonly classes: readonly string[], readonly d: number, readonly k: number, private readonly base: Float32Array, private readonly codes: Int32Array) {}

  static fit(X: Matrix, y: readonly string[], opts: { k?: number; classes?: readonly string[] } = {}): KnnClassifier {
    const d = X.length / y.length;
    const classes = opts.classes ? [...opts.classes] : [...new Set(y)].sort();
    const code = new Map(classes.map((c, i) => [c, i]));
    return new KnnClassifier(classes, d, opts.k ?? 5, unitRows(X, d), Int32Array.from(y, (v) => code.get(v)!));
  }

  /** Fraction of the k neighbours in each class (n × classes). */
  predictProba(X: Matrix): Float64Array {
    const kc = this.classes.length, n = X.length / this.d;
    const nn = cosineNeighbours(unitRows(X, this.d), this.base, this.d, this.k);
    const kk = nn.length / Math.max(1, n);
    const out = new Float64Array(n * kc);
    for (let i = 0; i < n; i++) for (let j = 0; j < kk; j++) out[i * kc + this.codes[nn[i * kk + j]]] += 1 / kk;
    return out;
  }
}

export interface RetrievalResult { k: number[]; precision: number[]; queries: number }

/**
 * Label retrieval: for each labelled row its nearest other rows by cosine similarity; precision@k is the
 * mean fraction of the first k neighbours sharing the query's label. Above `maxQueries` rows a seeded
 * sample of that many rows are the queries (all rows are still searched). Returns the neighbour lists too.
 */
export function retrievalPrecision(X: Matrix, d: number, labels: readonly string[], ks: readonly number[] = [1, 5, 10], opts: { maxQueries?: number; seed?: number } = {}): RetrievalResult & { neighbours: Int32Array; kmax: number; queryRows: Int32Array } {
  const unit = unitRows(X, d);
  const n = labels.length;
  const kmax = Math.min(Math.max(...ks), n - 1);
  let queryRows = Int32Array.from({ length: n }, (_, i) => i);
  const maxQ = opts.maxQueries ?? 10000;
  if (n > maxQ) { new MersenneTwister(opts.seed ?? 42).shuffle(queryRows); queryRows = queryRows.slice(0, maxQ).sort(); }
  const queries = new Float32Array(queryRows.length * d);
  queryRows.forEach((q, r) => queries.set(unit.subarray(q * d, q * d + d), r * d));
  const neighbours = cosineNeighbours(queries, unit, d, kmax, (r, b) => queryRows[r] === b);
  const precision = ks.map((k) => {
    const kk = Math.min(k, kmax);
    let sum = 0;
    queryRows.forEach((q, r) => {
      let hit = 0;
      for (let j = 0; j < kk; j++) if (labels[neighbours[r * kmax + j]] === labels[q]) hit++;
      sum += hit / kk;
    });
    return sum / queryRows.length;
  });
  return { k: [...ks], precision, queries: queryRows.length, neighbours, kmax, queryRows };
}
