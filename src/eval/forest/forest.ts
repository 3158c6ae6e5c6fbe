// Random forest classifier matching scikit-learn's RandomForestClassifier defaults (100 trees, gini,
// bootstrap, max_features sqrt, min_samples_leaf 1, probabilities averaged over trees). Trees are grown in
// worker threads; each tree's random stream comes from the forest seed and the tree's index, so the result
// is the same whatever the number of threads.
import { ConfigError, BadInputError } from "../../errors.ts";
import { MersenneTwister } from "../random.ts";
import { accumulateProba, buildTree, presort, sqrtFeatures, type TrainingSet, type Tree } from "./tree.ts";
import { defaultThreads, forestPool } from "./pool.ts";

export interface ForestOptions {
  trees?: number; // default 100
  seed?: number; // default 42
  maxFeatures?: "sqrt" | "all" | number; // default "sqrt"
  threads?: number; // worker threads; 1 = grow in this thread; default: all cores
  classes?: readonly string[]; // fix the class list (e.g. all classes of a CV run); default: sorted unique y
}

/** Row-major numeric matrix. */
export type Matrix = Float64Array | Float32Array;

function sharedArray<T extends Float32Array | Int32Array>(Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, length: number): T {
  return new Ctor(new SharedArrayBuffer(Math.max(1, length) * Ctor.BYTES_PER_ELEMENT));
}

/** Row-major values as float32 (trees compare float32 values, like sklearn). */
export function toFloat32(X: Matrix): Float32Array {
  return X instanceof Float32Array ? X : Float32Array.from(X);
}

export class RandomForestClassifier {
  private constructor(readonly classes: readonly string[], readonly d: number, readonly trees: readonly Tree[]) {}

  static async fit(X: Matrix, y: readonly string[], opts: ForestOptions = {}): Promise<RandomForestClassifier> {
    const n = y.length;
    if (n === 0) throw new ConfigError("labels", "no labelled rows to train on");
    if (X.length % n !== 0) throw new ConfigError("features", `matrix of ${X.length} values does not split into ${n} rows`);
    const d = X.length / n;
    if (d === 0) throw new ConfigError("features", "no feature columns");
    for (let i = 0; i < X.length; i++) if (!Number.isFinite(X[i])) throw new BadInputError("features", `non-finite value at row ${Math.floor(i / d)}, column ${i % d}`);
    const nTrees = opts.trees ?? 100;
    if (!Number.isInteger(nTrees) || nTrees < 1) throw new ConfigError("trees", `need a positive integer, got ${nTrees}`);
    const classes = opts.classes ? [...opts.classes] : [...new Set(y)].sort();
    const code = new Map(classes.map((c, i) => [c, i]));
    const mf = opts.maxFeatures ?? "sqrt";
    const maxFeatures = mf === "sqrt" ? sqrtFeatures(d) : mf === "all" ? d : mf;
    if (!Number.isInteger(maxFeatures) || maxFeatures < 1 || maxFeatures > d) throw new ConfigError("maxFeatures", `need 1..${d}, got ${mf}`);

    const threads = Math.min(opts.threads ?? defaultThreads(), nTrees);
    const alloc = threads > 1 ? sharedArray : <T extends Float32Array | Int32Array>(C: { new (l: number): T }, l: number) => new C(l);
    const xcol = alloc(Float32Array, n * d);
    for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) xcol[f * n + i] = X[i * d + f];
    const yc = alloc(Int32Array, n);
    for (let i = 0; i < n; i++) {
      const c = code.get(y[i]);
      if (c === undefined) throw new ConfigError("classes", `label '${y[i]}' is not in the given class list`);
      yc[i] = c;
    }
    const order = alloc(Int32Array, n * d);
    order.set(presort(xcol, n, d));
    const ts: TrainingSet = { n, d, k: classes.length, xcol, y: yc, order };

    const rng = new MersenneTwister(opts.seed ?? 42);
    const seeds = Array.from({ length: nTrees }, () => rng.nextUint32());
    const trees = threads > 1 ? await forestPool(threads).buildTrees(ts, seeds, maxFeatures) : seeds.map((s) => buildTree(ts, s, maxFeatures));
    return new RandomForestClassifier(classes, d, trees);
  }

  /** Mean of the trees' class probabilities, row-major n × classes. */
  predictProba(X: Matrix): Float64Array {
    const d = this.d, k = this.classes.length;
    if (X.length % d !== 0) throw new ConfigError("features", `matrix of ${X.length} values does not split into rows of ${d}`);
    const n = X.length / d;
    const x32 = toFloat32(X);
    const acc = new Float64Array(n * k);
    for (const t of this.trees) accumulateProba(t, x32, n, d, k, acc);
    for (let i = 0; i < acc.length; i++) acc[i] /= this.trees.length;
    return acc;
  }

  predict(X: Matrix): string[] {
    return argmaxLabels(this.predictProba(X), this.classes);
  }
}

/** The class with the highest probability per row; ties go to the first class (numpy argmax). */
export function argmaxLabels(proba: Float64Array, classes: readonly string[]): string[] {
  const k = classes.length, n = proba.length / k;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (proba[i * k + c] > proba[i * k + best]) best = c;
    out[i] = classes[best];
  }
  return out;
}
