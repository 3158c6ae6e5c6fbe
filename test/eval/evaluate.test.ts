// evaluate() end to end on a small real run folder (tests/eval/run-fixture.ts), a features CSV joined to a
// labels CSV, explicit and grouped folds, run comparison, and clear errors on bad input.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluate } from "../../src/eval/evaluate.ts";
import { readEmbeddings } from "../../src/eval/table.ts";
import { compareRuns, formatComparison } from "../../src/eval/report/compare.ts";
import { evaluateCommand, parseEvaluateArgs } from "../../src/eval/command.ts";
import { parseCsv } from "../../src/eval/csv.ts";
import { closeForestPool } from "../../src/eval/forest/pool.ts";
import { BadInputError, ConfigError } from "../../src/errors.ts";
import { makeRun, type FixtureRun } from "./run-fixture.ts";

let tmp: string, run: FixtureRun;
const fast = { trees: 30, threads: 2 } as const;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), "bie-eval-"));
  run = await makeRun(join(tmp, "run-a"), "run-a", 16);
});
after(async () => { await closeForestPool(); rmSync(tmp, { recursive: true, force: true }); });

test("readEmbeddings: parquet and npy + index.csv give the same table", async () => {
  const a = await readEmbeddings(run.dir);
  const b = await readEmbeddings(join(run.dir, "embeddings.npy"));
  assert.equal(a.n, run.n); assert.equal(a.d, run.d);
  assert.deepEqual(a.X, run.X);
  assert.deepEqual(b.X, run.X);
  assert.deepEqual(a.ids, b.ids);
  assert.deepEqual(a.paths, b.paths);
  assert.deepEqual(a.columns.label, run.labels);
  assert.deepEqual(b.columns.label, run.labels);
  assert.ok(!("z_0" in a.columns));
});

test("run folder: eval.json and CSVs, unlabelled rows left out, same seed same numbers", async () => {
  const r1 = await evaluate(run.dir, { ...fast });
  const ev = JSON.parse(readFileSync(join(run.dir, "eval.json"), "utf8"));
  assert.equal(ev.rows.total, run.n);
  assert.equal(ev.rows.labelled, run.n - run.unlabelled);
  assert.deepEqual(ev.classes, ["Anaphase", "G1", "G2", "Metaphase", "Prophase", "S_phase", "Telophase"]);
  assert.deepEqual(Object.keys(ev.models), ["random_forest", "logistic_regression", "knn"]);
  for (const m of Object.values<any>(ev.models)) {
    assert.equal(m.folds.length, 5);
    assert.equal(m.folds.reduce((s: number, f: any) => s + f.n, 0), ev.rows.labelled);
    assert.equal(m.confusion.flat().reduce((a: number, b: number) => a + b, 0), ev.rows.labelled);
    assert.ok(m.summary.macroF1.mean > 1 / 7, "better than chance on real intensity features");
  }
  for (const f of ev.files) assert.ok(existsSync(join(run.dir, f)), f);
  const pred = parseCsv(readFileSync(join(run.dir, "eval_predictions.csv"), "utf8"));
  assert.equal(pred.rows.length, ev.rows.labelled);
  const proj = parseCsv(readFileSync(join(run.dir, "eval_projection.csv"), "utf8"));
  assert.equal(proj.rows.length, run.n);
  assert.ok(proj.rows.every((r) => Number.isFinite(+r[3]) && Number.isFinite(+r[5])));
  const nn = parseCsv(readFileSync(join(run.dir, "eval_neighbours.csv"), "utf8"));
  assert.equal(nn.header.length, 11);
  assert.ok(nn.rows.every((r) => !r.slice(1).includes(r[0])), "an item is not its own neighbour");
  const r2 = await evaluate(run.dir, { ...fast, write: false });
  assert.deepEqual(stripTimes(r1.report.models, r2.report.models), r2.report.models);
  assert.deepEqual(r2.projection.umap, r1.projection.umap);
});

/** Model results with the timing of `a` copied into `b`'s (everything else must be equal). */
function stripTimes(a: any, b: any) {
  const out = structuredClone(a);
  for (const k of Object.keys(out)) out[k].seconds = b[k].seconds;
  return out;
}

test("grouped folds keep each group in one fold; explicit folds are used as given", async () => {
  const g = await evaluate(run.dir, { ...fast, groups: "group", folds: 3, models: ["knn"], projections: false, write: false });
  assert.equal(g.report.protocol.foldSource, "stratified_group");
  const groups = (await readEmbeddings(run.dir)).columns.group;
  const foldOf = new Map<string, number>();
  g.labelledRows.forEach((row, j) => {
    const grp = groups[row]!;
    assert.ok(!foldOf.has(grp) || foldOf.get(grp) === g.testFold[j], `group ${grp} split`);
    foldOf.set(grp, g.testFold[j]);
  });
  const given = Array.from({ length: run.n }, (_, i) => (i % 10 === 0 ? -1 : i % 2));
  const e = await evaluate(run.dir, { ...fast, folds: given, models: ["random_forest"], projections: false, write: false });
  assert.equal(e.report.protocol.foldSource, "given");
  assert.equal(e.report.protocol.folds, 2);
  assert.equal(e.report.rows.labelled, run.labels.filter((l, i) => l !== null && i % 10 !== 0).length);
});

