// Loader and augmentation on real Jurkat crops (the 300-cell demo sample): seeded determinism, exact flips,
// batches independent of the worker count, resume by startBatch, channels-as-batch shapes.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "../src/config/index.ts";
import { Dataset, Loader, dataForConfig, prepareItem, type Batch } from "../src/data/index.ts";
import { drawGeometry, itemSeed } from "../src/data/augment.ts";
import { normaliseImage } from "../src/data/normalise.ts";
import { readImage } from "../src/io/image.ts";

const DEMO = fileURLToPath(new URL("../demo-data/jurkat/manifest.csv", import.meta.url));
const cfgWith = (...ov: string[]) => resolveConfig({ overrides: [`data.path=${DEMO}`, ...ov], uniqueName: false });
const opened: Dataset[] = [];
after(() => Promise.all(opened.map((d) => d.close())));
async function open(...ov: string[]) {
  const ds = await Dataset.open(cfgWith(...ov).data);
  opened.push(ds);
  return ds;
}

async function prep(ds: Dataset, index: number, aug: { seed: number; epoch: number } | null) {
  const { channels, height, width } = ds.prep;
  const out = new Float32Array(channels * height * width);
  await prepareItem(ds.items[index].path, index, ds.prep, aug, out, 0);
  return out;
}

async function collect(loader: Loader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test("normalisation clips each channel at its 1st/99.8th percentile; prepared images stay in [0,1]", async () => {
  const ds = await open();
  const img = await readImage(ds.items[0].path);
  const planes = normaliseImage(img, "percentile", 1, 99.8);
  const n = img.width * img.height;
  for (let c = 0; c < 3; c++) {
    const raw = Array.from(img.data.subarray(c * n, (c + 1) * n) as Uint16Array);
    const sorted = [...raw].sort((a, b) => a - b);
    const pct = (q: number) => {
      const r = (q / 100) * (n - 1), k = Math.floor(r);
      return sorted[k] + (r - k) * (sorted[Math.min(k + 1, n - 1)] - sorted[k]);
    };
    const [lo, hi] = [pct(1), pct(99.8)];
    const worst = raw.reduce((m, v, i) => Math.max(m, Math.abs(planes[c * n + i] - Math.min(1, Math.max(0, (v - lo) / (hi - lo))))), 0);
    assert.ok(worst < 1e-6, `channel ${c}: off by ${worst}`);
    assert.equal(Math.max(...planes.subarray(c * n, (c + 1) * n)), 1);
  }
  const x = await prep(ds, 0, null);
  assert.equal(x.length, 3 * 64 * 64);
  // Bilinear upsampling (40 → 64 px) can only average, so the range stays inside [0,1].
  assert.ok(x.every((v) => v >= 0 && v <= 1));
});

test("augmentation: same (seed, epoch, item) same pixels; another seed or epoch other pixels; off = plain resize", async () => {
  const ds = await open("data.augment.rotate_deg=30", "data.augment.crop_scale=[0.5,1]", "data.augment.elastic_alpha=10", "data.augment.noise_std=0.05", "data.augment.brightness=0.1", "data.augment.contrast=0.2");
  const a = await prep(ds, 5, { seed: 1, epoch: 3 });
  const b = await prep(ds, 5, { seed: 1, epoch: 3 });
  assert.deepEqual(a, b);
  assert.ok(maxAbsDiff(a, await prep(ds, 5, { seed: 2, epoch: 3 })) > 0.1, "another seed must change the pixels");
  assert.ok(maxAbsDiff(a, await prep(ds, 5, { seed: 1, epoch: 4 })) > 0.1, "another epoch must change the pixels");
  const plain = await prep(ds, 5, null);
  assert.ok(maxAbsDiff(a, plain) > 0.1);
  assert.deepEqual(await prep(ds, 5, null), plain);
});

test("flips and quarter turns are exact pixel permutations", async () => {
  const ds = await open("data.augment.hflip=true", "data.augment.vflip=false", "data.augment.rot90=false");
  const plain = await prep(ds, 10, null);
  const mirrored = new Float32Array(plain.length);
  for (let c = 0; c < 3; c++) for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) mirrored[c * 4096 + y * 64 + x] = plain[c * 4096 + y * 64 + 63 - x];
  const seen = new Set<string>();
  for (let seed = 0; seed < 12; seed++) {
    const out = await prep(ds, 10, { seed, epoch: 0 });
    const flipped = drawGeometry(ds.prep.augment, itemSeed(seed, 0, 10), true).m[0] === -1;
    assert.ok(maxAbsDiff(out, flipped ? mirrored : plain) < 1e-6, `seed ${seed}`);
    seen.add(String(flipped));
  }
  assert.equal(seen.size, 2, "both outcomes should occur in 12 draws");
  // A quarter turn in either direction, depending on the draw.
  const rot = await open("data.augment.hflip=false", "data.augment.vflip=false", "data.augment.rot90=true");
  for (let seed = 0; seed < 8; seed++) {
    const m = drawGeometry(rot.prep.augment, itemSeed(seed, 0, 10), true).m;
    if (m[0] !== 0) continue;
    const out = await prep(rot, 10, { seed, epoch: 0 });
    for (let y = 0; y < 64; y += 7)
      for (let x = 0; x < 64; x += 5) {
        // m maps output offsets to source offsets: [0,-1,1,0] reads source (row x, col 63-y).
        const src = m[1] === -1 ? plain[x * 64 + (63 - y)] : plain[(63 - x) * 64 + y];
        assert.ok(Math.abs(out[y * 64 + x] - src) < 1e-6, `rot90 seed ${seed} at ${y},${x}`);
      }
  }
});

