// Metrics against hand-worked small cases and against scikit-learn outputs (fixtures/eval/metrics.json).
import { test } from "node:test";
import assert from "node:assert/strict";
import { accuracy, balancedAccuracy, confusionMatrix, foldMetrics, macroScores, meanSd, precisionRecallF1, rocAuc, rocAucBinary } from "../../src/eval/metrics.ts";
import { close, fixture } from "./helpers.ts";

test("hand-checked: 3 classes, one never predicted", () => {
  const t = ["a", "a", "a", "b", "b", "c"];
  const p = ["a", "a", "b", "b", "a", "a"];
  assert.equal(accuracy(t, p), 3 / 6);
  // recalls: a 2/3, b 1/2, c 0 → balanced accuracy 7/18
  close(balancedAccuracy(t, p), 7 / 18, 1e-15, "balanced");
  const s = precisionRecallF1(t, p, ["a", "b", "c"]);
  // a: tp2 fp2 fn1 → P .5, R 2/3, F1 4/7 ; b: tp1 fp1 fn1 → .5 .5 .5 ; c: tp0 → 0 0 0 (zero_division 0)
  close(s[0].precision, 0.5, 1e-15); close(s[0].recall, 2 / 3, 1e-15); close(s[0].f1, 4 / 7, 1e-15);
  assert.deepEqual([s[1].precision, s[1].recall, s[1].f1], [0.5, 0.5, 0.5]);
  assert.deepEqual([s[2].precision, s[2].recall, s[2].f1, s[2].support], [0, 0, 0, 1]);
  close(macroScores(t, p).f1, (4 / 7 + 0.5) / 3, 1e-15, "macro f1");
  assert.deepEqual(confusionMatrix(t, p, ["a", "b", "c"]), [[2, 1, 0], [1, 1, 0], [1, 0, 0]]);
});

test("hand-checked: ROC-AUC with ties counts half", () => {
  // positives 0.8, 0.4 ; negatives 0.4, 0.1 → pairs: (0.8>0.4)1 (0.8>0.1)1 (0.4=0.4).5 (0.4>0.1)1 → 3.5/4
  assert.equal(rocAucBinary([true, true, false, false], [0.8, 0.4, 0.4, 0.1]), 0.875);
  assert.equal(rocAucBinary([true, true], [0.1, 0.2]), null);
  assert.deepEqual(meanSd([1, 2, 3, null]), { mean: 2, sd: 1 });
});

test("agrees with scikit-learn on generated cases (ties, a class never predicted)", () => {
  const cases = fixture("metrics.json").cases;
  assert.equal(cases.length, 3);
  for (const c of cases) {
    const m = foldMetrics(c.y_true, c.y_pred, c.classes, c.proba);
    const tol = 1e-12;
    close(m.accuracy, c.accuracy, tol, `${c.name} accuracy`);
    close(m.balancedAccuracy, c.balanced_accuracy, tol, `${c.name} balanced`);
    close(m.macroPrecision, c.macro_precision, tol, `${c.name} macro P`);
    close(m.macroRecall, c.macro_recall, tol, `${c.name} macro R`);
    close(m.macroF1, c.f1_macro_sklearn, tol, `${c.name} macro F1`);
    close(m.rocAuc!, c.roc_auc, 1e-12, `${c.name} AUC`);
    close(rocAuc(c.y_true, c.proba, c.classes)!, c.roc_auc, 1e-12, `${c.name} AUC direct`);
    m.perClass.forEach((s, i) => {
      close(s.precision, c.precision[i], tol, `${c.name} P[${s.label}]`);
      close(s.recall, c.recall[i], tol, `${c.name} R[${s.label}]`);
      close(s.f1, c.f1[i], tol, `${c.name} F1[${s.label}]`);
      assert.equal(s.support, c.support[i]);
    });
    assert.deepEqual(m.confusion, c.confusion);
  }
});
