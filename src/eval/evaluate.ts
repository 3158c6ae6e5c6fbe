// `evaluate`: the whole evaluation of one input (run folder, embeddings file or features CSV) —
// cross-validated random forest, linear probe and k-NN, label retrieval, UMAP and PCA — written as
// eval.json plus CSV files into the run folder (or beside the input file).
import { existsSync, mkdirSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { formatCsv, writeFileAtomic } from "./csv.ts";
import { crossValidate, MODELS, SUMMARY_KEYS, type ModelName, type ModelResult } from "./crossval.ts";
import { foldCount, stratifiedGroupKFold, stratifiedKFold } from "./folds.ts";
import { retrievalPrecision } from "./knn.ts";
import { pca, umap2d } from "./project.ts";
import { StandardScaler, takeRows } from "./scaler.ts";
import { joinColumns, readEmbeddings, readFeatureCsv, withIdsAndPaths, type EmbeddingTable } from "./table.ts";
import type { FoldMetrics, MeanSd } from "./metrics.ts";
import { batchFiles, evaluateBatches, type BatchReport, type BatchResult } from "./batch-report.ts";
import type { Correction } from "./correct.ts";

export interface EvaluateOptions {
  labels?: string; // label column (default "label"); rows with an empty label are left out of supervised scores
  groups?: string; // group column: whole groups held out together (stratified group k-fold)
  folds?: number | ArrayLike<number>; // number of folds (default 5), or a test-fold number per input row (<0: left out)
  seed?: number; // folds, forest and UMAP seed (default 42)
  trees?: number; // forest size (default 100)
  features?: readonly string[]; // features CSV: use exactly these columns
  exclude?: readonly string[]; // features CSV: numeric columns that are not features
  labelsFile?: string; // CSV with the label (and group) columns, joined on a shared key column
  joinOn?: string; // that key column (default: the first column name both files have)
  idColumn?: string; // row ids (default "id", else the first all-distinct column, else the row number)
  pathColumn?: string; // image path of each row, for report thumbnails (default "path")
  imageRoot?: string; // folder that relative image paths start from (default: the input's folder)
  outDir?: string; // where to write (default: the run folder, or <file stem>_eval/ beside a file)
  threads?: number; // forest worker threads (default: all cores)
  models?: readonly ModelName[]; // default: random_forest, logistic_regression, knn
  projections?: boolean; // UMAP and PCA (default true)
  umapMaxFit?: number; // UMAP is fitted on at most this many rows (default 10000), the rest transformed
  retrievalK?: readonly number[]; // default [1, 5, 10]
  write?: boolean; // write the files (default true)
  batch?: string; // batch column: batch-effect metrics before and after correction (batch-report.ts)
  control?: string; // "<column>=<value>": control items for the pca_center_scale correction
  corrections?: readonly Correction[]; // default center_scale (+ pca_center_scale with control)
  onLog?: (line: string) => void;
}

type Summary = Record<(typeof SUMMARY_KEYS)[number], MeanSd | null>;

/** The contents of eval.json. */
export interface EvalReport {
  version: 1;
  input: string;
  outDir: string;
  created: string;
  labels: string;
  groups: string | null;
  imageRoot: string; // relative paths in eval_projection.csv start here
  rows: { total: number; labelled: number; features: number };
  featureNames: string[];
  classes: string[];
  classCounts: Record<string, number>;
  protocol: { folds: number; foldSource: "stratified" | "stratified_group" | "given"; shuffle: boolean; seed: number; scaler: "standard"; trees: number; maxFeatures: "sqrt"; knnK: number; knnMetric: "cosine" };
  models: Record<string, { summary: Summary; perClass: ModelResult["perClass"]; confusion: number[][]; folds: Omit<FoldMetrics, "confusion">[]; seconds: number }>;
  retrieval: { metric: "cosine on standardised features"; k: number[]; precision: number[]; queries: number } | null;
  projections: { pca: { explainedVarianceRatio: number[] } | null; umap: { fitRows: number; seconds: number } | null };
  seconds: number;
  files: string[];
  batch?: BatchReport | null; // with options.batch
}

export interface EvaluateResult {
  report: EvalReport;
  table: EmbeddingTable;
  labelledRows: Int32Array; // table rows used for supervised scores
  testFold: Int32Array; // per labelled row
  predictions: Partial<Record<ModelName, string[]>>; // per labelled row
  neighbours: { queries: Int32Array; lists: Int32Array; k: number } | null; // queries and neighbours: indices into labelledRows
  projection: { pca: Float64Array | null; umap: Float64Array | null }; // per table row, (x, y)
  batch?: BatchResult | null;
}

/** Load any supported input into a table (label/group columns joined in when labelsFile is given). */
export async function loadInput(input: string, opts: EvaluateOptions = {}): Promise<EmbeddingTable> {
  const path = resolve(input);
  const isCsv = extname(path).toLowerCase() === ".csv" && existsSync(path) && statSync(path).isFile();
  let table = isCsv
    ? readFeatureCsv(path, { features: opts.features, exclude: opts.exclude, nonFeatures: [opts.labels ?? "label", ...(opts.groups ? [opts.groups] : []), ...(opts.joinOn ? [opts.joinOn] : [])] })
    : await readEmbeddings(path);
  if (!isCsv && (opts.features || opts.exclude)) throw new ConfigError("features", "feature selection applies to a features CSV, not to embeddings");
  if (opts.labelsFile) table = joinColumns(table, resolve(opts.labelsFile), opts.joinOn);
  return withIdsAndPaths(table, opts.idColumn, opts.pathColumn);
}

/** Default output folder: the run folder itself, or `<stem>_eval/` beside an input file. */
export function defaultOutDir(input: string): string {
  const path = resolve(input);
  if (existsSync(path) && statSync(path).isDirectory()) return path;
  const dir = dirname(path);
  if (existsSync(join(dir, "run.json")) || existsSync(join(dir, "metrics.jsonl"))) return dir;
  return join(dir, `${basename(path, extname(path))}_eval`);
}

export async function evaluate(input: string, opts: EvaluateOptions = {}): Promise<EvaluateResult> {
  const t0 = performance.now();
  const labelCol = opts.labels ?? "label";
  const seed = opts.seed ?? 42;
  const trees = opts.trees ?? 100;
  const models = opts.models ?? MODELS;
  for (const m of models) if (!MODELS.includes(m)) throw new ConfigError("models", `unknown model '${m}' (known: ${MODELS.join(", ")})`);
  const table = await loadInput(input, opts);
  const col = (name: string, field: string) => {
    const c = table.columns[name];
    if (!c) throw new ConfigError(field, `no column '${name}' in ${table.source}; columns: ${Object.keys(table.columns).join(", ") || "(none)"}`);
    return c;
  };
  const labelValues = col(labelCol, "labels");
  const groupValues = opts.groups ? col(opts.groups, "groups") : null;

  // Labelled rows (and, with explicit folds, rows the caller put in a fold).
  let given: ArrayLike<number> | null = null;
  if (typeof opts.folds === "object" && opts.folds !== null) {
    given = opts.folds;
    if (given.length !== table.n) throw new ConfigError("folds", `${given.length} fold numbers for ${table.n} rows`);
  }
  const labelled: number[] = [];
  for (let i = 0; i < table.n; i++) {
    const v = labelValues[i];
    if (v === null || v.trim() === "") continue;
    if (given && !(given[i] >= 0)) continue;
    if (groupValues && (groupValues[i] === null || groupValues[i] === "")) throw new ConfigError("groups", `row ${i} (${table.ids[i]}) has a label but no group`);
    labelled.push(i);
  }
  const rows = Int32Array.from(labelled);
  const y = labelled.map((i) => labelValues[i]!);
  const classes = [...new Set(y)].sort();
  if (classes.length < 2) throw new ConfigError("labels", `column '${labelCol}' needs at least 2 classes among labelled rows, found ${classes.length}`);
  const k = typeof opts.folds === "number" ? opts.folds : 5;
  let testFold: Int32Array;
  let foldSource: EvalReport["protocol"]["foldSource"];
  if (given) { testFold = Int32Array.from(labelled, (i) => given![i]); foldSource = "given"; }
  else if (groupValues) { testFold = stratifiedGroupKFold(y, labelled.map((i) => groupValues[i]!), k, { seed }); foldSource = "stratified_group"; }
  else { testFold = stratifiedKFold(y, k, { seed }); foldSource = "stratified"; }

  const d = table.d;
  const X = takeRows(table.X, d, rows);
  const cv = await crossValidate(X, d, y, testFold, { models, trees, seed, threads: opts.threads });

  let retrieval: EvalReport["retrieval"] = null, neighbours: EvaluateResult["neighbours"] = null;
  const ks = opts.retrievalK ?? [1, 5, 10];
  if (ks.length && y.length > 1) {
    const r = retrievalPrecision(StandardScaler.fit(X, d).transform(X), d, y, ks, { seed });
    retrieval = { metric: "cosine on standardised features", k: r.k, precision: r.precision, queries: r.queries };
    neighbours = { queries: r.queryRows, lists: r.neighbours, k: r.kmax };
  }

  let pcaCoords: Float64Array | null = null, umapCoords: Float64Array | null = null;
  const projections: EvalReport["projections"] = { pca: null, umap: null };
  if (opts.projections ?? true) {
    const Z = StandardScaler.fit(table.X, d).transform(table.X);
    if (d >= 2) {
      const p = pca(Z, d, 2);
      pcaCoords = p.coords; projections.pca = { explainedVarianceRatio: p.explainedVarianceRatio };
    }
    if (table.n >= 4) {
      const u = umap2d(Z, d, { seed, maxFit: opts.umapMaxFit });
      umapCoords = u.coords; projections.umap = { fitRows: u.fitRows, seconds: u.seconds };
    }
  }

  const batch = opts.batch ? await evaluateBatches(table, { batch: opts.batch, control: opts.control, corrections: opts.corrections, labels: labelCol, seed, trees, threads: opts.threads, onLog: opts.onLog }) : null;

  const outDir = resolve(opts.outDir ?? defaultOutDir(input));
  const classCounts = Object.fromEntries(classes.map((c) => [c, y.filter((v) => v === c).length]));
  const report: EvalReport = {
    version: 1,
    input: resolve(input),
    outDir,
    created: new Date().toISOString(),
    labels: labelCol,
    groups: opts.groups ?? null,
    imageRoot: resolve(opts.imageRoot ?? (statSync(resolve(input)).isDirectory() ? resolve(input) : dirname(resolve(input)))),
    rows: { total: table.n, labelled: y.length, features: d },
    featureNames: table.featureNames,
    classes,
    classCounts,
    protocol: { folds: foldCount(testFold), foldSource, shuffle: foldSource !== "given", seed, scaler: "standard", trees, maxFeatures: "sqrt", knnK: 5, knnMetric: "cosine" },
    models: Object.fromEntries(cv.models.map((m) => [m.model, { summary: m.summary, perClass: m.perClass, confusion: m.confusion, folds: m.folds.map(({ confusion: _c, ...rest }) => rest), seconds: m.seconds }])),
    retrieval,
    projections,
    seconds: 0,
    files: [],
    batch: batch?.report ?? null,
  };
  const result: EvaluateResult = {
    report, table, labelledRows: rows, testFold,
    predictions: Object.fromEntries(cv.models.map((m) => [m.model, m.predictions])),
    neighbours, projection: { pca: pcaCoords, umap: umapCoords }, batch,
  };
  report.seconds = (performance.now() - t0) / 1000;
  if (opts.write ?? true) writeEvaluation(result);
  return result;
}

const r6 = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 1e6) / 1e6);

