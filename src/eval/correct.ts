// Batch correction after embedding (issue 13). Two options:
//   center_scale      each batch's features centred and scaled by that batch's own mean and sd;
//   pca_center_scale  PCA fitted on the control items of all batches (whitened), then each batch centred and
//                     scaled by its own controls — the "PCA + CenterScale" (typical variation normalisation)
//                     used with Recursion's public phenomics model. Needs controls in every batch.
// Both only move and rescale each batch, so they remove batch shifts in mean and spread, not in shape.
import { ConfigError } from "../errors.ts";
import { pca } from "./project.ts";
import { takeRows } from "./scaler.ts";
import type { Matrix } from "./forest/forest.ts";

export const CORRECTIONS = ["center_scale", "pca_center_scale"] as const;
export type Correction = (typeof CORRECTIONS)[number];

/** Columns scaled to zero mean and unit sd (population) using `statRows`, applied to `applyRows` in place. */
function centreScaleRows(out: Float64Array, d: number, statRows: readonly number[], applyRows: readonly number[]): void {
  const mean = new Float64Array(d), m2 = new Float64Array(d);
  for (const i of statRows) for (let f = 0; f < d; f++) mean[f] += out[i * d + f];
  for (let f = 0; f < d; f++) mean[f] /= statRows.length;
  for (const i of statRows) for (let f = 0; f < d; f++) { const v = out[i * d + f] - mean[f]; m2[f] += v * v; }
  const inv = Array.from(m2, (v) => { const sd = Math.sqrt(v / statRows.length); return sd > 1e-12 ? 1 / sd : 1; });
  for (const i of applyRows) for (let f = 0; f < d; f++) out[i * d + f] = (out[i * d + f] - mean[f]) * inv[f];
}

function rowsByBatch(batch: readonly string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  batch.forEach((b, i) => { const l = m.get(b); if (l) l.push(i); else m.set(b, [i]); });
  return m;
}

/** Per-batch centring and scaling with each batch's own statistics. */
export function centerScaleByBatch(X: Matrix, d: number, batch: readonly string[]): Float64Array {
  const out = Float64Array.from(X);
  for (const rows of rowsByBatch(batch).values()) centreScaleRows(out, d, rows, rows);
  return out;
}

/**
 * PCA (whitened) fitted on the control rows, then per-batch centre-scale against that batch's controls.
 * components: kept principal components (default: all with non-zero variance among the controls).
 */
export function pcaCenterScale(X: Matrix, d: number, batch: readonly string[], isControl: readonly boolean[], opts: { components?: number } = {}): { X: Float64Array; d: number } {
  const controls = isControl.flatMap((c, i) => (c ? [i] : []));
  const byBatch = rowsByBatch(batch);
  for (const [b, rows] of byBatch) {
    const n = rows.filter((i) => isControl[i]).length;
    if (n < 2) throw new ConfigError("control", `batch '${b}' has ${n} control item(s); pca_center_scale needs at least 2 per batch`);
  }
  const C = takeRows(X, d, controls);
  const p = pca(C, d, Math.min(opts.components ?? d, d, controls.length - 1));
  // Whitening: divide each component by its standard deviation among the controls.
  const m = p.components.length / d;
  const sd = new Float64Array(m);
  for (let i = 0; i < controls.length; i++) for (let c = 0; c < m; c++) sd[c] += p.coords[i * m + c] ** 2;
  let keep = 0;
  for (let c = 0; c < m; c++) { sd[c] = Math.sqrt(sd[c] / Math.max(1, controls.length - 1)); if (sd[c] > 1e-9) keep = c + 1; }
  const n = X.length / d;
  const out = new Float64Array(n * keep);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < keep; c++) {
      let s = 0;
      for (let f = 0; f < d; f++) s += (X[i * d + f] - p.mean[f]) * p.components[c * d + f];
      out[i * keep + c] = s / sd[c];
    }
  for (const rows of byBatch.values()) centreScaleRows(out, keep, rows.filter((i) => isControl[i]), rows);
  return { X: out, d: keep };
}

/** Apply a named correction; `isControl` is needed by pca_center_scale. */
export function correctBatches(name: Correction, X: Matrix, d: number, batch: readonly string[], isControl: readonly boolean[] | null): { X: Float64Array; d: number } {
  if (name === "center_scale") return { X: centerScaleByBatch(X, d, batch), d };
  if (!isControl) throw new ConfigError("control", "pca_center_scale needs control items: control=<column>=<value>");
  return pcaCenterScale(X, d, batch, isControl);
}
