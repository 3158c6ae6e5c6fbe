// Batch effects (issue 13): the metrics and corrections agree with scikit-learn/numpy, and on real Jurkat cells
// with a synthetic acquisition shift (scripts/experiments/batch-shift.ts) the batch is predictable from a
// trained embedding, while the group contrastive term on re-imaged pairs plus per-batch centre-scale brings it
// to chance and keeps the cell-cycle signal.
// The full-size experiment with its numbers: scripts/experiments/batch-effect.sh and notes/issue-13.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { silhouette, replicateConsistency } from "../src/eval/batch.ts";
import { centerScaleByBatch, pcaCenterScale } from "../src/eval/correct.ts";
import { evaluate } from "../src/eval/index.ts";
import { closeForestPool } from "../src/eval/forest/pool.ts";
import { run } from "../src/cli/program.ts";
import { readImage } from "../src/io/image.ts";
import { parseCsv, Rng, hash32 } from "../src/data/index.ts";
import { png16, shiftCell } from "../scripts/experiments/batch-shift.ts";
import { tempDir } from "./temp-dir.ts";

const PY = "/usr/bin/python3";
const work = tempDir("batch");
const quiet = { out: { write: () => true }, err: { write: () => true } };

/** A seeded matrix with a label signal in some columns and a batch shift in others. */
function synthetic(n: number, d: number) {
  const rng = new Rng(7);
  const labels = Array.from({ length: n }, (_, i) => ["a", "b", "c"][i % 3]);
  const batch = Array.from({ length: n }, () => (rng.next() < 0.5 ? "P1" : "P2"));
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let f = 0; f < d; f++) X[i * d + f] = rng.normal() + (f < 2 ? labels[i].charCodeAt(0) - 97 : 0) + (f >= d - 2 && batch[i] === "P2" ? 1.5 : 0) * (1 + 0.3 * f);
  return { X, labels, batch, d };
}

