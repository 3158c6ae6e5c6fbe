// Several evaluated runs side by side: their key numbers in one table (text for the terminal, CSV, or
// markdown), read from each folder's eval.json and run.json.
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { readEvalReport } from "./report.ts";

export interface RunComparison { columns: string[]; rows: (string | number | null)[][] }

const COLUMNS = [
  "run", "model", "epochs", "best_val_loss", "labels", "n", "classes",
  "rf_macro_f1", "rf_macro_f1_sd", "rf_balanced_accuracy", "rf_accuracy", "rf_roc_auc",
  "probe_macro_f1", "knn_macro_f1", "p_at_1", "p_at_5", "p_at_10",
];

export function compareRuns(dirs: readonly string[]): RunComparison {
  const rows = dirs.map((d) => {
    const dir = resolve(d);
    const ev = readEvalReport(dir);
    // embeddings of other data live in <run>/embed_<data>/, the run's files one folder up
    const root = !existsSync(join(dir, "config.yaml")) && existsSync(join(dir, "..", "config.yaml")) ? join(dir, "..") : dir;
    const runFile = join(root, "run.json");
    const run = existsSync(runFile) ? (JSON.parse(readFileSync(runFile, "utf8")) as Record<string, unknown>) : {};
    const s = (m: string, k: "macroF1" | "balancedAccuracy" | "accuracy" | "rocAuc") => ev.models[m]?.summary[k]?.mean ?? null;
    const p = (k: number) => { const i = ev.retrieval?.k.indexOf(k) ?? -1; return i >= 0 ? ev.retrieval!.precision[i] : null; };
    return [
      String(run.name ?? basename(dir)), (run.model as string) ?? null, (run.epochs_done as number) ?? (run.epochs as number) ?? null,
      (run.best_val_loss as number) ?? null, ev.labels, ev.rows.labelled, ev.classes.length,
      s("random_forest", "macroF1"), ev.models.random_forest?.summary.macroF1?.sd ?? null, s("random_forest", "balancedAccuracy"),
      s("random_forest", "accuracy"), s("random_forest", "rocAuc"), s("logistic_regression", "macroF1"), s("knn", "macroF1"), p(1), p(5), p(10),
    ];
  });
  return { columns: [...COLUMNS], rows };
}

function cell(v: string | number | null): string {
  if (v === null || v === undefined) return "-";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(4);
  return v;
}

/** Aligned plain text (terminal), markdown, or CSV. */
export function formatComparison(c: RunComparison, format: "text" | "markdown" | "csv" = "text"): string {
  const body = c.rows.map((r) => r.map(cell));
  if (format === "csv") return [c.columns, ...body].map((r) => r.map((v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(",")).join("\n") + "\n";
  if (format === "markdown") return [`| ${c.columns.join(" | ")} |`, `|${c.columns.map(() => "---").join("|")}|`, ...body.map((r) => `| ${r.join(" | ")} |`)].join("\n") + "\n";
  const widths = c.columns.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  const line = (r: string[]) => r.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join("  ");
  return [line(c.columns), ...body.map(line)].join("\n") + "\n";
}
