// Scaler, linear probe, k-NN, PCA and retrieval against scikit-learn on a small real matrix
// (brightfield intensity statistics of 210 Jurkat cells, stored in fixtures/eval/models.json).
import { test } from "node:test";
import assert from "node:assert/strict";
import { StandardScaler } from "../../src/eval/scaler.ts";
import { LogisticRegression } from "../../src/eval/logistic.ts";
import { KnnClassifier, retrievalPrecision } from "../../src/eval/knn.ts";
import { pca, umap2d } from "../../src/eval/project.ts";
import { argmaxLabels } from "../../src/eval/forest/forest.ts";
import { close, fixture } from "./helpers.ts";

const M = fixture("models.json");
const d: number = M.d;
const X = Float64Array.from(M.X as number[]);
const n = X.length / d;
const scaler = StandardScaler.fit(X, d);
const Z = scaler.transform(X);
const trainIdx = [...Array(n).keys()].filter((i) => M.train_mask[i]);
const testIdx = [...Array(n).keys()].filter((i) => !M.train_mask[i]);
const rows = (A: Float64Array, idx: number[]) => { const o = new Float64Array(idx.length * d); idx.forEach((i, r) => o.set(A.subarray(i * d, i * d + d), r * d)); return o; };

test("StandardScaler: mean and population sd like sklearn", () => {
  for (let f = 0; f < d; f++) {
    close(scaler.mean[f], M.scaler_mean[f], 1e-9 * Math.abs(M.scaler_mean[f]), `mean ${f}`);
    close(scaler.scale[f], M.scaler_scale[f], 1e-9 * Math.abs(M.scaler_scale[f]), `scale ${f}`);
  }
});

for (const [key, ycol] of [["lr7", "y7"], ["lr2", "y2"]] as const) {
  test(`logistic regression (${key}) reaches sklearn's optimum`, () => {
    const ref = M[key];
    const y: string[] = M[ycol];
    const lr = LogisticRegression.fit(rows(Z, trainIdx), trainIdx.map((i) => y[i]), { gtol: 1e-9, ftol: 0 });
    assert.deepEqual(lr.classes, ref.classes);
    assert.ok(lr.converged);
    // Same strictly convex objective, and ours is at least as low as sklearn's (its lbfgs stops on a relative
    // decrease of 64·eps; these correlated features leave flat directions, hence the looser coefficient match).
    const Xtr = rows(Z, trainIdx), ytr = trainIdx.map((i) => y[i]);
    const theirs = LogisticRegression.fromCoefficients(ref.classes, d, ref.coef, ref.intercept).objective(Xtr, ytr);
    const ours = lr.objective(Xtr, ytr);
    assert.ok(ours <= theirs * (1 + 1e-10), `objective ${ours} > sklearn's ${theirs}`);
    lr.coef.forEach((v, i) => close(v, ref.coef[i], 2e-3 * Math.max(1, Math.abs(ref.coef[i])), `coef ${i}`));
    const p = lr.predictProba(rows(Z, testIdx));
    p.forEach((v, i) => close(v, ref.proba_test[i], 1e-4, `proba ${i}`));
    assert.deepEqual(argmaxLabels(p, lr.classes), ref.pred_test);
  });
}

test("k-NN (k=5, cosine) gives sklearn's probabilities and votes", () => {
  const ref = M.knn7;
  const y: string[] = M.y7;
  const knn = KnnClassifier.fit(rows(Z, trainIdx), trainIdx.map((i) => y[i]), { k: 5 });
  const p = knn.predictProba(rows(Z, testIdx));
  p.forEach((v, i) => close(v, ref.proba_test[i], 1e-12, `proba ${i}`));
  assert.deepEqual(argmaxLabels(p, knn.classes), ref.pred_test);
});

test("PCA: coordinates (sign convention included) and explained variance like sklearn", () => {
  const r = pca(Z, d, 2);
  r.explainedVarianceRatio.forEach((v, i) => close(v, M.pca.explained_variance_ratio[i], 1e-9, `evr ${i}`));
  r.coords.forEach((v, i) => close(v, M.pca.coords[i], 1e-8, `coord ${i}`));
});

test("retrieval precision@1/5/10 like sklearn NearestNeighbors(cosine)", () => {
  const r = retrievalPrecision(Z, d, M.y7, [1, 5, 10]);
  close(r.precision[0], M.retrieval_precision["1"], 1e-12, "p@1");
  close(r.precision[1], M.retrieval_precision["5"], 1e-12, "p@5");
  close(r.precision[2], M.retrieval_precision["10"], 1e-12, "p@10");
  assert.ok(r.precision[0] > 1 / 7, "better than chance on real features");
});

test("UMAP: fitted on a subset, the rest transformed; same seed same layout; classes stay apart", () => {
  const a = umap2d(Z, d, { seed: 3, maxFit: 120 });
  const b = umap2d(Z, d, { seed: 3, maxFit: 120 });
  assert.equal(a.fitRows, 120);
  assert.ok(a.coords.every(Number.isFinite));
  assert.deepEqual(a.coords, b.coords);
  assert.notDeepEqual(umap2d(Z, d, { seed: 4, maxFit: 120 }).coords, a.coords);
  // 2-D nearest neighbour (leave one out) keeps G1 vs the rest better than chance on these features
  const y: string[] = M.y2;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    let best = -1, bd = Infinity;
    for (let j = 0; j < n; j++) if (j !== i) { const dd = (a.coords[2 * i] - a.coords[2 * j]) ** 2 + (a.coords[2 * i + 1] - a.coords[2 * j + 1]) ** 2; if (dd < bd) { bd = dd; best = j; } }
    if (y[best] === y[i]) ok++;
  }
  const major = Math.max(...["interphase", "mitosis"].map((c) => y.filter((v) => v === c).length)) / n;
  assert.ok(ok / n > major, `1-NN agreement in the layout ${ok / n} vs majority share ${major}`);
});
