// Data listing and splitting on the real Jurkat and BBBC010 sets: labels from class folders, manifests with
// groups and metadata, stratified group-safe splits; percentile normalisation against a direct computation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { readdirSync } from "node:fs";
import { resolveConfig } from "../src/config/index.ts";
import { listItems, splitItems, type Item, type Split } from "../src/data/index.ts";
import { percentiles } from "../src/data/normalise.ts";
import { readImage } from "../src/io/image.ts";
import { BadInputError } from "../src/errors.ts";

const shared = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const JURKAT = join(shared, "jurkat/cells_exp1");
const BBBC_LABELS = join(shared, "bbbc010/labels.csv");
const dataCfg = (...ov: string[]) => resolveConfig({ overrides: ov, uniqueName: false }).data;

const count = (xs: (string | null)[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string | null, number>());

function assertPartition(split: Split, n: number) {
  const all = [...split.train, ...split.val, ...split.test].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: n }, (_, i) => i), "train/val/test must partition the items");
}

test("a folder of class subfolders: every Jurkat crop, labelled by its folder", () => {
  const list = listItems(dataCfg(`data.path=${JURKAT}`));
  assert.equal(list.kind, "folder");
  assert.equal(list.items.length, 3418);
  const c = count(list.items.map((i) => i.label));
  assert.deepEqual(Object.fromEntries(c), { Anaphase: 15, G1: 900, G2: 900, Metaphase: 69, Prophase: 606, S_phase: 900, Telophase: 28 });
  assert.equal(list.items[0].id, "Anaphase/0000");
  assert.equal(new Set(list.items.map((i) => i.id)).size, 3418);
  // A folder whose images sit directly in it has no labels.
  const flat = listItems(dataCfg(`data.path=${join(JURKAT, "Anaphase")}`));
  assert.equal(flat.items.length, 15);
  assert.ok(flat.items.every((i) => i.label === null));
});

test("a manifest: custom path/label/group columns, metadata kept, relative paths resolved", () => {
  const list = listItems(dataCfg(`data.path=${BBBC_LABELS}`, "data.path_column=mask_file", "data.label_column=label_well", "data.group_column=well"));
  assert.equal(list.kind, "manifest");
  assert.equal(list.items.length, 1407);
  const first = list.items[0];
  assert.equal(first.path, join(shared, "bbbc010/masks_eachworm/A01_01_ground_truth.png"));
  assert.equal(first.id, "masks_eachworm/A01_01_ground_truth.png");
  assert.equal(first.group, "A01");
  assert.equal(first.label, "alive");
  assert.equal(first.meta.area_px, "1136");
  assert.equal(first.meta.label_bioimage_embed, "alive");
  assert.deepEqual(Object.fromEntries(count(list.items.map((i) => i.label))), { alive: 768, dead: 639 });
});

test("empty labels: an error naming the lines by default, or dropped, or kept unlabelled", () => {
  const base = [`data.path=${BBBC_LABELS}`, "data.path_column=mask_file", "data.label_column=label_bioimage_embed"];
  assert.throws(
    () => listItems(dataCfg(...base)),
    (e: unknown) => e instanceof BadInputError && e.file === BBBC_LABELS && /label_bioimage_embed' is empty on lines \d+/.test(e.message) && /22 more/.test(e.message),
  );
  const dropped = listItems(dataCfg(...base, "data.missing_labels=drop"));
  assert.equal(dropped.items.length, 1377);
  assert.equal(dropped.excluded.length, 30);
  const kept = listItems(dataCfg(...base, "data.missing_labels=keep"));
  assert.equal(kept.items.length, 1407);
  assert.equal(kept.items.filter((i) => i.label === null).length, 30);
});

test("the demo manifests are valid and match their folders", () => {
  const jurkat = listItems(dataCfg(`data.path=${fileURLToPath(new URL("../demo-data/jurkat/manifest.csv", import.meta.url))}`));
  assert.equal(jurkat.items.length, 300);
  assert.equal(count(jurkat.items.map((i) => i.label)).size, 7);
  assert.equal(count(jurkat.items.map((i) => i.label)).get("Anaphase"), 15);
  const worms = listItems(dataCfg(`data.path=${fileURLToPath(new URL("../demo-data/bbbc010/labels.csv", import.meta.url))}`, "data.group_column=well"));
  assert.equal(worms.items.length, 200);
  assert.deepEqual(Object.fromEntries(count(worms.items.map((i) => i.label))), { alive: 100, dead: 100 });
});

