// `bie shapes evaluate [RUN] data=<mask dataset> labels=a,b`: the random-forest table of issue 5 — classical
// shape features (regionprops, EFD, both), the learned shape embedding of a run, and embedding + classical —
// on the same folds (StandardScaler + RF 100 trees seed 42, stratified 5-fold shuffled seed 42).
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { classicalFeatureTable } from "../shapes/index.ts";
import { readEmbeddings, crossValidate, stratifiedKFold, closeForestPool } from "../eval/index.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { ConfigError } from "../errors.ts";
import { takeOptions } from "../config/verb-options.ts";
import { nearest } from "../nearest.ts";

export interface ShapesEvalRow {
  features: string;
  labels: string;
  n: number;
  d: number;
  macroF1: { mean: number; sd: number };
  balancedAccuracy: { mean: number; sd: number };
  accuracy: { mean: number; sd: number };
}

export async function shapesEvaluate(opts: { dataDir: string; run?: string; labels: string[]; folds?: number; seed?: number; onLog?: (s: string) => void }): Promise<ShapesEvalRow[]> {
  const log = opts.onLog ?? (() => {});
  log(`computing classical features of ${opts.dataDir} …`);
  const table = await classicalFeatureTable(opts.dataDir);
  const col = (name: string) => table.columns.indexOf(name);
  const ids = table.rows.map((r) => String(r[0]));
  const sets: Record<string, { n: number; d: number; get(i: number): number[] | null }> = {};
  const numeric = (names: string[]) => (i: number) => names.map((c) => Number(table.rows[i][col(c)]));
  sets.regionprops = { n: ids.length, d: table.groups.regionprops.length, get: numeric(table.groups.regionprops) };
  sets.efd = { n: ids.length, d: table.groups.efd.length, get: numeric(table.groups.efd) };
  const both = [...table.groups.regionprops, ...table.groups.efd];
  sets["regionprops+efd"] = { n: ids.length, d: both.length, get: numeric(both) };
  if (opts.run) {
    const emb = await readEmbeddings(opts.run);
    // Join by mask file name: embeddings hold absolute paths, the label table relative ones.
    const byName = new Map<string, number>();
    emb.paths.forEach((p, r) => p && byName.set(basename(p), r));
    const rowOf = ids.map((id) => byName.get(basename(id)));
    const covered = rowOf.filter((r) => r !== undefined).length;
    if (covered === 0) throw new ConfigError("run", `${opts.run}: no embedding row matches a mask of ${opts.dataDir}`);
    const z = (i: number) => (rowOf[i] === undefined ? null : Array.from(emb.X.subarray(rowOf[i]! * emb.d, (rowOf[i]! + 1) * emb.d)));
    sets.embedding = { n: covered, d: emb.d, get: z };
    sets["embedding+classical"] = { n: covered, d: emb.d + both.length, get: (i) => (z(i) ? [...z(i)!, ...numeric(both)(i)] : null) };
  }
  const rows: ShapesEvalRow[] = [];
  for (const labelCol of opts.labels) {
    const li = col(labelCol);
    if (li < 0) throw new ConfigError("labels", `no column '${labelCol}' in the label table (have ${table.groups.labels.join(", ")})`);
    for (const [name, set] of Object.entries(sets)) {
      const keep: number[] = [];
      const vecs: number[][] = [];
      for (let i = 0; i < ids.length; i++) {
        const label = String(table.rows[i][li] ?? "");
        const v = set.get(i);
        if (!label || !v) continue; // unlabelled masks (30 in BBBC010's label_bioimage_embed) stay out
        keep.push(i);
        vecs.push(v);
      }
      const X = new Float32Array(keep.length * set.d);
      vecs.forEach((v, r) => X.set(v, r * set.d));
      const y = keep.map((i) => String(table.rows[i][li]));
      const folds = stratifiedKFold(y, opts.folds ?? 5, { shuffle: true, seed: opts.seed ?? 42 });
      const cv = await crossValidate(X, set.d, y, folds, { models: ["random_forest"], trees: 100, seed: 42 });
      const s = cv.models[0].summary;
      const row: ShapesEvalRow = { features: name, labels: labelCol, n: keep.length, d: set.d, macroF1: s.macroF1!, balancedAccuracy: s.balancedAccuracy!, accuracy: s.accuracy! };
      rows.push(row);
      log(`${labelCol.padEnd(22)} ${name.padEnd(20)} macro F1 ${row.macroF1.mean.toFixed(3)} ± ${row.macroF1.sd.toFixed(3)}  bal. acc ${row.balancedAccuracy.mean.toFixed(3)}`);
    }
  }
  return rows;
}

export function shapesTableMarkdown(rows: ShapesEvalRow[]): string {
  const f = (m: { mean: number; sd: number }) => `${m.mean.toFixed(3)} ± ${m.sd.toFixed(3)}`;
  return [
    "| labels | features | n | dims | macro F1 | balanced acc. | accuracy |",
    "|---|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.labels} | ${r.features} | ${r.n} | ${r.d} | ${f(r.macroF1)} | ${f(r.balancedAccuracy)} | ${f(r.accuracy)} |`),
  ].join("\n") + "\n";
}

export async function shapesEvaluateCommand(inputs: string[], overrides: string[]): Promise<ShapesEvalRow[]> {
  const spec = { data: "string", labels: "string", out: "string" } as const;
  const { opts, rest } = takeOptions(overrides, spec);
  if (rest.length) {
    const key = rest[0].split("=")[0];
    const near = nearest(key, Object.keys(spec));
    throw new ConfigError(key, `not an option of bie shapes evaluate${near ? `; did you mean '${near}'?` : ""} (it takes data=, labels=, out=)`);
  }
  const defaultData = fileURLToPath(new URL("../../../shared/data/bbbc010", import.meta.url));
  const dataDir = resolve(opts.data ?? defaultData);
  if (!existsSync(join(dataDir, "labels.csv"))) throw new ConfigError("data", `${dataDir} has no labels.csv (expected a BBBC010-style folder: masks + labels.csv with mask_file)`);
  const labels = (opts.labels ?? "label_bioimage_embed,label_well").split(",").filter(Boolean);
  const run = inputs[0];
  try {
    const rows = await shapesEvaluate({ dataDir, run, labels, onLog: (s) => console.error(s) });
    const md = shapesTableMarkdown(rows);
    process.stdout.write(md);
    const out = resolve(opts.out ?? (run ? join(run, "shapes_eval") : "shapes_eval"));
    await writeFileAtomic(`${out}.json`, JSON.stringify(rows, null, 2) + "\n");
    await writeFileAtomic(`${out}.md`, md);
    console.error(`wrote ${out}.json and ${out}.md`);
    return rows;
  } finally {
    closeForestPool();
  }
}
