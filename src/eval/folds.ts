// Cross-validation folds. Each function returns the test-fold number of every row (Int32Array), which is
// the whole assignment: fold i trains on rows with testFold !== i and tests on rows with testFold === i.
import { ConfigError } from "../errors.ts";
import { MersenneTwister } from "./random.ts";

export interface FoldOptions {
  shuffle?: boolean; // default true
  seed?: number; // default 42
}

/** Classes in order of first appearance, and each row's index into that list. */
function encodeByAppearance(y: readonly string[]): { classes: string[]; code: Int32Array } {
  const index = new Map<string, number>();
  const code = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    let c = index.get(y[i]);
    if (c === undefined) { c = index.size; index.set(y[i], c); }
    code[i] = c;
  }
  return { classes: [...index.keys()], code };
}

function checkSplits(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 2) throw new ConfigError("folds", `need an integer ≥ 2, got ${k}`);
  if (k > n) throw new ConfigError("folds", `${k} folds but only ${n} labelled rows`);
}

/**
 * Stratified k-fold, the same assignment as scikit-learn 1.2's StratifiedKFold(k, shuffle, random_state=seed):
 * per-class fold sizes from a round robin over the sorted labels, then each class's block of fold numbers is
 * shuffled with numpy's legacy Mersenne Twister.
 */
export function stratifiedKFold(y: readonly string[], k = 5, opts: FoldOptions = {}): Int32Array {
  const shuffle = opts.shuffle ?? true;
  checkSplits(k, y.length);
  const { classes, code } = encodeByAppearance(y);
  const nc = classes.length;
  const counts = new Int32Array(nc);
  for (const c of code) counts[c]++;
  const fewest = Math.min(...counts);
  if (k > Math.max(...counts)) throw new ConfigError("folds", `${k} folds but no class has that many members`);
  if (fewest < k) process.emitWarning(`the least populated class has only ${fewest} members, fewer than ${k} folds`);
  // Round robin over the labels sorted by appearance code: fold f gets sorted[f], sorted[f+k], ...
  const allocation = Array.from({ length: k }, () => new Int32Array(nc));
  let pos = 0;
  for (let c = 0; c < nc; c++) for (let j = 0; j < counts[c]; j++, pos++) allocation[pos % k][c]++;
  const rng = new MersenneTwister(opts.seed ?? 42);
  const testFold = new Int32Array(y.length);
  for (let c = 0; c < nc; c++) {
    const block = new Int32Array(counts[c]);
    let p = 0;
    for (let f = 0; f < k; f++) for (let j = 0; j < allocation[f][c]; j++) block[p++] = f;
    if (shuffle) rng.shuffle(block);
    let q = 0;
    for (let i = 0; i < y.length; i++) if (code[i] === c) testFold[i] = block[q++];
  }
  return testFold;
}

/**
 * Stratified group k-fold: whole groups (images, wells) go to one fold; groups are placed greedily, most
 * class-skewed first, into the fold that keeps per-class proportions most even (scikit-learn's
 * StratifiedGroupKFold algorithm). With shuffle, the group order is permuted before the stable sort so ties
 * break randomly. Fold numbers are not bit-identical to scikit-learn (which shuffles only the count rows).
 */
export function stratifiedGroupKFold(y: readonly string[], groups: readonly string[], k = 5, opts: FoldOptions = {}): Int32Array {
  if (groups.length !== y.length) throw new ConfigError("groups", `${groups.length} group values for ${y.length} labels`);
  const classes = [...new Set(y)].sort();
  const cls = new Map(classes.map((c, i) => [c, i]));
  const groupNames = [...new Set(groups)].sort();
  checkSplits(k, groupNames.length);
  const gidx = new Map(groupNames.map((g, i) => [g, i]));
  const nc = classes.length, ng = groupNames.length;
  const perGroup = Array.from({ length: ng }, () => new Float64Array(nc));
  const classTotal = new Float64Array(nc);
  for (let i = 0; i < y.length; i++) { perGroup[gidx.get(groups[i])!][cls.get(y[i])!]++; classTotal[cls.get(y[i])!]++; }
  const order = Array.from({ length: ng }, (_, i) => i);
  if (opts.shuffle ?? true) new MersenneTwister(opts.seed ?? 42).shuffle(order);
  const std = (v: ArrayLike<number>) => {
    let m = 0; for (let i = 0; i < v.length; i++) m += v[i]; m /= v.length;
    let s = 0; for (let i = 0; i < v.length; i++) s += (v[i] - m) ** 2;
    return Math.sqrt(s / v.length);
  };
  const spread = order.map((g) => std(perGroup[g]));
  const sortedPos = order.map((_, p) => p).sort((a, b) => spread[b] - spread[a] || a - b); // stable, descending
  const perFold = Array.from({ length: k }, () => new Float64Array(nc));
  const groupFold = new Int32Array(ng);
  for (const p of sortedPos) {
    const g = order[p];
    let best = -1, bestEval = Infinity, bestSize = Infinity;
    for (let f = 0; f < k; f++) {
      for (let c = 0; c < nc; c++) perFold[f][c] += perGroup[g][c];
      let evalSum = 0;
      for (let c = 0; c < nc; c++) {
        const col = new Float64Array(k);
        for (let h = 0; h < k; h++) col[h] = perFold[h][c] / classTotal[c];
        evalSum += std(col);
      }
      for (let c = 0; c < nc; c++) perFold[f][c] -= perGroup[g][c];
      const ev = evalSum / nc;
      let size = 0; for (let c = 0; c < nc; c++) size += perFold[f][c];
      const close = Math.abs(ev - bestEval) <= 1e-8 + 1e-5 * Math.abs(bestEval);
      if (ev < bestEval || (close && size < bestSize)) { best = f; bestEval = ev; bestSize = size; }
    }
    for (let c = 0; c < nc; c++) perFold[best][c] += perGroup[g][c];
    groupFold[g] = best;
  }
  const testFold = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) testFold[i] = groupFold[gidx.get(groups[i])!];
  for (let f = 0; f < k; f++) if (!testFold.includes(f)) throw new ConfigError("groups", `fold ${f} got no group: too few groups (${ng}) for ${k} folds`);
  return testFold;
}

/** Row indices of the training and test sets of fold f. */
export function splitIndices(testFold: Int32Array, f: number): { train: Int32Array; test: Int32Array } {
  let nt = 0;
  for (const v of testFold) if (v === f) nt++;
  const train = new Int32Array(testFold.length - nt), test = new Int32Array(nt);
  let a = 0, b = 0;
  for (let i = 0; i < testFold.length; i++) (testFold[i] === f ? (test[b++] = i) : (train[a++] = i));
  return { train, test };
}

/** Number of folds in an assignment (max + 1), checking each fold has rows. */
export function foldCount(testFold: Int32Array): number {
  let k = 0;
  for (const v of testFold) { if (v < 0 || !Number.isInteger(v)) throw new ConfigError("folds", `fold number ${v} is not a non-negative integer`); k = Math.max(k, v + 1); }
  for (let f = 0; f < k; f++) if (!testFold.includes(f)) throw new ConfigError("folds", `fold ${f} has no rows`);
  return k;
}
