// Bad input: corrupt, truncated and mislabelled files, wrong channel counts, empty folders, broken manifests.
// Each must be a clear error naming the file (or config field), or, with data.skip_bad, a listed skip.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "../src/config/index.ts";
import { Dataset, Loader, listItems, writeSkippedList } from "../src/data/index.ts";
import { BadInputError, ConfigError } from "../src/errors.ts";
import { tempDir } from "./temp-dir.ts";

const shared = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const G1 = join(shared, "jurkat/cells_exp1/G1");
const MASKS = join(shared, "bbbc010/masks_eachworm");
const dataCfg = (...ov: string[]) => resolveConfig({ overrides: ov, uniqueName: false }).data;
const root = tempDir("bad");
const opened: Dataset[] = [];
after(() => Promise.all(opened.map((d) => d.close())));

/** root/<name>/{A,B}/ with real Jurkat crops, plus the given extra files in B/. */
function makeFolder(name: string, extra: Record<string, Uint8Array | string> = {}): string {
  const dir = join(root, name);
  const g1 = readdirSync(G1).slice(0, 6);
  for (const [k, cls] of ["A", "B"].entries()) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (const f of g1.slice(k * 3, k * 3 + 3)) copyFileSync(join(G1, f), join(dir, cls, f));
  }
  for (const [f, bytes] of Object.entries(extra)) writeFileSync(join(dir, "B", f), bytes);
  return dir;
}

const tif = readFileSync(join(G1, readdirSync(G1)[0]));
const corrupt = {
  "x_corrupt.png": Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from("not really a png at all")]),
  "y_truncated.tif": tif.subarray(0, 300),
  "z_text.tif": "hello, I am text\n",
};

async function drain(ds: Dataset, workers: number) {
  const seen: number[] = [];
  for await (const b of new Loader(ds, ds.items.map((_, i) => i), { batchSize: 4, workers })) seen.push(...b.indices);
  return seen;
}

for (const workers of [0, 1]) {
  test(`a corrupt file stops loading with a BadInputError naming it (workers=${workers})`, async () => {
    const dir = makeFolder(`corrupt${workers}`, corrupt);
    const ds = await Dataset.open(dataCfg(`data.path=${dir}`));
    opened.push(ds);
    await assert.rejects(drain(ds, workers), (e: unknown) => {
      assert.ok(e instanceof BadInputError, `got ${e}`);
      assert.equal(e.file, join(dir, "B/x_corrupt.png"));
      assert.match(e.message, /corrupt PNG/);
      return true;
    });
  });
}

test("with data.skip_bad the bad files are skipped, listed with reasons, and written out", async () => {
  const dir = makeFolder("skip", corrupt);
  const ds = await Dataset.open(dataCfg(`data.path=${dir}`, "data.skip_bad=true"));
  opened.push(ds);
  assert.equal(ds.length, 9);
  const seen = await drain(ds, 1);
  assert.equal(seen.length, 6);
  assert.ok(seen.every((i) => !ds.items[i].path.includes("_")), "only the good crops are in batches");
  assert.deepEqual(ds.skipped.map((s) => s.path.split("/").pop()), ["x_corrupt.png", "y_truncated.tif", "z_text.tif"]);
  assert.match(ds.skipped[1].reason, /TIFF/);
  assert.match(ds.skipped[2].reason, /not a PNG or TIFF/);
  const file = join(dir, "skipped.csv");
  assert.equal(writeSkippedList(ds, file), 3);
  assert.equal(readFileSync(file, "utf8").trim().split("\n").length, 4);
  // A second epoch does not list them twice.
  await drain(ds, 0);
  assert.equal(ds.skipped.length, 3);
});

test("an empty folder, a missing path and no path at all are clear errors", () => {
  const empty = join(root, "empty");
  mkdirSync(join(empty, "sub"), { recursive: true });
  writeFileSync(join(empty, "sub", "notes.txt"), "no images here");
  assert.throws(() => listItems(dataCfg(`data.path=${empty}`)), (e: unknown) => e instanceof BadInputError && e.file === empty && /no images found/.test(e.message));
  const missing = join(root, "nope");
  assert.throws(() => listItems(dataCfg(`data.path=${missing}`)), (e: unknown) => e instanceof BadInputError && e.file === missing && /does not exist/.test(e.message));
  assert.throws(() => listItems(dataCfg()), (e: unknown) => e instanceof ConfigError && e.field === "data.path");
});

