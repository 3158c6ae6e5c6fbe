// The batch section of `bie evaluate ... batch=<column>`: batch metrics of the embedding as it is and after each
// correction, the eval_batch.csv table, and the corrected embeddings (eval_corrected_<name>.npy, table row order).
import { ConfigError } from "../errors.ts";
import { encodeNpy } from "../io/npy.ts";
import { formatCsv } from "./csv.ts";
import { batchMetrics, type BatchMetrics } from "./batch.ts";
import { CORRECTIONS, correctBatches, type Correction } from "./correct.ts";
import type { EmbeddingTable } from "./table.ts";

export interface BatchReport {
  column: string;
  control: { column: string; value: string; rows: number } | null;
  batches: Record<string, number>;
  /** "none" (the embedding as it is) first, then each correction. */
  variants: { name: "none" | Correction; dims: number; metrics: BatchMetrics }[];
}

export interface BatchResult {
  report: BatchReport;
  corrected: { name: Correction; X: Float64Array; d: number }[];
}

export interface BatchOptions {
  batch: string;
  /** "<column>=<value>": the control items pca_center_scale is fitted on. */
  control?: string;
  /** Default: center_scale, and pca_center_scale when control is given. */
  corrections?: readonly Correction[];
  labels: string;
  seed?: number;
  trees?: number;
  threads?: number;
  onLog?: (line: string) => void;
}

/** "label=G1" → column and value. */
export function parseControl(spec: string): { column: string; value: string } {
  const eq = spec.indexOf("=");
  if (eq < 1) throw new ConfigError("control", `expected <column>=<value> (e.g. control=treatment=DMSO), got '${spec}'`);
  return { column: spec.slice(0, eq), value: spec.slice(eq + 1) };
}

export async function evaluateBatches(table: EmbeddingTable, o: BatchOptions): Promise<BatchResult> {
  const col = (name: string, key: string) => {
    const c = table.columns[name];
    if (!c) throw new ConfigError(key, `no column '${name}' in ${table.source}; columns: ${Object.keys(table.columns).join(", ") || "(none)"}`);
    return c;
  };
  const batchCol = col(o.batch, "batch");
  const batch = batchCol.map((b, i) => {
    if (b === null || b.trim() === "") throw new ConfigError("batch", `row ${i} (${table.ids[i]}) has no value in column '${o.batch}'`);
    return b;
  });
  const batches: Record<string, number> = {};
  for (const b of batch) batches[b] = (batches[b] ?? 0) + 1;
  if (Object.keys(batches).length < 2) throw new ConfigError("batch", `column '${o.batch}' has a single value; batch metrics need 2 or more batches`);
  const labelCol = table.columns[o.labels] ?? null;
  const labels = table.ids.map((_, i) => labelCol?.[i] ?? null);
  let isControl: boolean[] | null = null, control: BatchReport["control"] = null;
  if (o.control) {
    const c = parseControl(o.control);
    const values = col(c.column, "control");
    isControl = values.map((v) => v === c.value);
    const rows = isControl.filter(Boolean).length;
    if (rows === 0) throw new ConfigError("control", `no row has ${c.column}=${c.value}`);
    control = { ...c, rows };
  }
  const corrections = o.corrections ?? (isControl ? CORRECTIONS : CORRECTIONS.filter((c) => c !== "pca_center_scale"));
  const opts = { seed: o.seed, trees: o.trees, threads: o.threads };
  const variants: BatchReport["variants"] = [];
  const corrected: BatchResult["corrected"] = [];
  const say = o.onLog ?? (() => {});
  variants.push({ name: "none", dims: table.d, metrics: await batchMetrics(table.X, table.d, batch, labels, opts) });
  say(describe(variants[0]));
  for (const name of corrections) {
    const c = correctBatches(name, table.X, table.d, batch, isControl);
    corrected.push({ name, ...c });
    variants.push({ name, dims: c.d, metrics: await batchMetrics(c.X, c.d, batch, labels, opts) });
    say(describe(variants[variants.length - 1]));
  }
  return { report: { column: o.batch, control, batches, variants }, corrected };
}

const f3 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? "–" : v.toFixed(3));

/** One line per variant for the console. */
export function describe(v: BatchReport["variants"][number]): string {
  const m = v.metrics;
  return `  batch ${v.name.padEnd(17)} batch predictability ${f3(m.batchPredictability.balancedAccuracy.mean)} (chance ${f3(m.batchPredictability.chance)})   silhouette batch ${f3(m.silhouetteBatch)} label ${f3(m.silhouetteLabel)}   replicate consistency ${f3(m.replicateConsistency?.value)} (chance ${f3(m.replicateConsistency?.chance)})   label bal. acc. ${f3(m.labelBalancedAccuracy?.mean)}`;
}

/** eval_batch.csv and the corrected embeddings, as [file name, contents]. */
export function batchFiles(r: BatchResult): [string, string | Uint8Array][] {
  const rows = r.report.variants.map((v) => {
    const m = v.metrics;
    return [v.name, v.dims, m.batchPredictability.balancedAccuracy.mean, m.batchPredictability.balancedAccuracy.sd, m.batchPredictability.chance, m.silhouetteBatch, m.silhouetteLabel, m.replicateConsistency?.value, m.replicateConsistency?.chance, m.labelBalancedAccuracy?.mean, m.labelBalancedAccuracy?.sd];
  });
  const files: [string, string | Uint8Array][] = [["eval_batch.csv", formatCsv(
    ["correction", "dims", "batch_balanced_accuracy_mean", "batch_balanced_accuracy_sd", "batch_chance", "silhouette_batch", "silhouette_label", "replicate_consistency", "replicate_chance", "label_balanced_accuracy_mean", "label_balanced_accuracy_sd"],
    rows.map((row) => row.map((x) => (typeof x === "number" ? Math.round(x * 1e6) / 1e6 : x))),
  )]];
  for (const c of r.corrected) files.push([`eval_corrected_${c.name}.npy`, Buffer.concat(encodeNpy(Float32Array.from(c.X), [c.X.length / c.d, c.d]))]);
  return files;
}