/** eval.json and the CSV files, each written atomically. */
export function writeEvaluation(res: EvaluateResult): void {
  const { report, table, labelledRows: rows } = res;
  const dir = report.outDir;
  mkdirSync(dir, { recursive: true });
  const files: [string, string | Uint8Array][] = [];
  const modelNames = Object.keys(report.models);

  files.push(["eval_folds.csv", formatCsv(
    ["model", "fold", "n", "accuracy", "balanced_accuracy", "macro_precision", "macro_recall", "macro_f1", "roc_auc"],
    modelNames.flatMap((m) => report.models[m].folds.map((f, i) => [m, i, f.n, f.accuracy, f.balancedAccuracy, f.macroPrecision, f.macroRecall, f.macroF1, f.rocAuc])),
  )]);
  files.push(["eval_summary.csv", formatCsv(
    ["model", ...SUMMARY_KEYS.flatMap((k) => [`${k}_mean`, `${k}_sd`])],
    modelNames.map((m) => [m, ...SUMMARY_KEYS.flatMap((k) => [r6(report.models[m].summary[k]?.mean), r6(report.models[m].summary[k]?.sd)])]),
  )]);
  files.push(["eval_per_class.csv", formatCsv(
    ["model", "fold", "class", "precision", "recall", "f1", "support"],
    modelNames.flatMap((m) => report.models[m].folds.flatMap((f, i) => f.perClass.map((c) => [m, i, c.label, c.precision, c.recall, c.f1, c.support]))),
  )]);
  files.push(["eval_confusion.csv", formatCsv(
    ["model", "true", ...report.classes],
    modelNames.flatMap((m) => report.models[m].confusion.map((r, t) => [m, report.classes[t], ...r])),
  )]);
  const predCols = modelNames.map((m) => `pred_${m}`);
  files.push(["eval_predictions.csv", formatCsv(
    ["id", "label", "fold", ...predCols],
    Array.from(rows, (i, j) => [table.ids[i], table.columns[report.labels][i], res.testFold[j], ...modelNames.map((m) => res.predictions[m as ModelName]![j])]),
  )]);
  if (res.neighbours) {
    const { queries, lists, k } = res.neighbours;
    files.push(["eval_neighbours.csv", formatCsv(
      ["id", ...Array.from({ length: k }, (_, j) => `nn${j + 1}`)],
      Array.from(queries, (q, r) => [table.ids[rows[q]], ...Array.from(lists.subarray(r * k, (r + 1) * k), (b) => table.ids[rows[b]])]),
    )]);
  }
  if (res.projection.pca || res.projection.umap) {
    const u = res.projection.umap, p = res.projection.pca;
    files.push(["eval_projection.csv", formatCsv(
      ["id", "path", "label", "umap_x", "umap_y", "pca_x", "pca_y"],
      Array.from({ length: table.n }, (_, i) => [table.ids[i], table.paths[i], table.columns[report.labels][i], u ? r6(u[2 * i]) : null, u ? r6(u[2 * i + 1]) : null, p ? r6(p[2 * i]) : null, p ? r6(p[2 * i + 1]) : null]),
    )]);
  }
  if (res.batch) files.push(...batchFiles(res.batch));
  report.files = ["eval.json", ...files.map(([name]) => name)];
  for (const [name, text] of files) writeFileAtomic(join(dir, name), text);
  writeFileAtomic(join(dir, "eval.json"), JSON.stringify(report, null, 1) + "\n");
}