test("a channel count different from data.channels, or from the other images, names the file", async () => {
  const dir = makeFolder("channels");
  await assert.rejects(Dataset.open(dataCfg(`data.path=${dir}`, "data.channels=1")), (e: unknown) => {
    assert.ok(e instanceof BadInputError);
    assert.match(e.file, /A\/.*\.tif$/);
    assert.match(e.message, /has 3 channel\(s\) but data\.channels=1/);
    return true;
  });
  // A 1-channel worm mask among 3-channel crops.
  const mask = readdirSync(MASKS)[0];
  copyFileSync(join(MASKS, mask), join(dir, "B", mask));
  const ds = await Dataset.open(dataCfg(`data.path=${dir}`));
  opened.push(ds);
  await assert.rejects(drain(ds, 1), (e: unknown) => e instanceof BadInputError && e.file === join(dir, "B", mask) && /1 channel\(s\) but 3 are expected/.test(e.message));
});

test("manifests: missing files, missing columns and duplicate ids are errors naming file, line or field", () => {
  const dir = makeFolder("manifest");
  const [a0] = readdirSync(join(dir, "A"));
  const csv = join(dir, "m.csv");
  writeFileSync(csv, `path,label,plate\nA/${a0},x,p1\nA/gone.tif,y,p1\n`);
  assert.throws(() => listItems(dataCfg(`data.path=${csv}`)), (e: unknown) => e instanceof BadInputError && e.file === join(dir, "A/gone.tif") && /line 3 of .*m\.csv/.test(e.message));
  const skipped = listItems(dataCfg(`data.path=${csv}`, "data.skip_bad=true"));
  assert.equal(skipped.items.length, 1);
  assert.match(skipped.excluded[0].reason, /line 3: file not found/);
  assert.equal(skipped.items[0].meta.plate, "p1");
  assert.throws(() => listItems(dataCfg(`data.path=${csv}`, "data.group_column=well")), (e: unknown) => e instanceof ConfigError && e.field === "data.group_column" && /plate/.test(e.message));
  assert.throws(() => listItems(dataCfg(`data.path=${csv}`, "data.label_column=class")), (e: unknown) => e instanceof ConfigError && e.field === "data.label_column");
  writeFileSync(csv, `file,label\nA/${a0},x\n`);
  assert.throws(() => listItems(dataCfg(`data.path=${csv}`)), (e: unknown) => e instanceof BadInputError && e.file === csv && /no 'path' column.*file, label/.test(e.message));
  writeFileSync(csv, `path\nA/${a0}\nA/${a0}\n`);
  assert.throws(() => listItems(dataCfg(`data.path=${csv}`)), (e: unknown) => e instanceof BadInputError && /lines 2 and 3/.test(e.message));
  writeFileSync(csv, `path,label\n"A/${a0}","x, quoted"\n`);
  assert.equal(listItems(dataCfg(`data.path=${csv}`)).items[0].label, "x, quoted");
});

test("with data.skip_bad a corrupt first image does not stop opening the dataset", async () => {
  const dir = join(root, "firstbad");
  mkdirSync(dir);
  writeFileSync(join(dir, "0000.png"), corrupt["x_corrupt.png"]);
  copyFileSync(join(G1, readdirSync(G1)[0]), join(dir, "0001.tif"));
  await assert.rejects(Dataset.open(dataCfg(`data.path=${dir}`)), (e: unknown) => e instanceof BadInputError && e.file === join(dir, "0000.png"));
  const ds = await Dataset.open(dataCfg(`data.path=${dir}`, "data.skip_bad=true"));
  opened.push(ds);
  assert.equal(ds.prep.channels, 3);
  assert.equal(ds.skipped.length, 1);
});
