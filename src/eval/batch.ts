// Batch-effect metrics (issue 13): does the embedding encode which batch (plate, day, repeat) an item came from,
// and does it still encode the biology? Batch predictability (random forest, lower is better), silhouette by
// batch (towards 0 is better) and by label (higher is better), and replicate consistency (the nearest item from
// another batch has the same label).
import { crossValidate } from "./crossval.ts";
import { stratifiedKFold } from "./folds.ts";
import { cosineNeighbours, unitRows } from "./knn.ts";
import { StandardScaler, takeRows } from "./scaler.ts";
import { MersenneTwister } from "./random.ts";
import type { MeanSd } from "./metrics.ts";
import type { Matrix } from "./forest/forest.ts";

export interface BatchMetrics {
  /** Random-forest balanced accuracy predicting the batch (stratified k-fold); chance = 1 / batches. */
  batchPredictability: { balancedAccuracy: MeanSd; chance: number };
  /** Mean silhouette with batches as clusters (Euclidean, standardised features). */
  silhouetteBatch: number;
  /** Mean silhouette with labels as clusters, over labelled rows (null without labels). */
  silhouetteLabel: number | null;
  /** Share of labelled items whose nearest neighbour (cosine) from another batch has the same label. */
  replicateConsistency: { value: number; chance: number; queries: number } | null;
  /** Random-forest balanced accuracy on the label with the evaluation's folds (null without labels). */
  labelBalancedAccuracy: MeanSd | null;
}

export interface BatchMetricOptions {
  seed?: number;
  trees?: number;
  threads?: number;
  folds?: number; // default 5
  /** Silhouettes use at most this many rows (seeded sample), as sklearn's sample_size; default 5000. */
  silhouetteMaxRows?: number;
  /** Skip the label forest (e.g. when the caller already has it). */
  labelScore?: MeanSd | null;
}

/**
 * All batch metrics of one embedding. batch: per row (non-empty); labels: per row, null = unlabelled.
 * X is used as given (the caller decides on corrections); distances are on standardised features.
 */
export async function batchMetrics(X: Matrix, d: number, batch: readonly string[], labels: readonly (string | null)[], opts: BatchMetricOptions = {}): Promise<BatchMetrics> {
  const seed = opts.seed ?? 42, k = opts.folds ?? 5;
  const forest = { models: ["random_forest"] as const, trees: opts.trees, seed, threads: opts.threads };
  const Z = StandardScaler.fit(X, d).transform(X);
  const batches = [...new Set(batch)];
  const bcv = await crossValidate(X, d, batch, stratifiedKFold(batch, k, { seed }), forest);
  const labelled = Int32Array.from(labels.flatMap((l, i) => (l === null || l === "" ? [] : [i])));
  const y = Array.from(labelled, (i) => labels[i]!);
  let labelBalancedAccuracy: MeanSd | null = null;
  if (opts.labelScore !== undefined) labelBalancedAccuracy = opts.labelScore;
  else if (new Set(y).size >= 2) {
    const lcv = await crossValidate(takeRows(X, d, labelled), d, y, stratifiedKFold(y, k, { seed }), forest);
    labelBalancedAccuracy = lcv.models[0].summary.balancedAccuracy;
  }
  const maxRows = opts.silhouetteMaxRows ?? 5000;
  return {
    batchPredictability: { balancedAccuracy: bcv.models[0].summary.balancedAccuracy!, chance: 1 / batches.length },
    silhouetteBatch: silhouetteSampled(Z, d, batch, maxRows, seed),
    silhouetteLabel: new Set(y).size >= 2 ? silhouetteSampled(takeRows(Z, d, labelled), d, y, maxRows, seed) : null,
    replicateConsistency: labelled.length ? replicateConsistency(Z, d, batch, labels) : null,
    labelBalancedAccuracy,
  };
}

function silhouetteSampled(Z: Matrix, d: number, y: readonly string[], maxRows: number, seed: number): number {
  if (y.length <= maxRows) return silhouette(Z, d, y);
  const idx = Int32Array.from({ length: y.length }, (_, i) => i);
  new MersenneTwister(seed).shuffle(idx);
  const keep = idx.slice(0, maxRows).sort();
  return silhouette(takeRows(Z, d, keep), d, Array.from(keep, (i) => y[i]));
}

/**
 * Mean silhouette coefficient, as sklearn.metrics.silhouette_score (Euclidean): s = (b − a) / max(a, b) with a the
 * mean distance to the rest of the row's cluster and b the smallest mean distance to another cluster; rows of
 * a single-member cluster score 0. Needs 2 ≤ clusters ≤ rows − 1 (else NaN).
 */
export function silhouette(X: Matrix, d: number, y: readonly string[]): number {
  const n = y.length;
  const names = [...new Set(y)];
  if (names.length < 2 || names.length > n - 1) return NaN;
  const code = Int32Array.from(y, (v) => names.indexOf(v));
  const size = new Int32Array(names.length);
  for (const c of code) size[c]++;
  const sums = new Float64Array(n * names.length); // per row: summed distance to each cluster
  for (let i = 0; i < n; i++) {
    const io = i * d;
    for (let j = i + 1; j < n; j++) {
      const jo = j * d;
      let s = 0;
      for (let f = 0; f < d; f++) { const t = X[io + f] - X[jo + f]; s += t * t; }
      const dist = Math.sqrt(s);
      sums[i * names.length + code[j]] += dist;
      sums[j * names.length + code[i]] += dist;
    }
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    const c = code[i];
    if (size[c] < 2) continue;
    const a = sums[i * names.length + c] / (size[c] - 1);
    let b = Infinity;
    for (let k = 0; k < names.length; k++) if (k !== c) b = Math.min(b, sums[i * names.length + k] / size[k]);
    const m = Math.max(a, b);
    total += m > 0 ? (b - a) / m : 0;
  }
  return total / n;
}

/**
 * For each labelled row, its nearest labelled row (cosine) among the other batches: the share with the same
 * label. chance: the same share if that neighbour were drawn at random from the other batches.
 */
export function replicateConsistency(X: Matrix, d: number, batch: readonly string[], labels: readonly (string | null)[]): { value: number; chance: number; queries: number } {
  const rows = labels.flatMap((l, i) => (l === null || l === "" ? [] : [i]));
  const unit = unitRows(takeRows(X, d, Int32Array.from(rows)), d);
  const nn = cosineNeighbours(unit, unit, d, 1, (q, b) => batch[rows[q]] === batch[rows[b]]);
  // chance: label frequencies among the other batches' labelled rows
  const count = new Map<string, number>(), countIn = new Map<string, number>();
  for (const i of rows) {
    count.set(labels[i]!, (count.get(labels[i]!) ?? 0) + 1);
    const key = `${batch[i]}\u0000${labels[i]}`;
    countIn.set(key, (countIn.get(key) ?? 0) + 1);
  }
  const inBatch = new Map<string, number>();
  for (const i of rows) inBatch.set(batch[i], (inBatch.get(batch[i]) ?? 0) + 1);
  let hit = 0, queries = 0, chance = 0;
  rows.forEach((i, q) => {
    const others = rows.length - inBatch.get(batch[i])!;
    if (others === 0 || nn[q] < 0) return;
    queries++;
    if (labels[rows[nn[q]]] === labels[i]) hit++;
    chance += (count.get(labels[i]!)! - countIn.get(`${batch[i]}\u0000${labels[i]}`)!) / others;
  });
  return { value: queries ? hit / queries : NaN, chance: queries ? chance / queries : NaN, queries };
}
