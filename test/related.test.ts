// Related views (issue 13 part 1, issue 7 part 3): group keys from manifest columns, the group batch sampler
// (every item once per epoch, members of a group together), the latent that lossTerms returns, and a real
// Jurkat run in channel_mode=batch with the channel contrastive term that trains and embeds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createModel } from "../src/models/index.ts";
import "../src/models/vit/index.ts";
import { noGrad, tidy, randn, manualSeed } from "../src/engine/index.ts";
import { resolveConfig } from "../src/config/index.ts";
import { sourceForConfig } from "../src/train/source.ts";
import { itemGroupKeys, relatedViews } from "../src/train/related.ts";
import { groupBatchPlan } from "../src/train/related-sampler.ts";
import { readNpy } from "../src/io/npy.ts";
import { run } from "../src/cli/program.ts";
import type { Item, Loader } from "../src/data/index.ts";
import { tempDir } from "./temp-dir.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const work = tempDir("related");
const quiet = { out: { write: () => true }, err: { write: () => true } };

/** A manifest of demo Jurkat cells with extra columns: plate (2 values) and well (6 values). */
function manifest(n: number): string {
  const lines = readFileSync(join(root, "demo-data/jurkat/manifest.csv"), "utf8").trim().split("\n");
  const rows = lines.slice(1, n + 1).map((l, i) => `${l.replace(/^([^,]+)/, (p) => join(root, "demo-data/jurkat", p))},P${i % 2},W${i % 6}`);
  const file = join(work, `cells${n}.csv`);
  writeFileSync(file, [`${lines[0]},plate,well`, ...rows].join("\n") + "\n");
  return file;
}

const item = (id: string, meta: Record<string, string>, label: string | null = null): Item => ({ id, path: id, label, group: null, meta });

