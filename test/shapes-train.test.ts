// task=shapes end to end on real BBBC010 masks: symmetry views in training batches, the contrastive 'view' group,
// a short training, the symmetry-averaged embedding (the same for a worm whatever its start point), and the way
// back to an outline (MDS + Procrustes) with the reconstruct command's figure and numbers.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "../src/config/index.ts";
import { ConfigError } from "../src/errors.ts";
import { trainFromConfig, loadRunModel } from "../src/train/index.ts";
import { shapeSourceForConfig } from "../src/train/shape-source.ts";
import { relatedViews } from "../src/train/related.ts";
import { compareOutlines } from "../src/train/shape-recon.ts";
import { cyclicShift, reverseMatrix, symmetryVariants, tipVariants } from "../src/shapes/index.ts";
import { tensor, noGrad, tidy } from "../src/engine/index.ts";
import { tempDir } from "./temp-dir.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const BBBC010 = join(root, "../shared/data/bbbc010");
const work = tempDir("shapes-train");
after(() => rmSync(work, { recursive: true, force: true }));
const N = 32;
const base = [
  "task=shapes",
  `data.manifest=${join(BBBC010, "labels.csv")}`,
  "data.path_column=mask_file",
  "data.label_column=label_bioimage_embed",
  "data.missing_labels=keep",
  "data.limit=80",
  `shapes.n_points=${N}`,
  "model=resnet18_ae",
  "latent_dim=8",
  "batch_size=16",
  "engine.threads=1",
  `runs_dir=${work}`,
];
const sortedEntries = (m: Float32Array) => Float32Array.from(m).sort();

test("shapes.views: each training shape comes as that many random symmetry views; validation starts with the shape itself", async () => {
  const cfg = await resolveConfig({ overrides: [...base, "shapes.views=3"] });
  const src = await shapeSourceForConfig(cfg);
  const size = N * N;
  const first = async (part: "train" | "val" | "test") => {
    for await (const b of src.loader(part, { epoch: 0 })) return b;
    throw new Error(`empty ${part} part`);
  };
  const train = await first("train");
  assert.equal(train.shape[0], train.indices.length * 3);
  assert.deepEqual(train.itemRows, train.indices.map(() => 3));
  // Every view is the same outline (same distances, other order), and the views are not all the same one.
  const row = (x: Float32Array, r: number) => x.subarray(r * size, (r + 1) * size);
  let differ = 0;
  for (let i = 0; i < train.indices.length; i++) {
    const ref = sortedEntries(row(train.x, 3 * i));
    for (let k = 1; k < 3; k++) {
      assert.deepEqual(sortedEntries(row(train.x, 3 * i + k)), ref);
      if (row(train.x, 3 * i + k).some((v, j) => v !== row(train.x, 3 * i)[j])) differ++;
    }
  }
  assert.ok(differ > train.indices.length, `views should be different symmetries (${differ} differing)`);
  // Validation: view 0 is the matrix as computed (the same as the single-view test loader gives for that item).
  const val = await first("val");
  const one = await shapeSourceForConfig(await resolveConfig({ overrides: base }));
  for await (const b of one.loader("val", { epoch: 0 })) {
    assert.deepEqual(b.indices, val.indices);
    for (let i = 0; i < b.indices.length; i++) assert.deepEqual(row(val.x, 3 * i), row(b.x, i));
    break;
  }
  // Test and embedding loaders are unaffected: one row per shape.
  const t = await first("test");
  assert.equal(t.shape[0], t.indices.length);
  // The 'view' contrastive group: rows of one shape share a group; it needs views ≥ 2.
  const rel = relatedViews(await resolveConfig({ overrides: [...base, "shapes.views=3", "contrastive.weight=0.1", "contrastive.groups=[view]"] }), src.items, 1)!;
  assert.deepEqual(Array.from(rel.rowGroups([5, 9], train.itemRows!.slice(0, 2))), [5, 5, 5, 9, 9, 9]);
  const single = await resolveConfig({ overrides: [...base, "contrastive.weight=0.1", "contrastive.groups=[view]"] });
  assert.throws(() => relatedViews(single, src.items, 1), (e: unknown) => e instanceof ConfigError && /shapes\.views ≥ 2/.test((e as Error).message));
});

