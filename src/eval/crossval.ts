// The evaluation protocol on a matrix: for each fold, standard-scale on the training rows, then fit the
// random forest, the linear probe and the k-NN classifier and score them on the held-out rows.
import { foldCount, splitIndices } from "./folds.ts";
import { RandomForestClassifier, argmaxLabels, type Matrix } from "./forest/forest.ts";
import { LogisticRegression } from "./logistic.ts";
import { KnnClassifier } from "./knn.ts";
import { StandardScaler, takeRows } from "./scaler.ts";
import { foldMetrics, meanSd, type FoldMetrics, type MeanSd } from "./metrics.ts";

export const MODELS = ["random_forest", "logistic_regression", "knn"] as const;
export type ModelName = (typeof MODELS)[number];

export interface CrossValidationOptions {
  models?: readonly ModelName[]; // default all three
  trees?: number; // forest size, default 100
  seed?: number; // forest seed (the same in every fold, as sklearn's random_state), default 42
  threads?: number; // forest worker threads
  knnK?: number; // default 5
}

export const SUMMARY_KEYS = ["accuracy", "balancedAccuracy", "macroPrecision", "macroRecall", "macroF1", "rocAuc"] as const;

export interface ModelResult {
  model: ModelName;
  folds: FoldMetrics[];
  summary: Record<(typeof SUMMARY_KEYS)[number], MeanSd | null>;
  perClass: { label: string; precision: MeanSd; recall: MeanSd; f1: MeanSd; support: number }[];
  confusion: number[][]; // summed over folds
  predictions: string[]; // out-of-fold prediction of every row
  seconds: number;
}

export interface CrossValidationResult { classes: string[]; testFold: Int32Array; models: ModelResult[] }

export async function crossValidate(X: Matrix, d: number, y: readonly string[], testFold: Int32Array, opts: CrossValidationOptions = {}): Promise<CrossValidationResult> {
  const models = opts.models ?? MODELS;
  const classes = [...new Set(y)].sort();
  const k = foldCount(testFold);
  const acc = new Map(models.map((m) => [m, { folds: [] as FoldMetrics[], predictions: new Array<string>(y.length), seconds: 0 }]));
  for (let f = 0; f < k; f++) {
    const { train, test } = splitIndices(testFold, f);
    const scaler = StandardScaler.fit(takeRows(X, d, train), d);
    const Xtr = scaler.transform(takeRows(X, d, train)), Xte = scaler.transform(takeRows(X, d, test));
    const ytr = Array.from(train, (i) => y[i]), yte = Array.from(test, (i) => y[i]);
    for (const m of models) {
      const t0 = performance.now();
      let proba: Float64Array;
      if (m === "random_forest") proba = (await RandomForestClassifier.fit(Xtr, ytr, { trees: opts.trees, seed: opts.seed, threads: opts.threads, classes })).predictProba(Xte);
      else if (m === "logistic_regression") proba = LogisticRegression.fit(Xtr, ytr, { classes }).predictProba(Xte);
      else proba = KnnClassifier.fit(Xtr, ytr, { k: opts.knnK ?? 5, classes }).predictProba(Xte);
      const pred = argmaxLabels(proba, classes);
      const a = acc.get(m)!;
      a.seconds += (performance.now() - t0) / 1000;
      a.folds.push(foldMetrics(yte, pred, classes, proba));
      test.forEach((i, j) => (a.predictions[i] = pred[j]));
    }
  }
  return { classes, testFold, models: models.map((m) => summarise(m, classes, acc.get(m)!)) };
}

function summarise(model: ModelName, classes: string[], a: { folds: FoldMetrics[]; predictions: string[]; seconds: number }): ModelResult {
  const summary = Object.fromEntries(SUMMARY_KEYS.map((key) => [key, meanSd(a.folds.map((f) => f[key]))])) as ModelResult["summary"];
  const perClass = classes.map((label, c) => ({
    label,
    precision: meanSd(a.folds.map((f) => f.perClass[c].precision))!,
    recall: meanSd(a.folds.map((f) => f.perClass[c].recall))!,
    f1: meanSd(a.folds.map((f) => f.perClass[c].f1))!,
    support: a.folds.reduce((s, f) => s + f.perClass[c].support, 0),
  }));
  const confusion = classes.map((_, t) => classes.map((_, p) => a.folds.reduce((s, f) => s + f.confusion[t][p], 0)));
  return { model, folds: a.folds, summary, perClass, confusion, predictions: a.predictions, seconds: a.seconds };
}