test("silhouette, replicate consistency and both corrections match sklearn/numpy (1e-9)", () => {
  const { X, labels, batch, d } = synthetic(150, 6);
  const control = labels.map((l) => l === "a");
  const file = join(work, "m.json");
  writeFileSync(file, JSON.stringify({ X: Array.from(X), d, labels, batch, control }));
  const py = `
import json, numpy as np
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from sklearn.decomposition import PCA
o = json.load(open(${JSON.stringify(file)})); X = np.array(o["X"]).reshape(-1, o["d"]); lab = np.array(o["labels"]); b = np.array(o["batch"]); ctl = np.array(o["control"])
out = {"sil_label": silhouette_score(X, lab), "sil_batch": silhouette_score(X, b)}
U = X / np.linalg.norm(X, axis=1, keepdims=True); S = U @ U.T; S[b[:, None] == b[None, :]] = -np.inf
nn = S.argmax(1); out["rc"] = float(np.mean(lab[nn] == lab))
cs = X.copy()
for v in np.unique(b): m = b == v; cs[m] = (X[m] - X[m].mean(0)) / X[m].std(0)
out["cs"] = cs.ravel().tolist()
p = PCA(whiten=True).fit(X[ctl]); Z = p.transform(X)
for v in np.unique(b): m = b == v; c = m & ctl; Z[m] = (Z[m] - Z[c].mean(0)) / Z[c].std(0)
out["pcs"] = Z.ravel().tolist(); out["pcs_d"] = Z.shape[1]
print(json.dumps(out))`;
  const r = spawnSync(PY, ["-c", py], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const ref = JSON.parse(r.stdout);
  assert.ok(Math.abs(silhouette(X, d, labels) - ref.sil_label) < 1e-9, `${silhouette(X, d, labels)} vs ${ref.sil_label}`);
  assert.ok(Math.abs(silhouette(X, d, batch) - ref.sil_batch) < 1e-9);
  assert.ok(Math.abs(replicateConsistency(X, d, batch, labels).value - ref.rc) < 1e-9);
  const cs = centerScaleByBatch(X, d, batch);
  cs.forEach((v, i) => assert.ok(Math.abs(v - ref.cs[i]) < 1e-9, `center_scale[${i}]`));
  // PCA components have an arbitrary sign: compare per component up to sign.
  const p = pcaCenterScale(X, d, batch, control);
  assert.equal(p.d, ref.pcs_d);
  for (let c = 0; c < p.d; c++) {
    const sign = Math.sign(p.X[c]) === Math.sign(ref.pcs[c]) ? 1 : -1;
    for (let i = 0; i < X.length / d; i++) assert.ok(Math.abs(p.X[i * p.d + c] - sign * ref.pcs[i * p.d + c]) < 1e-6, `pca_center_scale[${i},${c}]`);
  }
});

test("real Jurkat cells with a synthetic batch shift: predictable batch; group contrastive on re-imaged pairs + centre-scale bring it to chance with labels kept", { timeout: 600_000 }, async () => {
  // 60 cells per class (all of the rarer ones), split at random into batches A and B; B gets the acquisition
  // shift. paired.csv: every cell once per batch (re-imaged replicates), for the group contrastive term.
  const root = "/work/shared/data/jurkat";
  const { header, rows } = parseCsv(readFileSync(join(root, "cells_exp1.csv"), "utf8"));
  const [ci, cl] = ["index", "label"].map((c) => header.indexOf(c));
  const perClass = new Map<string, number>();
  mkdirSync(join(work, "cells"));
  const shifted = ["id,path,label,batch,cell"], paired = [shifted[0]];
  for (const row of rows) {
    const label = row[cl], n = perClass.get(label) ?? 0;
    if (n >= 60) continue;
    perClass.set(label, n + 1);
    const index = Number(row[ci]);
    const src = join(root, "cells_exp1", label, `${row[ci].padStart(4, "0")}.tif`);
    const batch = new Rng(hash32(13, index)).next() < 0.5 ? "A" : "B";
    const img = await readImage(src);
    const copy = join(work, "cells", `${index}.png`);
    writeFileSync(copy, png16(shiftCell(img.data as Uint16Array, img.width, img.height, img.channels, new Rng(hash32(13, index, 0xb))), img.width, img.height, img.channels));
    shifted.push([`c${index}`, batch === "B" ? copy : src, label, batch, `c${index}`].join(","));
    paired.push([`c${index}A`, src, label, "A", `c${index}`].join(","), [`c${index}B`, copy, label, "B", `c${index}`].join(","));
  }
  writeFileSync(join(work, "shifted.csv"), shifted.join("\n") + "\n");
  writeFileSync(join(work, "paired.csv"), paired.join("\n") + "\n");
  const common = ["model=resnet18_ae", "latent_dim=16", "data.image_size=32", "batch_size=16", "data.workers=0", "engine.threads=1", `runs_dir=${work}`, "optim.warmup_epochs=0.2"];
  // 2 epochs each; an epoch of pairs holds every cell twice (so that run takes twice the steps).
  assert.equal(await run(["train", ...common, `data.path=${join(work, "shifted.csv")}`, "epochs=2", "name=plain"], quiet), 0);
  assert.equal(await run(["train", ...common, `data.path=${join(work, "paired.csv")}`, "data.group_column=cell", "epochs=2", "contrastive.weight=0.1", "contrastive.groups=[cell]", "contrastive.per_group=2", "name=pairs"], quiet), 0);
  assert.equal(await run(["embed", join(work, "plain")], quiet), 0);
  assert.equal(await run(["embed", join(work, "pairs"), `data.path=${join(work, "shifted.csv")}`], quiet), 0); // → pairs/embed_shifted.csv/
  try {
    const opts = { batch: "batch", control: "label=G1", trees: 100, threads: 1, projections: false, models: ["random_forest"] as const };
    const plain = (await evaluate(join(work, "plain"), opts)).report.batch!.variants;
    const pairs = (await evaluate(join(work, "pairs", "embed_shifted.csv"), opts)).report.batch!.variants;
    const line = (v: (typeof plain)[number]) => `${v.name}: batch ${v.metrics.batchPredictability.balancedAccuracy.mean.toFixed(3)}, label ${v.metrics.labelBalancedAccuracy!.mean.toFixed(3)}, silhouette batch ${v.metrics.silhouetteBatch.toFixed(3)}, replicate ${v.metrics.replicateConsistency!.value.toFixed(3)}`;
    console.log(`plain AE:\n${plain.map(line).join("\n")}\nAE + group contrastive:\n${pairs.map(line).join("\n")}`);
    const batchAcc = (v: (typeof plain)[number]) => v.metrics.batchPredictability.balancedAccuracy.mean;
    const labelAcc = (v: (typeof plain)[number]) => v.metrics.labelBalancedAccuracy!.mean;
    // Chance is 0.5. The figure moves with the CPU's kernels (0.713 on one machine, 0.679 on another, same seed), so
    // the bar sits clear of chance and of the ≤ 0.6 the remedy must reach, not at one machine's value.
    assert.ok(batchAcc(plain[0]) >= 0.65, `without remedies the batch is predictable: ${line(plain[0])}`);
    assert.ok(batchAcc(plain[1]) < batchAcc(plain[0]) && plain[1].metrics.silhouetteBatch < plain[0].metrics.silhouetteBatch, "centre-scale alone helps");
    // The remedy: the contrastive term, with or without centre-scale afterwards (the better of the two).
    const best = batchAcc(pairs[0]) <= batchAcc(pairs[1]) ? pairs[0] : pairs[1];
    assert.ok(batchAcc(pairs[0]) < batchAcc(plain[0]), "the contrastive term alone helps");
    assert.ok(batchAcc(best) <= 0.6, `group contrastive and/or centre-scale: ${line(best)}`);
    // 7-class balanced accuracy on 343 cells moves by a few points between folds: kept within 0.05 here (0.03 in the full experiment).
    assert.ok(labelAcc(best) >= labelAcc(plain[0]) - 0.05, `labels kept: ${line(plain[0])} / ${line(best)}`);
    const csv = readFileSync(join(work, "plain", "eval_batch.csv"), "utf8");
    assert.match(csv, /^correction,dims,batch_balanced_accuracy_mean/);
    assert.equal(csv.trim().split("\n").length, 4);
  } finally {
    await closeForestPool();
  }
});
