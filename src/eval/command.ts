// `bie evaluate <inputs...> key=value...`: evaluate each input, write its report, and with several inputs
// print their key numbers side by side. Keys: labels, groups, folds, seed, trees, features, exclude,
// labels_file, join, id_column, path_column, image_root, out, threads, models, umap, report, retrieval_k,
// batch, control, corrections (batch effects: batch-report.ts).
import { ConfigError } from "../errors.ts";
import { evaluate, type EvaluateOptions } from "./evaluate.ts";
import { closeForestPool } from "./forest/pool.ts";
import { MODELS, type ModelName } from "./crossval.ts";
import { writeReport } from "./report/report.ts";
import { compareRuns, formatComparison } from "./report/compare.ts";
import { CORRECTIONS, type Correction } from "./correct.ts";

const KEYS = ["labels", "groups", "folds", "seed", "trees", "features", "exclude", "labels_file", "join", "id_column", "path_column", "image_root", "out", "threads", "models", "umap", "report", "retrieval_k", "batch", "control", "corrections"] as const;
type Key = (typeof KEYS)[number];

function int(key: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(key, `need an integer ≥ ${min}, got '${v}'`);
  return n;
}

function bool(key: string, v: string): boolean {
  if (/^(true|yes|1|on)$/i.test(v)) return true;
  if (/^(false|no|0|off)$/i.test(v)) return false;
  throw new ConfigError(key, `need true or false, got '${v}'`);
}

/** key=value strings → evaluate options, plus whether to write the HTML report (default yes). */
export function parseEvaluateArgs(overrides: readonly string[]): { options: EvaluateOptions; report: boolean } {
  const o: EvaluateOptions = {};
  let report = true;
  const list = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);
  for (const arg of overrides) {
    const eq = arg.indexOf("=");
    if (eq < 1) throw new ConfigError(arg, "expected key=value");
    const key = arg.slice(0, eq).replace(/-/g, "_") as Key, v = arg.slice(eq + 1);
    if (!KEYS.includes(key)) throw new ConfigError(key, `unknown evaluate setting (known: ${KEYS.join(", ")})`);
    switch (key) {
      case "labels": o.labels = v; break;
      case "groups": o.groups = v; break;
      case "folds": o.folds = int(key, v, 2); break;
      case "seed": o.seed = int(key, v, 0); break;
      case "trees": o.trees = int(key, v, 1); break;
      case "threads": o.threads = int(key, v, 1); break;
      case "features": o.features = list(v); break;
      case "exclude": o.exclude = list(v); break;
      case "labels_file": o.labelsFile = v; break;
      case "join": o.joinOn = v; break;
      case "id_column": o.idColumn = v; break;
      case "path_column": o.pathColumn = v; break;
      case "image_root": o.imageRoot = v; break;
      case "out": o.outDir = v; break;
      case "umap": o.projections = bool(key, v); break;
      case "report": report = bool(key, v); break;
      case "retrieval_k": o.retrievalK = list(v).map((s) => int(key, s, 1)); break;
      case "batch": o.batch = v; break;
      case "control": o.control = v; break;
      case "corrections": {
        const cs = list(v).filter((c) => c !== "none");
        for (const c of cs) if (!CORRECTIONS.includes(c as Correction)) throw new ConfigError(key, `unknown correction '${c}' (known: ${CORRECTIONS.join(", ")}, none)`);
        o.corrections = cs as Correction[];
        break;
      }
      case "models": {
        const ms = list(v);
        for (const m of ms) if (!MODELS.includes(m as ModelName)) throw new ConfigError(key, `unknown model '${m}' (known: ${MODELS.join(", ")})`);
        o.models = ms as ModelName[];
        break;
      }
    }
  }
  return { options: o, report };
}

export interface EvaluateCommandResult { outDirs: string[]; reports: string[]; comparison: string | null }

export async function evaluateCommand(inputs: string[], overrides: string[], say: (s: string) => void = (s) => void process.stdout.write(s + "\n")): Promise<EvaluateCommandResult> {
  if (inputs.length === 0) throw new ConfigError("inputs", "give a run folder, embeddings.parquet/.npy or a features CSV");
  const { options, report } = parseEvaluateArgs(overrides);
  if (inputs.length > 1 && options.outDir) throw new ConfigError("out", "cannot be used with several inputs (each writes into its own folder)");
  const outDirs: string[] = [], reports: string[] = [];
  try {
    for (const input of inputs) {
      const res = await evaluate(input, { ...options, onLog: options.onLog ?? say });
      const r = res.report;
      outDirs.push(r.outDir);
      say(`${input}: ${r.rows.labelled} labelled rows, ${r.classes.length} classes, ${r.rows.features} features, ${r.protocol.folds}-fold`);
      for (const [m, v] of Object.entries(r.models))
        say(`  ${m.padEnd(20)} macro F1 ${v.summary.macroF1!.mean.toFixed(3)} ± ${v.summary.macroF1!.sd.toFixed(3)}   balanced acc. ${v.summary.balancedAccuracy!.mean.toFixed(3)}   accuracy ${v.summary.accuracy!.mean.toFixed(3)}`);
      if (r.retrieval) say(`  retrieval            ${r.retrieval.k.map((k, i) => `p@${k} ${r.retrieval!.precision[i].toFixed(3)}`).join("  ")}`);
      if (report) { const html = await writeReport(r.outDir); reports.push(html); say(`  report: ${html}`); }
      else say(`  written: ${r.outDir}/eval.json`);
    }
  } finally {
    await closeForestPool();
  }
  let comparison: string | null = null;
  if (outDirs.length > 1) { comparison = formatComparison(compareRuns(outDirs)); say(comparison); }
  return { outDirs, reports, comparison };
}

/** The same with the raw argument list: inputs, then key=value settings. */
export async function runEvaluateCommand(args: string[]): Promise<EvaluateCommandResult> {
  const overrides = args.filter((a) => /^[A-Za-z_][\w-]*=/.test(a));
  return evaluateCommand(args.filter((a) => !overrides.includes(a)), overrides);
}
