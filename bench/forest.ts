// Random forest 5-fold CV, ours vs scikit-learn (n_jobs=2), in the same run, on the anchors' classical feature
// tables: BBBC010 regionprops+EFD (label_bioimage_embed and label_well) and Jurkat (40 features, 7 classes).
// The tables are made by ../shared/anchors/*_baseline.py (cached in $TMPDIR/bie-anchor-tables; ~4 min once).
// usage: npm run bench -- forest [--repeats 3] [--tables DIR] [--threads 2]
// Repeats alternate Python and ours (each Python call warms up once untimed) so both see the same load.
// Writes bench/results/forest.json: per table and in total ours_s, sklearn_s, ratio = sklearn_s / ours_s,
// f1_ours, f1_sklearn (mean macro F1 over the 5 folds; both with seed 42, the same folds).
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { median, round, runJsonLines, repoRoot, sharedDir, writeResult } from "./common.ts";
import { loadInput } from "../src/eval/evaluate.ts";
import { crossValidate } from "../src/eval/crossval.ts";
import { stratifiedKFold } from "../src/eval/folds.ts";
import { takeRows } from "../src/eval/scaler.ts";
import { closeForestPool } from "../src/eval/forest/pool.ts";

const PY = "/usr/bin/python3";

interface Table { name: string; features: string; label: string; labelsFile?: string; join?: string; exclude: string[] }

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
}

async function ensureTables(dir: string): Promise<Table[]> {
  mkdirSync(dir, { recursive: true });
  const bbbc = join(dir, "bbbc010_features.csv"), jur = join(dir, "jurkat_features.csv");
  for (const [file, script, data] of [[bbbc, "bbbc010_baseline.py", "bbbc010"], [jur, "jurkat_baseline.py", "jurkat"]] as const) {
    if (existsSync(file)) continue;
    console.log(`making ${file} with ${script} (a few minutes, once)`);
    await runJsonLines(PY, [join(sharedDir, "anchors", script), join(sharedDir, "data", data), dir]);
  }
  const labels = join(sharedDir, "data", "bbbc010", "labels.csv");
  return [
    { name: "bbbc010 label_bioimage_embed (45 features)", features: bbbc, label: "label_bioimage_embed", labelsFile: labels, join: "mask_file", exclude: ["n_components"] },
    { name: "bbbc010 label_well (45 features)", features: bbbc, label: "label_well", labelsFile: labels, join: "mask_file", exclude: ["n_components"] },
    { name: "jurkat 7 classes (40 features)", features: jur, label: "label", exclude: ["index"] },
  ];
}

/** Our side: returns a function that runs the timed protocol once (after an untimed warm-up). */
async function ours(t: Table, threads: number): Promise<{ run: () => Promise<{ s: number; cpu: number; f1: number }>; n: number; d: number }> {
  const table = await loadInput(t.features, { labels: t.label, labelsFile: t.labelsFile, joinOn: t.join, exclude: t.exclude });
  const lab = table.columns[t.label];
  const rows = Int32Array.from(lab.flatMap((v, i) => (v !== null && v !== "" ? [i] : [])));
  const y = Array.from(rows, (i) => lab[i]!);
  const X = takeRows(table.X, table.d, rows);
  const run = async () => {
    const t0 = performance.now(), c0 = process.cpuUsage(); // cpuUsage counts the worker threads too
    // the whole protocol, folds included, like the Python side
    const folds = stratifiedKFold(y, 5, { seed: 42 });
    const cv = await crossValidate(X, table.d, y, folds, { models: ["random_forest"], seed: 42, threads });
    const c = process.cpuUsage(c0);
    return { s: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, f1: cv.models[0].summary.macroF1!.mean };
  };
  await run(); // warm-up: worker threads started, code compiled
  return { run, n: y.length, d: table.d };
}

async function sklearn(t: Table, repeats: number): Promise<{ seconds: number[]; cpu: number[]; f1: number }> {
  const args = [join(repoRoot, "scripts/fixtures/eval_forest_bench.py"), t.features, t.label, "--exclude", t.exclude.join(","), "--repeats", String(repeats)];
  if (t.labelsFile) args.push("--labels-file", t.labelsFile, "--join", t.join!);
  const lines = await runJsonLines(PY, args);
  return { seconds: lines.map((l) => l.seconds as number), cpu: lines.map((l) => l.cpu_seconds as number), f1: lines[0].macro_f1 as number };
}

