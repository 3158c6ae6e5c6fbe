// Public API of the evaluation layer.
export { evaluate, loadInput, defaultOutDir, writeEvaluation, type EvaluateOptions, type EvaluateResult, type EvalReport } from "./evaluate.ts";
export { evaluateCommand, runEvaluateCommand, parseEvaluateArgs } from "./command.ts";
export { writeReport, readEvalReport, readMetrics, type ReportOptions } from "./report/report.ts";
export { compareRuns, formatComparison, type RunComparison } from "./report/compare.ts";
export { readEmbeddings, readFeatureCsv, joinColumns, readNpy, type EmbeddingTable } from "./table.ts";
export { crossValidate, MODELS, type ModelName, type ModelResult, type CrossValidationResult } from "./crossval.ts";
export { stratifiedKFold, stratifiedGroupKFold, splitIndices } from "./folds.ts";
export { RandomForestClassifier, type ForestOptions } from "./forest/forest.ts";
export { closeForestPool } from "./forest/pool.ts";
export { StandardScaler } from "./scaler.ts";
export { LogisticRegression } from "./logistic.ts";
export { KnnClassifier, retrievalPrecision } from "./knn.ts";
export { pca, umap2d } from "./project.ts";
export * from "./metrics.ts";