test("the batches of an epoch do not depend on the number of workers", async () => {
  const cfg = cfgWith("batch_size=32", "data.augment.rotate_deg=20", "data.augment.noise_std=0.02");
  const runs: Batch[][] = [];
  for (const workers of [0, 2]) {
    const ds = await open("batch_size=32", "data.augment.rotate_deg=20", "data.augment.noise_std=0.02");
    const idx = ds.items.map((_, i) => i);
    runs.push(await collect(new Loader(ds, idx, { batchSize: 32, shuffle: true, augment: true, seed: cfg.seed, epoch: 1, workers, prefetch: 3 })));
  }
  const [inProcess, threaded] = runs;
  assert.equal(inProcess.length, Math.ceil(300 / 32));
  assert.equal(threaded.length, inProcess.length);
  for (let b = 0; b < inProcess.length; b++) {
    assert.deepEqual(threaded[b].indices, inProcess[b].indices, `batch ${b} order`);
    assert.deepEqual(threaded[b].shape, inProcess[b].shape);
    assert.ok(Buffer.from(threaded[b].x.buffer).equals(Buffer.from(inProcess[b].x.buffer)), `batch ${b} pixels differ`);
  }
  // Every item exactly once; a shuffled order.
  const all = inProcess.flatMap((b) => b.indices);
  assert.deepEqual([...all].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i));
  assert.notDeepEqual(all, [...all].sort((a, b) => a - b));
});

test("order depends on (seed, epoch) only; startBatch resumes with the same batches", async () => {
  const ds = await open();
  const idx = ds.items.map((_, i) => i);
  const mk = (o: Partial<ConstructorParameters<typeof Loader>[2]>) => new Loader(ds, idx, { batchSize: 16, shuffle: true, augment: true, seed: 42, epoch: 0, dropLast: true, ...o });
  assert.deepEqual(mk({}).plan(), mk({}).plan());
  assert.notDeepEqual(mk({ epoch: 1 }).plan(), mk({}).plan());
  assert.notDeepEqual(mk({ seed: 43 }).plan(), mk({}).plan());
  assert.equal(mk({}).length, Math.floor(300 / 16)); // dropLast drops the 12-item tail
  const full = await collect(mk({ epoch: 2 }));
  const resumed = await collect(mk({ epoch: 2, startBatch: 10 }));
  assert.equal(resumed.length, full.length - 10);
  resumed.forEach((b, k) => {
    assert.equal(b.batch, 10 + k);
    assert.deepEqual(b.indices, full[10 + k].indices);
    assert.deepEqual(b.x, full[10 + k].x);
  });
});

test("dataForConfig: split loaders, wait statistics, channels-as-batch shapes", async () => {
  const d = await dataForConfig(cfgWith("batch_size=16", "data.workers=1"));
  try {
    assert.equal(d.split.train.length + d.split.val.length + d.split.test.length, 300);
    const train = d.loader("train", { epoch: 0 });
    const batches = await collect(train);
    assert.equal(batches.length, Math.floor(d.split.train.length / 16));
    assert.deepEqual(batches[0].shape, [16, 3, 64, 64]);
    assert.equal(train.stats.batches, batches.length);
    assert.ok(train.stats.waitMs >= 0);
    const val = await collect(d.loader("val"));
    assert.deepEqual(val.flatMap((b) => b.indices), d.split.val); // dataset order, nothing dropped
  } finally {
    await d.close();
  }
  const ds = await open("data.channel_mode=batch");
  assert.equal(ds.inputChannels, 1);
  const [b] = await collect(new Loader(ds, [0, 1, 2], { batchSize: 3 }));
  assert.deepEqual(b.shape, [9, 1, 64, 64]);
  const stacked = await prep(ds, 1, null);
  assert.deepEqual(b.x.subarray(3 * 4096, 6 * 4096), stacked); // rows 3..5 are item 1's channels
});

test("data-parallel shards split every global batch between ranks without overlap", async () => {
  const ds = await open();
  const idx = ds.items.map((_, i) => i);
  const mk = (shard?: { rank: number; count: number }) => new Loader(ds, idx, { batchSize: 16, shuffle: true, seed: 42, epoch: 3, dropLast: true, shard });
  const global = mk().plan();
  const [r0, r1, r2] = [0, 1, 2].map((rank) => mk({ rank, count: 3 }).plan());
  assert.equal(r0.length, global.length);
  global.forEach((b, k) => assert.deepEqual([...r0[k], ...r1[k], ...r2[k]], b, `batch ${k}`));
  assert.deepEqual(mk({ rank: 0, count: 1 }).plan(), global);
});
