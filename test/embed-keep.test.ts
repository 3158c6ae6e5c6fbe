// A long-lived worker keeps the loaded model between embedding jobs of one run (src/train/embed.ts). It must be
// reused only while nothing it was built from changed: the same checkpoint file, the same settings.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { checkpointOf, embedRun, loadRunModel, releaseKeptModel } from "../src/train/index.ts";
import { readNpy } from "../src/io/npy.ts";
import { jurkatManifest, trainTinyRun } from "./scale-helpers.ts";
import { tempDir } from "./temp-dir.ts";

const work = tempDir("embed-keep");
after(() => releaseKeptModel());

test("a kept model is reused for the same run and settings, rebuilt when the checkpoint or a setting changes, and embeds as a fresh one", { timeout: 300_000 }, async () => {
  const run = await trainTinyRun(work);
  const cells = jurkatManifest(join(work, "cells.csv"), 40);
  const data = [`data.path=${cells}`];
  const a = await loadRunModel(run, data, { keep: true });
  const b = await loadRunModel(run, [...data, "data.workers=0"], { keep: true }); // where the data is read: same model
  assert.equal(b.model, a.model, "same run, same settings: the kept model");
  const c = await loadRunModel(run, [...data, "engine.memory_format=contiguous"], { keep: true });
  assert.notEqual(c.model, b.model, "another setting: a new model");
  const d = await loadRunModel(run, [...data, "engine.memory_format=contiguous"], { keep: true });
  assert.equal(d.model, c.model);
  // The checkpoint rewritten (a training resumed beside the worker): its mtime changes, so the model is rebuilt.
  const ckpt = checkpointOf(run);
  copyFileSync(ckpt, `${ckpt}.copy`);
  copyFileSync(`${ckpt}.copy`, ckpt);
  utimesSync(ckpt, new Date(), new Date(Date.now() + 5000));
  const e = await loadRunModel(run, [...data, "engine.memory_format=contiguous"], { keep: true });
  assert.notEqual(e.model, d.model, "a rewritten checkpoint: a new model");
  for (const loaded of [a, b, c, d, e]) await loaded.src.close();
  releaseKeptModel();

  // Two embeddings through a kept model give the same bytes as one without keeping.
  await embedRun(run, data, { outDir: join(work, "kept1"), keepModel: true });
  await embedRun(run, data, { outDir: join(work, "kept2"), keepModel: true });
  await embedRun(run, data, { outDir: join(work, "fresh") });
  const [k1, k2, f] = await Promise.all(["kept1", "kept2", "fresh"].map((o) => readNpy(join(work, o, "embeddings.npy"))));
  assert.deepEqual(k1.shape, [40, 16]);
  assert.deepEqual(Array.from(k2.data as Float32Array), Array.from(k1.data as Float32Array));
  assert.deepEqual(Array.from(f.data as Float32Array), Array.from(k1.data as Float32Array));
});
