// The report.html section for batch effects: the metrics of the embedding as it is and after each correction.
import type { BatchReport } from "./batch-report.ts";
import { esc } from "./report/svg.ts";

const f3 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? "–" : v.toFixed(3));
const TITLES: Record<string, string> = { none: "none (as embedded)", center_scale: "per-batch centre-scale", pca_center_scale: "PCA + centre-scale on controls" };

export function batchSectionHtml(b: BatchReport): string {
  const head = ["correction", "dims", "batch predictability ↓ (RF bal. acc.)", "silhouette by batch (→ 0)", "silhouette by label ↑", "replicate consistency ↑", "label bal. acc. (RF) ↑"];
  const rows = b.variants.map((v) => {
    const m = v.metrics;
    return [TITLES[v.name] ?? v.name, String(v.dims), `${f3(m.batchPredictability.balancedAccuracy.mean)} ± ${f3(m.batchPredictability.balancedAccuracy.sd)}`, f3(m.silhouetteBatch), f3(m.silhouetteLabel), f3(m.replicateConsistency?.value), m.labelBalancedAccuracy ? `${f3(m.labelBalancedAccuracy.mean)} ± ${f3(m.labelBalancedAccuracy.sd)}` : "–"];
  });
  const m0 = b.variants[0].metrics;
  const note = `batches (${esc(b.column)}): ${esc(Object.entries(b.batches).map(([k, n]) => `${k} ${n}`).join(", "))}; chance: batch predictability ${f3(m0.batchPredictability.chance)}, replicate consistency ${f3(m0.replicateConsistency?.chance)}` +
    (b.control ? `; controls ${esc(b.control.column)}=${esc(b.control.value)} (${b.control.rows} rows)` : "") +
    "; 5-fold random forests; distances on standardised features (silhouette Euclidean, neighbours cosine).";
  return `<section><h2>Batch effects</h2><table class="scores"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</tbody></table><p class="note">${note}</p></section>`;
}