test("Jurkat split: 80/10/10 within each class (±1 item), deterministic, seed-dependent", () => {
  const items = listItems(dataCfg(`data.path=${JURKAT}`)).items;
  const s = splitItems(items, { train: 0.8, val: 0.1, test: 0.1, seed: 42 });
  assertPartition(s, items.length);
  const total = count(items.map((i) => i.label));
  for (const [part, frac] of [["train", 0.8], ["val", 0.1], ["test", 0.1]] as const) {
    const c = count(s[part].map((i) => items[i].label));
    for (const [label, n] of total) assert.ok(Math.abs((c.get(label) ?? 0) - n * frac) <= 1, `${part} ${label}: ${c.get(label)} of ${n}`);
  }
  assert.equal(count(s.test.map((i) => items[i].label)).get("Anaphase"), 1); // rare classes reach every part
  assert.deepEqual(splitItems(items, { train: 0.8, val: 0.1, test: 0.1, seed: 42 }), s);
  const other = splitItems(items, { train: 0.8, val: 0.1, test: 0.1, seed: 7 });
  assert.notDeepEqual(other.test, s.test);
});

test("BBBC010 split by well: no well in two parts, sizes and label shares close to the targets", () => {
  const items: Item[] = listItems(dataCfg(`data.path=${BBBC_LABELS}`, "data.path_column=mask_file", "data.label_column=label_well", "data.group_column=well")).items;
  const s = splitItems(items, { train: 0.8, val: 0.1, test: 0.1, seed: 42 });
  assertPartition(s, items.length);
  const wells = (part: number[]) => new Set(part.map((i) => items[i].group));
  const [tr, va, te] = [wells(s.train), wells(s.val), wells(s.test)];
  for (const w of va) assert.ok(!tr.has(w) && !te.has(w), `well ${w} leaks out of val`);
  for (const w of te) assert.ok(!tr.has(w), `well ${w} leaks out of test`);
  // Wells hold ~14 worms, so parts can only approach the targets: within 3 points of 80/10/10.
  const n = items.length;
  assert.ok(Math.abs(s.train.length / n - 0.8) < 0.03, `train ${s.train.length}`);
  assert.ok(Math.abs(s.val.length / n - 0.1) < 0.03, `val ${s.val.length}`);
  assert.ok(Math.abs(s.test.length / n - 0.1) < 0.03, `test ${s.test.length}`);
  const alive = (part: number[]) => part.filter((i) => items[i].label === "alive").length / part.length;
  for (const part of [s.val, s.test]) assert.ok(Math.abs(alive(part) - alive(s.train)) < 0.1, "label shares differ between parts");
});

test("percentile normalisation: histogram and sort paths agree with numpy's linear-interpolated percentile", async () => {
  const img = await readImage(join(JURKAT, "G2", readdirSync(join(JURKAT, "G2"))[0]));
  assert.equal(img.dtype, "uint16");
  // Tile the DNA channel to 16 × 1600 px so the 16-bit histogram path is taken, and compare with a direct sort.
  const n = img.width * img.height;
  const plane = img.data.subarray(n, 2 * n) as Uint16Array;
  const big = new Uint16Array(n * 16);
  for (let k = 0; k < 16; k++) for (let i = 0; i < n; i++) big[k * n + i] = plane[(i * 7 + k * 131) % n] + k;
  const sorted = Float64Array.from(big).sort();
  const numpy = (p: number) => {
    const r = (p / 100) * (sorted.length - 1), k = Math.floor(r);
    return sorted[k] + (r - k) * ((sorted[k + 1] ?? sorted[k]) - sorted[k]);
  };
  for (const [lo, hi] of [[1, 99.8], [0, 100], [2.5, 97.5]]) {
    const [a, b] = percentiles(big, "uint16", lo, hi);
    assert.ok(Math.abs(a - numpy(lo)) < 1e-9 && Math.abs(b - numpy(hi)) < 1e-9, `histogram path at ${lo}/${hi}`);
    const [c, d] = percentiles(Float32Array.from(big), "float32", lo, hi);
    assert.ok(Math.abs(c - numpy(lo)) < 1e-9 && Math.abs(d - numpy(hi)) < 1e-9, `sort path at ${lo}/${hi}`);
  }
});

test("data.limit takes a seeded subset in dataset order", () => {
  const all = listItems(dataCfg(`data.path=${JURKAT}`)).items;
  const a = listItems(dataCfg(`data.path=${JURKAT}`, "data.limit=100")).items;
  assert.equal(a.length, 100);
  assert.deepEqual(listItems(dataCfg(`data.path=${JURKAT}`, "data.limit=100")).items, a);
  const pos = a.map((it) => all.findIndex((x) => x.id === it.id));
  assert.deepEqual(pos, [...pos].sort((x, y) => x - y));
  assert.ok(count(a.map((i) => i.label)).size >= 4, "a random subset, not the first folder");
  assert.notDeepEqual(listItems(dataCfg(`data.path=${JURKAT}`, "data.limit=100", "data.split.seed=1")).items, a);
});