test("features CSV joined to a labels CSV; feature selection; output beside the file", async () => {
  const dir = join(tmp, "csv");
  mkdirSync(dir);
  const { ids, X, d, n } = await readEmbeddings(run.dir);
  const names = Array.from({ length: d }, (_, f) => `feat_${f}`);
  writeFileSync(join(dir, "features.csv"), ["cell," + names.join(",") + ",n_parts", ...ids.map((id, i) => `${id},${Array.from(X.subarray(i * d, i * d + d)).join(",")},${i % 3}`)].join("\n") + "\n");
  writeFileSync(join(dir, "labels.csv"), "cell,phase\n" + ids.map((id, i) => `${id},${run.labels[i] ?? ""}`).join("\n") + "\n");
  const r = await evaluate(join(dir, "features.csv"), { ...fast, labels: "phase", labelsFile: join(dir, "labels.csv"), exclude: ["n_parts"], models: ["random_forest"] });
  assert.deepEqual(r.report.featureNames, names);
  assert.equal(r.report.rows.labelled, n - run.unlabelled);
  assert.equal(r.report.outDir, join(dir, "features_eval"));
  assert.ok(existsSync(join(dir, "features_eval", "eval.json")));
  assert.equal(r.table.ids[0], ids[0], "ids from the first all-distinct column");
  const sel = await evaluate(join(dir, "features.csv"), { ...fast, labels: "phase", labelsFile: join(dir, "labels.csv"), features: ["feat_0", "feat_1"], models: ["knn"], write: false, projections: false });
  assert.deepEqual(sel.report.featureNames, ["feat_0", "feat_1"]);
});

test("compareRuns puts two evaluated runs side by side", async () => {
  const b = await makeRun(join(tmp, "run-b"), "run-b", 10);
  await evaluate(b.dir, { ...fast, models: ["random_forest", "knn"], projections: false });
  if (!existsSync(join(run.dir, "eval.json"))) await evaluate(run.dir, { ...fast });
  const c = compareRuns([run.dir, b.dir]);
  assert.equal(c.rows.length, 2);
  assert.deepEqual(c.rows.map((r) => r[0]), ["run-a", "run-b"]);
  const col = (name: string) => c.columns.indexOf(name);
  assert.equal(c.rows[1][col("probe_macro_f1")], null, "run-b had no linear probe");
  assert.ok((c.rows[0][col("rf_macro_f1")] as number) > 0);
  const text = formatComparison(c);
  assert.match(text, /^run-a\s.*\n^run-b\s/m);
  assert.equal(formatComparison(c, "csv").split("\n")[0], c.columns.join(","));
});

test("bad input and settings are named", async () => {
  await assert.rejects(evaluate(join(tmp, "nope")), (e: any) => e instanceof BadInputError && /no such file/.test(e.message));
  await assert.rejects(evaluate(run.dir, { labels: "phase", write: false }), (e: any) => e instanceof ConfigError && e.field === "labels" && /columns: .*label/.test(e.message));
  const dir = join(tmp, "bad");
  mkdirSync(dir);
  writeFileSync(join(dir, "f.csv"), "id,a,b,label\n1,0.5,2,x\n2,oops,3,y\n3,1,1,x\n");
  await assert.rejects(evaluate(join(dir, "f.csv"), { features: ["a", "b"], write: false }), (e: any) => e instanceof BadInputError && /f\.csv/.test(e.message) && /'a' line 3/.test(e.message));
  await assert.rejects(evaluate(join(dir, "f.csv"), { write: false }), (e: any) => e instanceof ConfigError && /at least 2 classes|folds/.test(e.message));
  writeFileSync(join(dir, "x.parquet"), "PAR1 not really");
  await assert.rejects(evaluate(join(dir, "x.parquet")), (e: any) => e instanceof BadInputError && /x\.parquet/.test(e.message));
  copyFileSync(join(run.dir, "embeddings.npy"), join(dir, "e.npy"));
  writeFileSync(join(dir, "index.csv"), "id,label\n1,a\n");
  await assert.rejects(readEmbeddings(join(dir, "e.npy")), (e: any) => e instanceof BadInputError && /index\.csv/.test(e.message));
  assert.throws(() => parseEvaluateArgs(["labelz=x"]), (e: any) => e instanceof ConfigError && e.field === "labelz");
  assert.throws(() => parseEvaluateArgs(["folds=1"]), ConfigError);
  assert.deepEqual(parseEvaluateArgs(["labels=phase", "folds=3", "models=knn,random_forest", "report=false"]), { options: { labels: "phase", folds: 3, models: ["knn", "random_forest"] }, report: false });
});

test("evaluateCommand: several inputs are evaluated, reported and compared", async () => {
  const c = await makeRun(join(tmp, "run-c"), "run-c", 8);
  const d = await makeRun(join(tmp, "run-d"), "run-d", 9);
  const lines: string[] = [];
  const res = await evaluateCommand([c.dir, d.dir], ["models=knn,random_forest", "trees=20", "umap=false"], (s) => lines.push(s));
  assert.deepEqual(res.outDirs, [c.dir, d.dir]);
  assert.deepEqual(res.reports, [join(c.dir, "report.html"), join(d.dir, "report.html")]);
  assert.ok(res.reports.every((f) => existsSync(f)));
  assert.match(res.comparison!, /^run-c\s.*\n^run-d\s/m);
  assert.ok(lines.some((l) => /random_forest\s+macro F1 \d\.\d{3} ± \d\.\d{3}/.test(l)));
  await assert.rejects(evaluateCommand([c.dir, d.dir], ["out=/tmp/x"], () => {}), ConfigError);
  await assert.rejects(evaluateCommand([], [], () => {}), ConfigError);
});
