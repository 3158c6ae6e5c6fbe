// Datasets over big images (data.tiles) on the shared OME-Zarr / OME-TIFF samples: the tile plan per (seed,
// epoch), object crops centred on their objects, file-level groups in the split, z max-projection and planes,
// T as items, whole-image intensity ranges, and channel_mode=batch over images with different channel counts.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "../src/config/index.ts";
import { Dataset, Loader, dataForConfig, splitItems, type Batch } from "../src/data/index.ts";
import { channelRange } from "../src/data/normalise.ts";
import { openImageSource } from "../src/io/source.ts";
import { labelObjects } from "../src/io/tiles.ts";
import { tempDir } from "./temp-dir.ts";

const DATA = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const GEN = DATA + "format_samples/generated/";
const ZARR = GEN + "coelho_gnf_dna-4_blosc.ome.zarr";
const TIFF = GEN + "bbbc010_A01_2ch_tiled_zlib_pyramid.ome.tif";
const ZARR_5D = fileURLToPath(new URL("./fixtures/io/zarr/ome_5d_u16_be_zlib.ome.zarr", import.meta.url));
const work = tempDir("tiles");

const opened: Dataset[] = [];
after(() => Promise.all(opened.map((d) => d.close())));
async function open(seed: number, ...ov: string[]) {
  const cfg = resolveConfig({ overrides: ["data.image_size=32", "data.workers=0", ...ov], uniqueName: false });
  const ds = await Dataset.open(cfg.data, { seed });
  opened.push(ds);
  return ds;
}
async function collect(loader: Loader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

test("random tiles: the plan is fixed by (seed, epoch), differs per epoch, and val/embedding read the epoch-0 draw", async () => {
  const ds = await open(7, `data.path=${ZARR}`, "data.tiles.per_image=12");
  assert.equal(ds.tileMode, "random"); // auto: an OME-Zarr store
  assert.equal(ds.items.length, 12);
  const plan = (seed: number, epoch: number) => ds.items.map((_, i) => ds.taskItem(i, { seed, epoch }).region);
  assert.deepEqual(plan(7, 3), plan(7, 3));
  assert.notDeepEqual(plan(7, 3), plan(7, 4));
  assert.notDeepEqual(plan(8, 3), plan(7, 3));
  assert.deepEqual(plan(7, 0), ds.items.map((_, i) => ds.taskItem(i, null).region)); // unaugmented = epoch 0
  for (const r of plan(7, 5)) assert.ok(r && r.y0 >= 0 && r.x0 >= 0 && r.y0 + 32 <= 1030 && r.x0 + 32 <= 1349 && r.h === 32);
  // Metadata columns for the embedding tables: the epoch-0 position.
  const r0 = ds.items[3].tile!.region;
  assert.deepEqual(
    { file: ds.items[3].meta.file, y0: ds.items[3].meta.y0, x0: ds.items[3].meta.x0, level: ds.items[3].meta.level, t: ds.items[3].meta.t, z: ds.items[3].meta.z },
    { file: "coelho_gnf_dna-4_blosc", y0: String(r0.y0), x0: String(r0.x0), level: "0", t: "0", z: "max" },
  );

  // The same batches through worker threads as on the calling thread, and other pixels in another epoch.
  const idx = ds.items.map((_, i) => i);
  const mk = (workers: number, epoch: number) => new Loader(ds, idx, { batchSize: 4, shuffle: true, augment: true, seed: 7, epoch, workers });
  const [a, b, c] = [await collect(mk(0, 1)), await collect(mk(1, 1)), await collect(mk(0, 2))];
  assert.deepEqual(a.map((x) => x.indices), b.map((x) => x.indices));
  a.forEach((x, k) => assert.deepEqual(x.x, b[k].x, `batch ${k}`));
  assert.notDeepEqual(a[0].x, c[0].x);
  assert.deepEqual(a[0].shape, [4, 1, 32, 32]);
});

test("object crops from the Coelho nucleus labels are centred on their objects", async () => {
  const ds = await open(0, `data.path=${ZARR}`, "data.tiles.mode=objects", "data.tiles.label=nuclei", "data.tiles.size=64");
  const src = await openImageSource(ZARR);
  const labels = await src.openLabel("nuclei");
  const objs = new Map((await labelObjects(labels)).map((o) => [o.label, o]));
  assert.equal(ds.items.length, objs.size);
  let centred = 0;
  for (const it of ds.items) {
    const o = objs.get(Number(it.meta.object))!;
    const r = it.tile!.region;
    const clampedY = r.y0 === 0 || r.y0 + 64 === 1030, clampedX = r.x0 === 0 || r.x0 + 64 === 1349;
    // Centre of the crop vs the object's centroid (pixel centres at +0.5): within rounding unless clamped at a border.
    if (!clampedY) assert.ok(Math.abs(r.y0 + 32 - (o.centroid[0] + 0.5)) <= 0.5, `object ${o.label}: y`);
    if (!clampedX) assert.ok(Math.abs(r.x0 + 32 - (o.centroid[1] + 0.5)) <= 0.5, `object ${o.label}: x`);
    if (clampedY || clampedX) continue;
    centred++;
    const lab = await labels.readRegion({ y0: r.y0 + 30, x0: r.x0 + 30, h: 4, w: 4 });
    assert.ok(lab.some((v) => v === o.label), `object ${o.label} covers the crop's centre`);
  }
  assert.ok(centred >= 20, `${centred} crops away from the border`);
  const small = await open(0, `data.path=${ZARR}`, "data.tiles.mode=objects", "data.tiles.size=64", "data.tiles.min_area=2000");
  assert.equal(small.items.length, [...objs.values()].filter((o) => o.area >= 2000).length);
  await src.close();
});

test("a folder of OME files: tiles grouped by file in the split, grid tiles, mixed channel counts in batch mode", async () => {
  const ds = await open(1, `data.path=${GEN}`, "data.tiles.per_image=6", "data.channel_mode=batch");
  assert.equal(ds.items.length, 4 * 6); // 2 OME-TIFFs (2 channels) + 2 OME-Zarr stores (1 channel)
  assert.deepEqual([...ds.channelCounts].sort(), [1, 2]);
  const split = splitItems(ds.items, { train: 0.5, val: 0.25, test: 0.25, seed: 3 });
  const partOf = new Map<string, string>();
  for (const part of ["train", "val", "test"] as const)
    for (const i of split[part]) {
      const f = ds.items[i].meta.file;
      assert.equal(partOf.get(f) ?? part, part, `tiles of ${f} in two parts`);
      partOf.set(f, part);
    }
  // One batch over both kinds of file: rows per item = its channels.
  const [b] = await collect(new Loader(ds, [0, 23], { batchSize: 2 }));
  assert.deepEqual(b.itemRows, [ds.items[0].tile!.channels, ds.items[23].tile!.channels]);
  assert.deepEqual(b.shape, [b.itemRows!.reduce((a, r) => a + r), 1, 32, 32]);

  // Grid at pyramid level 1 (260×348) of the tiled OME-TIFF, with a stride: positions as gridTiles gives them.
  const grid = await open(0, `data.path=${TIFF}`, "data.tiles.mode=grid", "data.tiles.level=1", "data.tiles.size=64", "data.tiles.stride=100");
  const ys = [...new Set(grid.items.map((it) => it.tile!.region.y0))], xs = [...new Set(grid.items.map((it) => it.tile!.region.x0))];
  assert.deepEqual(ys, [0, 100, 196]);
  assert.deepEqual(xs, [0, 100, 200, 284]);
  assert.equal(grid.items.length, 12);
  assert.deepEqual(grid.inputChannels, 2);
});

test("z max-projection, z planes and time points as items (5-D OME-Zarr t=2 c=2 z=3)", async () => {
  const src = await openImageSource(ZARR_5D);
  const planes = await open(0, `data.path=${ZARR_5D}`, "data.tiles.mode=whole", "data.z_stack=planes", "data.tiles.normalise=tile");
  assert.deepEqual(planes.items.map((it) => `${it.meta.t}/${it.meta.z}`), ["0/0", "0/1", "0/2", "1/0", "1/1", "1/2"]);
  const max = await open(0, `data.path=${ZARR_5D}`, "data.tiles.mode=whole");
  assert.deepEqual(max.items.map((it) => `${it.meta.t}/${it.meta.z}`), ["0/max", "1/max"]);
  // The projected item's pixels are the maximum over z of the planes.
  const { readItemPixels } = await import("../src/data/index.ts");
  const projected = await readItemPixels(max.taskItem(1, null));
  const zs = await Promise.all([0, 1, 2].map((z) => src.readRegion({ t: 1, z, y0: 0, x0: 0, h: 20, w: 18 })));
  assert.deepEqual(Array.from(projected.data), Array.from(zs[0], (_, i) => Math.max(zs[0][i], zs[1][i], zs[2][i])));
  // Random tiles in planes mode draw t and z.
  const rnd = await open(0, `data.path=${ZARR_5D}`, "data.z_stack=planes", "data.tiles.size=8", "data.tiles.per_image=40");
  const seen = new Set(rnd.items.map((it) => `${it.tile!.region.t}/${it.tile!.region.z}`));
  assert.equal(seen.size, 6);
  await src.close();
});

test("tiles are scaled by their image's intensity range, measured on its coarsest level", async () => {
  const ds = await open(0, `data.path=${ZARR}`, "data.tiles.per_image=4");
  const src = await openImageSource(ZARR);
  const s = src.shapes[2];
  const coarse = await src.readRegion({ level: 2, y0: 0, x0: 0, h: s.y, w: s.x });
  assert.deepEqual(ds.items[0].tile!.range, [channelRange(coarse, "uint8", "percentile", 1, 99.8)]);
  await src.close();
});

test("channel_mode=batch over whole images with 3 (Jurkat) and 1 (BBBC010 TIFF) channels", async () => {
  const csv = join(work, "mixed.csv");
  const bbbc = DATA + "bbbc010/images/1649_1109_0003_Amp5-1_B_20070424_A01_w1_9E84F49F-1B25-4E7E-8040-D1BB2D7E73EA.tif";
  writeFileSync(csv, `path,label\n${DATA}jurkat/cells_exp1/G1/0100.tif,G1\n${bbbc},worm\n`);
  const d = await dataForConfig(resolveConfig({ overrides: [`data.path=${csv}`, "data.image_size=32", "data.workers=0", "data.channel_mode=batch"], uniqueName: false }));
  try {
    const [b] = await collect(d.loader("all"));
    assert.deepEqual(b.itemRows, [3, 1]);
    assert.deepEqual(b.shape, [4, 1, 32, 32]);
  } finally {
    await d.close();
  }
  // In stack mode the second image is an error naming it.
  const s = await dataForConfig(resolveConfig({ overrides: [`data.path=${csv}`, "data.image_size=32", "data.workers=0"], uniqueName: false }));
  try {
    await assert.rejects(collect(s.loader("all")), (e: Error & { file?: string }) => e.file === bbbc && /1 channel\(s\) but 3/.test(e.message));
  } finally {
    await s.close();
  }
});

test("a file smaller than the tile, or without the level or label asked for, is a bad input (skippable)", async () => {
  const multi = DATA + "format_samples/viv_fixtures/multi-channel.ome.tif"; // 167×439, one level
  await assert.rejects(open(0, `data.path=${multi}`, "data.tiles.mode=random", "data.tiles.size=200"), (e: Error & { file?: string }) => e.file === multi && /smaller than the 200×200 tile/.test(e.message));
  await assert.rejects(open(0, `data.path=${multi}`, "data.tiles.mode=grid", "data.tiles.level=1"), /has 1 resolution level/);
  await assert.rejects(open(0, `data.path=${TIFF}`, "data.tiles.mode=objects"), /has no label image/);
  const csv = join(work, "some-bad.csv");
  writeFileSync(csv, `path\n${multi}\n${TIFF}\n`);
  const ds = await open(0, `data.path=${csv}`, "data.tiles.mode=grid", "data.tiles.size=200", "data.skip_bad=true");
  assert.deepEqual([...new Set(ds.items.map((it) => it.path))], [TIFF]);
  assert.equal(ds.skipped.length, 1);
  assert.match(ds.skipped[0].reason, /smaller than/);
});
