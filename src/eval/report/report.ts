// report.html: one self-contained page per evaluated run — scores, confusion matrix, UMAP/PCA, training
// curves, reconstructions, a nearest-neighbour gallery and the config. No scripts, no network: plots are
// inline SVG and images are data URLs, so the file can be mailed or archived as is.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { BadInputError } from "../../errors.ts";
import { parseCsv, writeFileAtomic } from "../csv.ts";
import type { EvalReport } from "../evaluate.ts";
import type { MeanSd } from "../metrics.ts";
import { esc, heatmapSvg, lineSvg, scatterSvg, type Series } from "./svg.ts";
import { pngDataUrl, thumbnailDataUrl } from "./thumbs.ts";
import { batchSectionHtml } from "../batch-html.ts";

export interface ReportOptions {
  out?: string; // default <runDir>/report.html
  galleryQueries?: number; // default 6
  galleryNeighbours?: number; // default 5
  thumbSize?: number; // default 64
}

export function readEvalReport(dir: string): EvalReport {
  const file = join(dir, "eval.json");
  if (!existsSync(file)) throw new BadInputError(dir, "no eval.json here: run `bie evaluate` on it first");
  try {
    return JSON.parse(readFileSync(file, "utf8")) as EvalReport;
  } catch (e) {
    throw new BadInputError(file, `not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

export interface MetricRow { epoch?: number; step?: number; split?: string; loss?: number; recon?: number; kl?: number; vq?: number; lr?: number; time_s?: number }

/** metrics.jsonl rows; unreadable lines (e.g. the last one of a run still writing) are counted, not fatal. */
export function readMetrics(file: string): { rows: MetricRow[]; skipped: number } {
  if (!existsSync(file)) return { rows: [], skipped: 0 };
  const rows: MetricRow[] = [];
  let skipped = 0;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line);
      if (o && typeof o === "object") rows.push(o as MetricRow); else skipped++;
    } catch { skipped++; }
  }
  return { rows, skipped };
}

/** Per split and quantity, the mean per epoch (train logs many steps per epoch, val one line). */
function curves(rows: MetricRow[], key: keyof MetricRow): Series[] {
  const out: Series[] = [];
  for (const split of ["train", "val"]) {
    const by = new Map<number, number[]>();
    for (const r of rows) {
      const v = r[key];
      if (r.split !== split || typeof v !== "number" || typeof r.epoch !== "number") continue;
      if (!by.has(r.epoch)) by.set(r.epoch, []);
      by.get(r.epoch)!.push(v);
    }
    if (by.size) out.push({ name: `${split} ${key}`, dashed: split === "val", points: [...by].sort((a, b) => a[0] - b[0]).map(([e, v]) => [e, v.reduce((s, x) => s + x, 0) / v.length]) });
  }
  return out;
}

const fmt = (m: MeanSd | null | undefined, digits = 3) => (m ? `${m.mean.toFixed(digits)} ± ${m.sd.toFixed(digits)}` : "–");
const num = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits));

const MODEL_TITLES: Record<string, string> = { random_forest: "Random forest", logistic_regression: "Linear probe (logistic regression)", knn: "k-NN (k=5, cosine)" };

function table(head: string[], rows: (string | number)[][], cls = ""): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

function readCsvIf(file: string): { header: string[]; rows: string[][] } | null {
  return existsSync(file) ? parseCsv(readFileSync(file, "utf8"), file) : null;
}

export async function writeReport(runDir: string, opts: ReportOptions = {}): Promise<string> {
  const dir = resolve(runDir);
  const ev = readEvalReport(dir);
  // Embeddings of other data live in <run>/embed_<data>/: the training files are then one folder up.
  const runRoot = !existsSync(join(dir, "config.yaml")) && existsSync(join(dir, "..", "config.yaml")) ? resolve(dir, "..") : dir;
  const run = existsSync(join(runRoot, "run.json")) ? (JSON.parse(readFileSync(join(runRoot, "run.json"), "utf8")) as Record<string, unknown>) : null;
  const title = String(run?.name ?? ev.input);
  const parts: string[] = [];

  // Header
  const facts: [string, unknown][] = [
    ["input", ev.input], ["labels", `${ev.labels} (${ev.classes.length} classes, ${ev.rows.labelled} of ${ev.rows.total} rows labelled)`],
    ["features", ev.rows.features], ["protocol", `${ev.protocol.folds}-fold ${ev.protocol.foldSource.replace("_", " ")}${ev.groups ? ` by ${ev.groups}` : ""}, seed ${ev.protocol.seed}, standard scaling`],
    ["evaluated", ev.created],
  ];
  if (run) for (const k of ["model", "task", "data", "epochs_done", "status", "best_val_loss", "wall_time_s"]) if (k in run) facts.push([k.replace(/_/g, " "), run[k]]);
  parts.push(`<section><table class="facts">${facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === "number" ? +v.toPrecision(6) : v)}</td></tr>`).join("")}</table></section>`);

  // Scores
  const models = Object.keys(ev.models);
  parts.push(`<section><h2>Cross-validated classification</h2>` + table(
    ["model", "accuracy", "balanced accuracy", "macro precision", "macro recall", "macro F1", "ROC-AUC"],
    models.map((m) => { const s = ev.models[m].summary; return [MODEL_TITLES[m] ?? m, fmt(s.accuracy), fmt(s.balancedAccuracy), fmt(s.macroPrecision), fmt(s.macroRecall), fmt(s.macroF1), fmt(s.rocAuc)]; }),
    "scores",
  ) + `<p class="note">mean ± sd over ${ev.protocol.folds} folds; class counts: ${esc(Object.entries(ev.classCounts).map(([c, n]) => `${c} ${n}`).join(", "))}</p>`);
  if (ev.retrieval) parts.push(`<p>Retrieval (${esc(ev.retrieval.metric)}, ${ev.retrieval.queries} queries): ${ev.retrieval.k.map((k, i) => `precision@${k} = <b>${num(ev.retrieval!.precision[i])}</b>`).join(", ")}</p>`);
  parts.push(`</section>`);

  if (ev.batch) parts.push(batchSectionHtml(ev.batch));

  const main = ev.models.random_forest ? "random_forest" : models[0];
  if (main) {
    const r = ev.models[main];
    parts.push(`<section><h2>${esc(MODEL_TITLES[main] ?? main)}: per class and per fold</h2><div class="row"><div>` + table(
      ["class", "precision", "recall", "F1", "support"],
      r.perClass.map((c) => [c.label, fmt(c.precision), fmt(c.recall), fmt(c.f1), c.support]),
    ) + table(
      ["fold", "n", "accuracy", "balanced acc.", "macro F1", "ROC-AUC"],
      r.folds.map((f, i) => [i, f.n, num(f.accuracy), num(f.balancedAccuracy), num(f.macroF1), num(f.rocAuc)]),
    ) + `</div><div>${heatmapSvg(r.confusion, ev.classes, { title: "Confusion matrix (all folds)" })}</div></div></section>`);
  }

  // Projections
  const proj = readCsvIf(join(dir, "eval_projection.csv"));
  if (proj) {
    const col = (name: string) => proj.header.indexOf(name);
    const labels = proj.rows.map((r) => (r[col("label")] === "" ? null : r[col("label")]));
    const coords = (a: string, b: string) => { const out = new Float64Array(proj.rows.length * 2); proj.rows.forEach((r, i) => { out[2 * i] = r[col(a)] === "" ? NaN : +r[col(a)]; out[2 * i + 1] = r[col(b)] === "" ? NaN : +r[col(b)]; }); return out; };
    const plots: string[] = [];
    if (ev.projections.umap) plots.push(scatterSvg(coords("umap_x", "umap_y"), labels, ev.classes, { title: `UMAP (${ev.projections.umap.fitRows} rows fitted)`, xLabel: "UMAP 1", yLabel: "UMAP 2" }));
    if (ev.projections.pca) {
      const evr = ev.projections.pca.explainedVarianceRatio.map((v) => (100 * v).toFixed(1));
      plots.push(scatterSvg(coords("pca_x", "pca_y"), labels, ev.classes, { title: "PCA", xLabel: `PC1 (${evr[0]}%)`, yLabel: `PC2 (${evr[1] ?? "–"}%)` }));
    }
    if (plots.length) parts.push(`<section><h2>Embedding projections, coloured by ${esc(ev.labels)}</h2><div class="row">${plots.join("")}</div></section>`);
  }

  // Training curves
  const metrics = readMetrics(join(runRoot, "metrics.jsonl"));
  if (metrics.rows.length) {
    const charts = [lineSvg(curves(metrics.rows, "loss"), { title: "Loss", xLabel: "epoch", yLabel: "loss", logY: metrics.rows.every((r) => !(typeof r.loss === "number") || r.loss > 0) })];
    const comp = (["recon", "kl", "vq"] as const).flatMap((k) => curves(metrics.rows, k));
    if (comp.length) charts.push(lineSvg(comp, { title: "Loss terms", xLabel: "epoch", yLabel: "value" }));
    const lr = curves(metrics.rows, "lr").filter((s) => s.name.startsWith("train"));
    if (lr.length) charts.push(lineSvg(lr, { title: "Learning rate", xLabel: "epoch", yLabel: "lr", height: 240 }));
    parts.push(`<section><h2>Training curves</h2><div class="row">${charts.join("")}</div>${metrics.skipped ? `<p class="note">${metrics.skipped} unreadable line(s) in metrics.jsonl skipped</p>` : ""}</section>`);
  }

  // Reconstructions
  const reconDir = join(runRoot, "recon");
  const recon = existsSync(reconDir) ? readdirSync(reconDir).filter((f) => /\.png$/i.test(f)).sort() : [];
  if (recon.length) {
    const shown = [...new Set([recon[0], recon[recon.length - 1]])];
    parts.push(`<section><h2>Reconstructions (input above, reconstruction below)</h2>${shown.map((f) => `<figure><img class="recon" alt="${esc(f)}" src="${pngDataUrl(readFileSync(join(reconDir, f)))}"><figcaption>${esc(f)}</figcaption></figure>`).join("")}</section>`);
  }

  // Nearest-neighbour gallery
  const nn = readCsvIf(join(dir, "eval_neighbours.csv"));
  if (nn && proj) parts.push(await gallery(ev, proj, nn, opts));

  // Config
  if (existsSync(join(runRoot, "config.yaml"))) parts.push(`<section><h2>Run config</h2><pre>${esc(readFileSync(join(runRoot, "config.yaml"), "utf8"))}</pre></section>`);

  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} — bioimage-embed report</title><style>${CSS}</style></head><body><h1>${esc(title)}</h1>${parts.join("\n")}<footer>bioimage-embed evaluation report · ${esc(ev.created)}</footer></body></html>\n`;
  const out = resolve(opts.out ?? join(dir, "report.html"));
  writeFileAtomic(out, html);
  return out;
}

async function gallery(ev: EvalReport, proj: { header: string[]; rows: string[][] }, nn: { header: string[]; rows: string[][] }, opts: ReportOptions): Promise<string> {
  const pathOf = new Map<string, string>(), labelOf = new Map<string, string>();
  const [ci, cp, cl] = ["id", "path", "label"].map((c) => proj.header.indexOf(c));
  for (const r of proj.rows) { if (r[cp]) pathOf.set(r[ci], r[cp]); labelOf.set(r[ci], r[cl]); }
  if (pathOf.size === 0) return `<section><h2>Nearest neighbours</h2><p class="note">no image paths in the input, so no thumbnails</p></section>`;
  // Queries: the first item of each class (in row order), then more in class rotation, up to galleryQueries.
  const want = opts.galleryQueries ?? 6, kShow = Math.min(opts.galleryNeighbours ?? 5, nn.header.length - 1);
  const byClass = new Map<string, string[][]>();
  for (const r of nn.rows) { const l = labelOf.get(r[0]) ?? ""; if (!byClass.has(l)) byClass.set(l, []); byClass.get(l)!.push(r); }
  const queries: string[][] = [];
  for (let round = 0; queries.length < want && round < 50; round++)
    for (const c of ev.classes) { const list = byClass.get(c); if (list && list[round] && queries.length < want) queries.push(list[round]); }
  const root = ev.imageRoot ?? ev.outDir;
  const thumb = async (id: string) => {
    const p = pathOf.get(id);
    return p ? thumbnailDataUrl(isAbsolute(p) ? p : join(root, p), opts.thumbSize ?? 64) : null;
  };
  const cellHtml = async (id: string, cls: string, queryLabel?: string) => {
    const url = await thumb(id), label = labelOf.get(id) ?? "";
    const match = queryLabel === undefined ? "" : label === queryLabel ? " same" : " other";
    return `<div class="cell ${cls}${match}">${url ? `<img alt="${esc(id)}" src="${url}">` : `<div class="noimg">no image</div>`}<span>${esc(label || "(no label)")}</span><small>${esc(id.length > 28 ? "…" + id.slice(-27) : id)}</small></div>`;
  };
  const rows: string[] = [];
  for (const q of queries) {
    const ql = labelOf.get(q[0]) ?? "";
    const cells = [await cellHtml(q[0], "query")];
    for (let j = 1; j <= kShow; j++) cells.push(await cellHtml(q[j], "nb", ql));
    rows.push(`<div class="nnrow">${cells.join("")}</div>`);
  }
  return `<section><h2>Nearest neighbours (cosine, standardised features)</h2><p class="note">query on the left; a green frame means the neighbour has the query's label</p>${rows.join("")}</section>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}h1{font-size:22px}h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:6px 12px 6px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
table.facts th{text-align:left;width:140px}table.facts td{text-align:left}.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.note{color:#666;font-size:12px}
pre{background:#f7f7f7;padding:10px;overflow:auto;max-height:420px;font-size:12px}figure{display:inline-block;margin:4px 12px 4px 0}img.recon{max-width:100%;min-width:256px;image-rendering:pixelated;border:1px solid #ccc}
.nnrow{display:flex;gap:6px;margin:6px 0}.cell{display:flex;flex-direction:column;align-items:center;width:84px;font-size:11px;padding:3px;border:2px solid transparent}
.cell img{width:64px;height:64px;object-fit:contain;image-rendering:pixelated;background:#000}.cell.query{border-color:#333;margin-right:10px}.cell.same{border-color:#2ca02c}.cell.other{border-color:#d62728}
.cell small{color:#777;word-break:break-all;text-align:center}.noimg{width:64px;height:64px;background:#eee;color:#999;display:flex;align-items:center;justify-content:center}footer{margin-top:30px;color:#999;font-size:11px}`;
