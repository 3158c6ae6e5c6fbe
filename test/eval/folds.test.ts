// Random numbers and fold assignment: bit-for-bit equal to numpy / scikit-learn (fixtures from
// scripts/fixtures/eval_reference.py), and the grouped folds keep groups whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { MersenneTwister } from "../../src/eval/random.ts";
import { stratifiedKFold, stratifiedGroupKFold, splitIndices } from "../../src/eval/folds.ts";
import { parseCsv } from "../../src/eval/csv.ts";
import { ConfigError } from "../../src/errors.ts";
import { DATA, fixture } from "./helpers.ts";

test("MT19937 matches numpy RandomState draws and legacy shuffle", () => {
  for (const c of fixture("rng.json").cases) {
    const rng = new MersenneTwister(c.seed);
    assert.deepEqual(Array.from({ length: 5 }, () => rng.random()), c.random_sample, `seed ${c.seed}`);
    const a = Array.from({ length: 20 }, (_, i) => i);
    rng.shuffle(a);
    assert.deepEqual(a, c.shuffle20, `shuffle, seed ${c.seed}`);
  }
});

function realLabels(): Record<string, string[]> {
  const lab = parseCsv(readFileSync(DATA + "bbbc010/labels.csv", "utf8"));
  const col = (t: typeof lab, name: string) => t.rows.map((r) => r[t.header.indexOf(name)]);
  const jur = parseCsv(readFileSync(DATA + "jurkat/cells_exp1.csv", "utf8"));
  const j7 = col(jur, "label");
  return {
    bbbc010_label_bioimage_embed: col(lab, "label_bioimage_embed").filter((v) => v !== ""),
    bbbc010_label_well: col(lab, "label_well"),
    jurkat_7class: j7,
    jurkat_2class: j7.map((v) => (["G1", "S_phase", "G2"].includes(v) ? "interphase" : "mitosis")),
  };
}

test("stratifiedKFold reproduces scikit-learn's StratifiedKFold on the real labels", () => {
  const labels = realLabels();
  const cases = fixture("folds.json").cases;
  assert.ok(cases.length >= 16);
  for (const c of cases) {
    const y = labels[c.labels];
    const tf = stratifiedKFold(y, c.k, { shuffle: c.shuffle, seed: c.seed ?? 0 });
    assert.equal(Array.from(tf).join(""), c.test_fold, `${c.labels} k=${c.k} shuffle=${c.shuffle} seed=${c.seed}`);
  }
});

test("stratifiedKFold: every row tested once, classes spread evenly, bad k rejected", () => {
  const y = [...Array(7).fill("a"), ...Array(13).fill("b")];
  const tf = stratifiedKFold(y, 3, { seed: 1 });
  for (let f = 0; f < 3; f++) {
    const { train, test } = splitIndices(tf, f);
    assert.equal(train.length + test.length, 20);
    const a = Array.from(test).filter((i) => y[i] === "a").length;
    assert.ok(a === 2 || a === 3, `fold ${f} has ${a} of class a`);
  }
  assert.throws(() => stratifiedKFold(y, 1), ConfigError);
  assert.throws(() => stratifiedKFold(y, 21), ConfigError);
});

test("stratifiedGroupKFold keeps each group in one fold, balances classes, is reproducible", () => {
  // BBBC010: group = well (4 wells per column block); labels = label_well
  const lab = parseCsv(readFileSync(DATA + "bbbc010/labels.csv", "utf8"));
  const y = lab.rows.map((r) => r[lab.header.indexOf("label_well")]);
  const g = lab.rows.map((r) => r[lab.header.indexOf("well")]);
  const tf = stratifiedGroupKFold(y, g, 5, { seed: 42 });
  const foldOf = new Map<string, number>();
  g.forEach((w, i) => { assert.ok(!foldOf.has(w) || foldOf.get(w) === tf[i], `well ${w} split across folds`); foldOf.set(w, tf[i]); });
  const share = (f: number) => { const t = y.filter((_, i) => tf[i] === f); return t.filter((v) => v === "alive").length / t.length; };
  const overall = y.filter((v) => v === "alive").length / y.length;
  for (let f = 0; f < 5; f++) assert.ok(Math.abs(share(f) - overall) < 0.1, `fold ${f} alive share ${share(f)} vs ${overall}`);
  assert.deepEqual(stratifiedGroupKFold(y, g, 5, { seed: 42 }), tf);
  assert.notDeepEqual(stratifiedGroupKFold(y, g, 5, { seed: 7 }), tf);
  assert.throws(() => stratifiedGroupKFold(["a", "b", "a"], ["x", "x", "y"], 3), ConfigError);
});