test("group keys: rows agreeing on every listed column share a key; empty values stand alone; unknown columns are named", () => {
  const items = [item("a", { well: "A1", z: "0" }), item("b", { well: "A1", z: "1" }), item("c", { well: "A1", z: "0" }), item("d", { well: "", z: "0" }), item("e", { well: "", z: "0" })];
  const byWell = itemGroupKeys(items, ["well"])!;
  assert.equal(byWell[0], byWell[1]);
  assert.equal(byWell[0], byWell[2]);
  assert.notEqual(byWell[3], byWell[4], "empty values have no positives");
  const byWellZ = itemGroupKeys(items, ["well", "z"])!;
  assert.equal(byWellZ[0], byWellZ[2]);
  assert.notEqual(byWellZ[0], byWellZ[1]);
  assert.throws(() => itemGroupKeys(items, ["plate"]), /'plate' is not a manifest column \(columns: label, group, id, well, z/);
  const byLabel = itemGroupKeys([item("x", {}, "G1"), item("y", {}, "G1"), item("w", {}, "S")], ["label"])!;
  assert.deepEqual(Array.from(byLabel), [0, 0, 1]);
});

test("group sampler: every item once per epoch, seeded per epoch, K members of a group per chunk", () => {
  const n = 203;
  const keys = Int32Array.from({ length: n }, (_, i) => i % 29); // 29 groups of 7
  const indices = Array.from({ length: n }, (_, i) => i);
  const a = groupBatchPlan(indices, keys, 4, 16, 42, 0);
  assert.deepEqual(a.flat().sort((x, y) => x - y), indices, "a permutation of the part");
  assert.deepEqual(groupBatchPlan(indices, keys, 4, 16, 42, 0), a, "same (seed, epoch), same plan");
  assert.notDeepEqual(groupBatchPlan(indices, keys, 4, 16, 42, 1), a, "a new plan per epoch");
  // 29 full chunks of 4 come first and fill whole batches: in those, every row has 3 positives.
  for (const b of a.slice(0, 7)) {
    assert.equal(b.length, 16);
    const count = new Map<number, number>();
    for (const i of b) count.set(keys[i], (count.get(keys[i]) ?? 0) + 1);
    assert.deepEqual([...count.values()], [4, 4, 4, 4]);
  }
  // Overall, rows with at least one positive in their batch: the point of the sampler (plain shuffle: ~40%).
  const withPos = a.reduce((s, b) => s + b.filter((i) => b.some((j) => j !== i && keys[j] === keys[i])).length, 0);
  assert.ok(withPos / n > 0.95, `${withPos}/${n}`);
});

test("the trainer's source uses the group sampler for manifest groups; channel groups need channel_mode=batch", async () => {
  const file = manifest(48);
  const cfg = resolveConfig({ overrides: [`data.path=${file}`, "contrastive.weight=0.1", "contrastive.groups=[well]", "contrastive.per_group=4", "batch_size=8", "data.workers=0", "data.image_size=32"] });
  const src = await sourceForConfig(cfg);
  try {
    const plan = (src.loader("train", { epoch: 0 }) as unknown as Loader).plan(); // an image source's loader is a Loader
    const keys = relatedViews(cfg, src.items, src.channelsPerItem)!.itemKeys!;
    for (const b of plan.slice(0, 3)) {
      const counts = new Map<number, number>();
      for (const i of b) counts.set(keys[i], (counts.get(keys[i]) ?? 0) + 1);
      assert.ok([...counts.values()].every((c) => c >= 2), `batch ${b} keeps groups together`);
    }
    const groups = relatedViews(cfg, src.items, src.channelsPerItem)!.rowGroups([3, 9, 4], 1);
    assert.deepEqual(Array.from(groups), [keys[3], keys[9], keys[4]]);
  } finally {
    await src.close();
  }
  const stack = resolveConfig({ overrides: [`data.path=${file}`, "contrastive.weight=0.1"] });
  assert.throws(() => relatedViews(stack, [], 1), /'channel' relates the channels of one image, which needs data.channel_mode=batch/);
  const off = resolveConfig({ overrides: [`data.path=${file}`] });
  assert.equal(relatedViews(off, [], 1), null, "weight 0 = off");
  const batchCfg = resolveConfig({ overrides: [`data.path=${file}`, "contrastive.weight=0.1", "data.channel_mode=batch"] });
  assert.deepEqual(Array.from(relatedViews(batchCfg, [], 3)!.rowGroups([5, 2], 3)), [5, 5, 5, 2, 2, 2], "rows of one image share its group");
});

test("lossTerms returns the latent of the same forward pass: equal to embed() in eval mode, for AE, VAE, VQ-VAE and MAE", () => {
  manualSeed(3);
  for (const name of ["resnet18_ae", "resnet18_vae", "resnet18_vqvae", "vit_tiny_mae"]) {
    const m = createModel(name, { inChannels: 2, latentDim: 16, imageSize: [32, 32] });
    m.eval();
    tidy(() => noGrad(() => {
      const x = randn([3, 2, 32, 32]);
      const out = m.lossTerms(x);
      assert.ok(out.latent, `${name} gives a latent`);
      const a = out.latent!.toArray() as Float32Array;
      if (name === "vit_tiny_mae") assert.deepEqual(out.latent!.shape, [3, m.spec.latentDim]); // encodes only the visible patches
      else {
        const b = m.embed(x).toArray() as Float32Array;
        for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `${name}[${i}]: ${a[i]} vs ${b[i]}`);
      }
    }));
    m.dispose();
  }
});

test("channel_mode=batch with the channel contrastive term trains and embeds on real Jurkat crops", { timeout: 300_000 }, async () => {
  const file = manifest(16);
  const args = [`data.path=${file}`, "data.channel_mode=batch", "contrastive.weight=0.05", "contrastive.groups=[channel]", "model=resnet18_ae", "latent_dim=8", "data.image_size=32", "batch_size=4", "epochs=1", "data.workers=0", "engine.threads=1", "log_every=1", `runs_dir=${work}`, "name=channels", "optim.warmup_epochs=0"];
  assert.equal(await run(["train", ...args], quiet), 0);
  const dir = join(work, "channels");
  const rows = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const train = rows.filter((r) => r.split === "train");
  assert.ok(train.length >= 3 && train.every((r) => Number.isFinite(r.contrastive) && r.contrastive > 0), "the contrastive term is logged every step");
  assert.ok(train.every((r) => Math.abs(r.loss - (r.recon + 0.05 * r.contrastive)) < 1e-5), "loss = recon + weight × contrastive");
  assert.ok(rows.some((r) => r.split === "val" && Number.isFinite(r.contrastive)), "and in validation");
  assert.equal(await run(["embed", dir], quiet), 0);
  const { shape } = await readNpy(join(dir, "embeddings.npy"));
  assert.deepEqual(shape, [16, 3 * 8], "one row per image: its 3 channel embeddings side by side");
  assert.ok(existsSync(join(dir, "embeddings.parquet")));
});
