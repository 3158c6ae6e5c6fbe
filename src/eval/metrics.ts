// Classification metrics with scikit-learn's conventions: macro averages over the labels present in
// y_true or y_pred, zero_division = 0, balanced accuracy over classes present in y_true, ROC-AUC by ranks
// (ties count half), one-vs-rest macro AUC for more than two classes.

export interface ClassScores { label: string; precision: number; recall: number; f1: number; support: number }

export interface FoldMetrics {
  n: number;
  accuracy: number;
  balancedAccuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  rocAuc: number | null; // null when it is undefined (a single class in y_true)
  perClass: ClassScores[]; // every class of the run, in class order
  confusion: number[][]; // [true][predicted], class order
}

function check(yTrue: readonly string[], yPred: readonly string[]): void {
  if (yTrue.length !== yPred.length) throw new RangeError(`y_true has ${yTrue.length} items, y_pred ${yPred.length}`);
}

export function accuracy(yTrue: readonly string[], yPred: readonly string[]): number {
  check(yTrue, yPred);
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return yTrue.length ? ok / yTrue.length : NaN;
}

export function confusionMatrix(yTrue: readonly string[], yPred: readonly string[], classes: readonly string[]): number[][] {
  check(yTrue, yPred);
  const idx = new Map(classes.map((c, i) => [c, i]));
  const m = classes.map(() => new Array<number>(classes.length).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = idx.get(yTrue[i]), p = idx.get(yPred[i]);
    if (t !== undefined && p !== undefined) m[t][p]++;
  }
  return m;
}

/** Mean recall over the classes that occur in y_true. */
export function balancedAccuracy(yTrue: readonly string[], yPred: readonly string[]): number {
  const classes = [...new Set([...yTrue, ...yPred])].sort();
  const cm = confusionMatrix(yTrue, yPred, classes);
  let sum = 0, k = 0;
  cm.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (total > 0) { sum += row[i] / total; k++; }
  });
  return k ? sum / k : NaN;
}

/** Per-label precision, recall, F1 and support for the given labels (zero_division = 0). */
export function precisionRecallF1(yTrue: readonly string[], yPred: readonly string[], labels: readonly string[]): ClassScores[] {
  check(yTrue, yPred);
  return labels.map((label) => {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < yTrue.length; i++) {
      const t = yTrue[i] === label, p = yPred[i] === label;
      if (t && p) tp++; else if (p) fp++; else if (t) fn++;
    }
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    const f1 = 2 * tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : 0;
    return { label, precision, recall, f1, support: tp + fn };
  });
}

/** Macro precision/recall/F1 over the labels present in y_true or y_pred (sklearn's average="macro"). */
export function macroScores(yTrue: readonly string[], yPred: readonly string[]): { precision: number; recall: number; f1: number } {
  const labels = [...new Set([...yTrue, ...yPred])].sort();
  const s = precisionRecallF1(yTrue, yPred, labels);
  const mean = (k: "precision" | "recall" | "f1") => s.reduce((a, c) => a + c[k], 0) / s.length;
  return { precision: mean("precision"), recall: mean("recall"), f1: mean("f1") };
}

/** Area under the ROC curve of scores for a binary truth (Mann–Whitney U with average ranks for ties). */
export function rocAucBinary(positive: ArrayLike<boolean>, score: ArrayLike<number>): number | null {
  const n = positive.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let nPos = 0, rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && score[order[j + 1]] === score[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let q = i; q <= j; q++) if (positive[order[q]]) { nPos++; rankSum += avgRank; }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * ROC-AUC from class probabilities (row-major n × classes). Two classes: AUC of the second class's
 * probability. More: unweighted mean of one-vs-rest AUCs over the classes present in y_true.
 */
export function rocAuc(yTrue: readonly string[], proba: ArrayLike<number>, classes: readonly string[]): number | null {
  const k = classes.length, n = yTrue.length;
  const column = (c: number) => Float64Array.from({ length: n }, (_, i) => proba[i * k + c]);
  if (k === 2) return rocAucBinary(yTrue.map((y) => y === classes[1]), column(1));
  const aucs: number[] = [];
  for (let c = 0; c < k; c++) {
    const a = rocAucBinary(yTrue.map((y) => y === classes[c]), column(c));
    if (a !== null) aucs.push(a);
  }
  return aucs.length ? aucs.reduce((a, b) => a + b, 0) / aucs.length : null;
}

/** Every metric of one fold. `proba` (n × classes) is optional; without it rocAuc is null. */
export function foldMetrics(yTrue: readonly string[], yPred: readonly string[], classes: readonly string[], proba?: ArrayLike<number>): FoldMetrics {
  const macro = macroScores(yTrue, yPred);
  return {
    n: yTrue.length,
    accuracy: accuracy(yTrue, yPred),
    balancedAccuracy: balancedAccuracy(yTrue, yPred),
    macroPrecision: macro.precision,
    macroRecall: macro.recall,
    macroF1: macro.f1,
    rocAuc: proba ? rocAuc(yTrue, proba, classes) : null,
    perClass: precisionRecallF1(yTrue, yPred, classes),
    confusion: confusionMatrix(yTrue, yPred, classes),
  };
}

export interface MeanSd { mean: number; sd: number }

/** Mean and sample standard deviation (ddof = 1, as pandas reports); nulls are skipped. */
export function meanSd(values: readonly (number | null)[]): MeanSd | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd };
}