test("shapes.start=tip: training views, validation and embedding variants are the outline's 4 tip-anchored matrices", async () => {
  const size = N * N;
  const any = await shapeSourceForConfig(await resolveConfig({ overrides: base }));
  const tip = await shapeSourceForConfig(await resolveConfig({ overrides: [...base, "shapes.start=tip", "shapes.views=2"] }));
  assert.equal(tip.variantsPerItem, 4);
  // The matrices as computed (start=any's validation rows), by item.
  const plain = new Map<number, Float32Array>();
  for await (const b of any.loader("all", { epoch: 0 })) b.indices.forEach((it, r) => plain.set(it, b.x.slice(r * size, (r + 1) * size)));
  const key = (m: Float32Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString("base64");
  const allowed = (it: number) => new Set(tipVariants(plain.get(it)!).map(key));
  let seen = 0;
  for (const part of ["train", "val"] as const)
    for await (const b of tip.loader(part, { epoch: 1 })) {
      b.indices.forEach((it, r) => {
        for (let k = 0; k < 2; k++) assert.ok(allowed(it).has(key(b.x.slice((2 * r + k) * size, (2 * r + k + 1) * size))), `${part} item ${it} view ${k}`);
        if (part === "val") assert.deepEqual(b.x.slice(2 * r * size, (2 * r + 1) * size), tipVariants(plain.get(it)!)[0]);
        seen++;
      });
    }
  assert.ok(seen > 40);
  for await (const b of tip.loaderFor([3, 7], 8)) {
    assert.equal(b.shape[0], b.indices.length * 4);
    b.indices.forEach((it, r) => tipVariants(plain.get(it)!).forEach((v, k) => assert.deepEqual(b.x.slice((4 * r + k) * size, (4 * r + k + 1) * size), v)));
  }
});

test("compareOutlines: a matrix decoded perfectly gives back the outline (IoU 1, RMS 0); another worm does not", async () => {
  const cfg = await resolveConfig({ overrides: base });
  const src = await shapeSourceForConfig(cfg);
  for await (const b of src.loader("test", { epoch: 0 })) {
    const size = N * N, unit = cfg.shapes.pixel_scale;
    const m = (r: number) => b.x.slice(r * size, (r + 1) * size);
    for (let r = 0; r < 3; r++) {
      // The decoded matrix may be the outline from another start point and direction: same shape.
      const same = compareOutlines(m(r), reverseMatrix(cyclicShift(m(r), 5)), N, { pixels: true, unit });
      assert.ok(same.iou > 0.999, `IoU ${same.iou}`);
      assert.ok(same.rms < 1e-6 * unit, `RMS ${same.rms}`);
    }
    const other = compareOutlines(m(0), m(1), N, { pixels: true, unit });
    assert.ok(other.iou < 0.9 && other.rms > 1, `two different worms: IoU ${other.iou}, RMS ${other.rms} px`);
    break;
  }
});

test("a short task=shapes run: the averaged embedding ignores start point and direction; reconstruct writes the figure", { timeout: 240_000 }, async () => {
  const cfg = await resolveConfig({ overrides: [...base, "name=tiny", "epochs=1", "shapes.views=2", "contrastive.weight=0.01", "contrastive.groups=[view]"] });
  const { runDir, info } = await trainFromConfig(cfg);
  assert.equal(info.status, "finished");
  const metrics = readFileSync(join(runDir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(metrics.some((r) => r.split === "train" && Number.isFinite(r.contrastive) && Number.isFinite(r.pen_triangle)));

  // The embedding of a shape is the mean over 8 start points × 2 directions, so a shape whose start point moved by
  // a multiple of N/8 (or whose direction flipped) has the same set of variants and the same embedding.
  const { model, src } = await loadRunModel(runDir);
  try {
    let d: Float32Array | null = null;
    for await (const b of src.loader("test", { epoch: 0 })) {
      d = b.x.slice(0, N * N);
      break;
    }
    const embedMean = (m: Float32Array) =>
      noGrad(() =>
        tidy(() => {
          const v = symmetryVariants(m, 8);
          const x = new Float32Array(v.length * N * N);
          v.forEach((mv, k) => x.set(mv, k * N * N));
          return model.embed(tensor(x, [v.length, 1, N, N])).mean([0]).toArray() as Float32Array;
        }),
      );
    const a = embedMean(d!), b = embedMean(reverseMatrix(cyclicShift(d!, N / 8 * 3)));
    const scale = Math.max(...Array.from(a, Math.abs));
    assert.ok(scale > 0);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * scale + 1e-7, `dim ${i}: ${a[i]} vs ${b[i]}`);
    // …while a single view's embedding does depend on the start point (what averaging is for).
    const single = (m: Float32Array) => noGrad(() => tidy(() => model.embed(tensor(m, [1, 1, N, N])).toArray() as Float32Array));
    const s0 = single(d!), s1 = single(cyclicShift(d!, 3));
    assert.ok(s0.some((v, i) => Math.abs(v - s1[i]) > 1e-4 * scale));
  } finally {
    model.dispose();
  }

  const r = spawnSync(process.execPath, [join(root, "bin/bie.js"), "shapes", "reconstruct", runDir, "count=6"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /test shapes: mean IoU [01]\.\d{3}, median point RMS [\d.]+ pixels/);
  const json = JSON.parse(readFileSync(join(runDir, "shape_recon.json"), "utf8"));
  assert.equal(json.units, "pixels");
  assert.equal(json.rows.length, json.items);
  for (const row of json.rows) assert.ok(row.iou >= 0 && row.iou <= 1 && row.rms >= 0, JSON.stringify(row));
  const svg = readFileSync(join(runDir, "shape_recon.svg"), "utf8");
  assert.equal((svg.match(/<polygon /g) ?? []).length, 12); // 6 shapes × (input, decoded)
  // Bad option: named, exit code 2, nothing written.
  const bad = spawnSync(process.execPath, [join(root, "bin/bie.js"), "shapes", "reconstruct", runDir, "parts=val", `out=${join(work, "nope")}`], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /parts/);
  assert.ok(!existsSync(join(work, "nope.svg")));
  // Same for shapes evaluate: a mistyped option is named with the nearest one, before any work.
  const typo = spawnSync(process.execPath, [join(root, "bin/bie.js"), "shapes", "evaluate", runDir, "lables=label_well", `out=${join(work, "nope")}`], { encoding: "utf8" });
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /'lables'.*did you mean 'labels'/);
  assert.ok(!existsSync(join(work, "nope.json")));
});
