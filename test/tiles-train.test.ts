// Tiny end-to-end runs (32 px, 1 epoch, 1 thread) on tiles of the shared OME samples and on Jurkat crops in
// channel_mode=batch: training finishes, and the embedding tables hold one row per item with the tile columns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parquetReadObjects } from "hyparquet";
import { resolveConfig } from "../src/config/index.ts";
import { embedRun, trainFromConfig } from "../src/train/index.ts";
import { channelPoolFor, poolItemRows } from "../src/train/channel-pool.ts";
import { tempDir } from "./temp-dir.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const GEN = join(root, "../shared/data/format_samples/generated/");
const ZARR = GEN + "coelho_gnf_dna-4_blosc.ome.zarr";
const TIFF = GEN + "bbbc010_A01_2ch_tiled_zlib_pyramid.ome.tif";
const work = tempDir("tiles-train");
const tiny = ["model=resnet18_ae", "latent_dim=8", "data.image_size=32", "batch_size=4", "epochs=1", "engine.threads=1", "data.workers=1", "optim.warmup_epochs=0", `runs_dir=${work}`];

async function trainAndEmbed(name: string, ...ov: string[]) {
  const cfg = resolveConfig({ overrides: [...tiny, `name=${name}`, ...ov], uniqueName: false });
  const { runDir, info } = await trainFromConfig(cfg);
  assert.equal(info.status, "finished");
  assert.ok(Number.isFinite(info.best_val_loss));
  const r = await embedRun(runDir);
  const index = readFileSync(join(r.outDir, "index.csv"), "utf8").trim().split("\n").map((l) => l.split(","));
  const rows = await parquetReadObjects({ file: toArrayBuffer(readFileSync(join(r.outDir, "embeddings.parquet"))) });
  assert.equal(rows.length, r.rows);
  assert.equal(index.length - 1, r.rows);
  return { r, header: index[0], index: index.slice(1), rows };
}
const toArrayBuffer = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

test("random tiles of the OME-Zarr sample: train 1 epoch, embed with file/level/t/z/y0/x0 columns", { timeout: 120_000 }, async () => {
  const { r, header, index } = await trainAndEmbed("zarr", `data.path=${ZARR}`, "data.tiles.per_image=12");
  assert.equal(r.rows, 12);
  assert.equal(r.dim, 8);
  for (const col of ["file", "level", "t", "z", "y0", "x0", "h", "w"]) assert.ok(header.includes(col), `index.csv has ${col}`);
  const at = (row: string[], col: string) => row[header.indexOf(col)];
  assert.ok(index.every((row) => at(row, "file") === "coelho_gnf_dna-4_blosc" && at(row, "z") === "max" && at(row, "h") === "32"));
});

test("tiles of the tiled OME-TIFF (2 channels) and the OME-Zarr (1 channel) train together in channel_mode=batch", { timeout: 120_000 }, async () => {
  const csv = join(work, "ome.csv");
  writeFileSync(csv, `path\n${TIFF}\n${ZARR}\n`);
  const { r, index, header } = await trainAndEmbed(
    "mixed", `data.path=${csv}`, "data.channel_mode=batch", "data.tiles.per_image=6", "data.tiles.level=1",
    "contrastive.weight=0.1", // the channels of one tile are positives: rows per item vary (2 or 1)
  );
  assert.equal(r.rows, 12);
  assert.equal(r.dim, 8); // embed.channel_pool=auto: mean over channels, as the channel counts differ
  assert.deepEqual([...new Set(index.map((row) => row[header.indexOf("level")]))], ["1"]);
});

test("Jurkat crops in channel_mode=batch: train and embed (per-channel embeddings concatenated)", { timeout: 120_000 }, async () => {
  const lines = readFileSync(join(root, "demo-data/jurkat/manifest.csv"), "utf8").trim().split("\n");
  const csv = join(work, "jurkat.csv");
  const rows = lines.slice(1).filter((_, i) => i % 12 === 0).slice(0, 16).map((l) => l.replace(/^([^,]+)/, (p) => join(root, "demo-data/jurkat", p)));
  writeFileSync(csv, [lines[0], ...rows].join("\n") + "\n");
  const { r } = await trainAndEmbed("jurkat", `data.path=${csv}`, "data.channel_mode=batch");
  assert.equal(r.rows, 16);
  assert.equal(r.dim, 3 * 8);
});

test("per-item channel pooling: concat keeps rows, mean averages them, concat over unequal counts names the item", () => {
  const z = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]); // 4 rows of D=2: item 0 has 3 channels, item 1 has 1
  assert.deepEqual(Array.from(poolItemRows(z, [3, 1], "mean", 3, String)), [3, 4, 7, 8]);
  assert.deepEqual(poolItemRows(z.subarray(0, 6), [3], "concat", 3, String), z.subarray(0, 6));
  assert.throws(() => poolItemRows(z, [3, 1], "concat", 3, (i) => `item ${i}`), /item 1 has 1 channel.*embed.channel_pool=mean/);
  assert.equal(channelPoolFor("auto", [3]), "concat");
  assert.equal(channelPoolFor("auto", [1, 2]), "mean");
  assert.equal(channelPoolFor("concat", [1, 2]), "concat");
});