export default async function (args: string[]): Promise<void> {
  const repeats = Number(arg(args, "repeats", "3"));
  const threads = Number(arg(args, "threads", "2"));
  const tables = await ensureTables(arg(args, "tables", join(tmpdir(), "bie-anchor-tables")));
  const results: { table: string; n: number; d: number; ours_s: number; sklearn_s: number; ratio: number; f1_ours: number; f1_sklearn: number; f1_diff: number; ours_cpu_s: number; sklearn_cpu_s: number; cpu_ratio: number; runs: Record<string, number[]> }[] = [];
  try {
    for (const t of tables) {
      // Interleaved, one repeat each at a time, so both sides see the same load on this shared machine.
      const mine = await ours(t, threads);
      const me = { seconds: [] as number[], cpu: [] as number[], f1: NaN, n: mine.n, d: mine.d };
      const py = { seconds: [] as number[], cpu: [] as number[], f1: NaN };
      for (let r = 0; r < repeats; r++) {
        const p = await sklearn(t, 1);
        py.seconds.push(...p.seconds); py.cpu.push(...p.cpu); py.f1 = p.f1;
        const o = await mine.run();
        me.seconds.push(o.s); me.cpu.push(o.cpu); me.f1 = o.f1;
      }
      const r = {
        table: t.name, n: me.n, d: me.d,
        ours_s: round(median(me.seconds), 3), sklearn_s: round(median(py.seconds), 3),
        ratio: round(median(py.seconds) / median(me.seconds), 2),
        f1_ours: round(me.f1, 4), f1_sklearn: round(py.f1, 4), f1_diff: round(me.f1 - py.f1, 4),
        ours_cpu_s: round(median(me.cpu), 3), sklearn_cpu_s: round(median(py.cpu), 3), cpu_ratio: round(median(py.cpu) / median(me.cpu), 2),
        runs: { ours: me.seconds.map((s) => round(s, 3)), sklearn: py.seconds.map((s) => round(s, 3)), ours_cpu: me.cpu.map((s) => round(s, 3)), sklearn_cpu: py.cpu.map((s) => round(s, 3)) },
      };
      console.log(`${t.name}: ours ${r.ours_s}s, sklearn ${r.sklearn_s}s, ratio ${r.ratio} (CPU ${r.ours_cpu_s}s vs ${r.sklearn_cpu_s}s, ${r.cpu_ratio}); macro F1 ours ${r.f1_ours} sklearn ${r.f1_sklearn}`);
      results.push(r);
    }
  } finally {
    await closeForestPool();
  }
  const oursTotal = results.reduce((s, r) => s + r.ours_s, 0), skTotal = results.reduce((s, r) => s + r.sklearn_s, 0);
  const mean = (k: "f1_ours" | "f1_sklearn") => round(results.reduce((s, r) => s + r[k], 0) / results.length, 4);
  const out = {
    name: "forest",
    what: "random forest 5-fold CV (StandardScaler + 100 trees, seed 42, StratifiedKFold(5, shuffle, 42)) on the anchors' classical feature tables; times are medians, totals sum the three tables",
    unit: "s",
    ours_s: round(oursTotal, 3), sklearn_s: round(skTotal, 3), ratio: round(skTotal / oursTotal, 2),
    ours_cpu_s: round(results.reduce((s, r) => s + r.ours_cpu_s, 0), 3), sklearn_cpu_s: round(results.reduce((s, r) => s + r.sklearn_cpu_s, 0), 3),
    cpu_ratio: round(results.reduce((s, r) => s + r.sklearn_cpu_s, 0) / results.reduce((s, r) => s + r.ours_cpu_s, 0), 2),
    f1_ours: mean("f1_ours"), f1_sklearn: mean("f1_sklearn"),
    max_abs_f1_diff: round(Math.max(...results.map((r) => Math.abs(r.f1_diff))), 4),
    tables: results,
    ours_threads: threads, sklearn_n_jobs: 2, repeats,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
    load_average_1m_at_end: round(loadavg()[0], 1), // other sessions share these 2 cores: read times with this in mind
    date: new Date().toISOString(),
  };
  console.log(`total: ours ${out.ours_s}s, sklearn ${out.sklearn_s}s, ratio ${out.ratio}; CPU ours ${out.ours_cpu_s}s, sklearn ${out.sklearn_cpu_s}s, ratio ${out.cpu_ratio}`);
  console.log(`wrote ${await writeResult("forest", out)}`);
}
