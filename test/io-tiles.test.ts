// Tile sampling: object statistics against skimage regionprops, crops on real labels, seeded
// reproducibility and the geometry of random/grid tiles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openImageSource } from "../src/io/source.ts";
import { gridTiles, labelObjects, objectCrops, randomTiles, randomTilesAcross, type LabelObject } from "../src/io/tiles.ts";

const DATA = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const FIX = fileURLToPath(new URL("./fixtures/io/", import.meta.url));
const ZARR = DATA + "format_samples/generated/coelho_gnf_dna-4_blosc.ome.zarr";
const NUCLEI = (JSON.parse(readFileSync(FIX + "reference.json", "utf8")) as { coelhoNuclei: LabelObject[] }).coelhoNuclei;

test("labelObjects matches skimage regionprops on the Coelho nucleus labels", async () => {
  const img = await openImageSource(ZARR);
  const labels = await img.openLabel("nuclei");
  for (const bandRows of [undefined, 37]) {
    const objs = await labelObjects(labels, { bandRows });
    assert.equal(objs.length, NUCLEI.length);
    for (const [i, o] of objs.entries()) {
      const r = NUCLEI[i];
      assert.equal(o.label, r.label);
      assert.equal(o.area, r.area, `label ${r.label} area`);
      assert.deepEqual(o.bbox, r.bbox, `label ${r.label} bbox`);
      assert.ok(Math.abs(o.centroid[0] - r.centroid[0]) < 1e-9 && Math.abs(o.centroid[1] - r.centroid[1]) < 1e-9, `label ${r.label} centroid`);
    }
  }
});

test("object crops sit inside the image, hold their object, and nuclei are brighter than background", async () => {
  const img = await openImageSource(ZARR);
  const labels = await img.openLabel("nuclei");
  const objs = await labelObjects(labels);
  const size = 96;
  const crops = objectCrops(objs, img.shapes[0], { size });
  assert.equal(crops.length, objs.length);
  let brighter = 0;
  for (const [i, c] of crops.entries()) {
    const o = objs[i];
    assert.equal(c.label, o.label);
    assert.ok(c.y0 >= 0 && c.x0 >= 0 && c.y0 + size <= 1030 && c.x0 + size <= 1349);
    const lab = await labels.readRegion({ y0: c.y0, x0: c.x0, h: size, w: size });
    const px = await img.readRegion({ y0: c.y0, x0: c.x0, h: size, w: size });
    let n = 0, inSum = 0, bg = 0, bgSum = 0;
    for (let k = 0; k < lab.length; k++) {
      if (lab[k] === o.label) { n++; inSum += px[k]; } else if (lab[k] === 0) { bg++; bgSum += px[k]; }
    }
    // Objects that fit in the crop are inside it whole (bbox within crop, away from clamping).
    const fits = o.bbox[2] - o.bbox[0] <= size / 2 && o.bbox[3] - o.bbox[1] <= size / 2;
    if (fits) assert.equal(n, o.area, `label ${o.label}: whole object inside its crop`);
    else assert.ok(n > 0, `label ${o.label}: crop holds part of the object`);
    if (bg > 0 && inSum / n > bgSum / bg) brighter++;
  }
  assert.ok(brighter >= 0.9 * crops.length, `DNA stain brighter inside nuclei for ${brighter}/${crops.length} crops`);

  // Crops for level 1 from objects measured at level 0: centred on the rescaled centroid unless
  // clamped at a border, and holding the object in the level-1 labels.
  const s1 = labels.shapes[1];
  const l1 = objectCrops(objs, img.shapes[1], { size: 48, labelShape: labels.shapes[0], level: 1 });
  const labL1 = await labels.readRegion({ level: 1, y0: 0, x0: 0, h: s1.y, w: s1.x });
  for (const [i, c] of l1.entries()) {
    const cy = (objs[i].centroid[0] + 0.5) * (s1.y / 1030), cx = (objs[i].centroid[1] + 0.5) * (s1.x / 1349);
    if (c.y0 > 0 && c.y0 + 48 < s1.y) assert.ok(Math.abs(c.y0 + 24 - cy) <= 0.5, `label ${c.label} y centre`);
    if (c.x0 > 0 && c.x0 + 48 < s1.x) assert.ok(Math.abs(c.x0 + 24 - cx) <= 0.5, `label ${c.label} x centre`);
    let n = 0;
    for (let y = c.y0; y < c.y0 + 48; y++) for (let x = c.x0; x < c.x0 + 48; x++) if (labL1[y * s1.x + x] === c.label) n++;
    assert.ok(n > 0, `label ${c.label} present in its level-1 crop`);
  }

  const shuffled = objectCrops(objs, img.shapes[0], { size, seed: 3 });
  assert.deepEqual(shuffled.map((c) => c.label).sort((a, b) => a - b), crops.map((c) => c.label));
  assert.notDeepEqual(shuffled.map((c) => c.label), crops.map((c) => c.label));
  assert.equal(objectCrops(objs, img.shapes[0], { size, minArea: 2000 }).length, objs.filter((o) => o.area >= 2000).length);
});

test("random tiles are seeded, in bounds and uniform", () => {
  const shape = { t: 2, c: 1, z: 3, y: 1030, x: 1349 };
  const a = randomTiles(shape, { count: 4000, size: 128, seed: 11 });
  assert.deepEqual(a, randomTiles(shape, { count: 4000, size: 128, seed: 11 }));
  assert.notDeepEqual(a.slice(0, 10), randomTiles(shape, { count: 10, size: 128, seed: 12 }));
  for (const t of a) assert.ok(t.y0 >= 0 && t.x0 >= 0 && t.y0 + 128 <= 1030 && t.x0 + 128 <= 1349 && t.t < 2 && t.z < 3);
  const meanY = a.reduce((s, t) => s + t.y0, 0) / a.length;
  const meanX = a.reduce((s, t) => s + t.x0, 0) / a.length;
  // Uniform over [0, n-128]: mean (n-128)/2, sd of the mean ≈ (n-128)/sqrt(12*4000) ≈ 4 and 5 px.
  assert.ok(Math.abs(meanY - 451) < 20 && Math.abs(meanX - 610.5) < 25, `means ${meanY}, ${meanX}`);
  assert.ok(new Set(a.map((t) => t.z)).size === 3);
  assert.throws(() => randomTiles(shape, { count: 1, size: 2000, seed: 1 }), RangeError);
});

test("tiles across images follow the images' areas", () => {
  const small = { t: 1, c: 1, z: 1, y: 100 + 63, x: 100 + 63 };
  const big = { t: 1, c: 1, z: 1, y: 200 + 63, x: 200 + 63 };
  const tiles = randomTilesAcross([small, big], { count: 5000, size: 64, seed: 5 });
  const fracSmall = tiles.filter((t) => t.source === 0).length / tiles.length;
  assert.ok(Math.abs(fracSmall - 0.2) < 0.03, `fraction from the small image ${fracSmall}`);
  for (const t of tiles) {
    const s = t.source === 0 ? small : big;
    assert.ok(t.y0 + 64 <= s.y && t.x0 + 64 <= s.x);
  }
});

test("grid tiles cover every pixel and end at the borders", () => {
  const shape = { t: 1, c: 1, z: 1, y: 300, x: 517 };
  const tiles = gridTiles(shape, { size: [128, 100] });
  const seen = new Uint8Array(300 * 517);
  for (const t of tiles) {
    assert.ok(t.y0 + t.h <= 300 && t.x0 + t.w <= 517);
    for (let y = t.y0; y < t.y0 + t.h; y++) for (let x = t.x0; x < t.x0 + t.w; x++) seen[y * 517 + x] = 1;
  }
  assert.ok(seen.every((v) => v === 1));
  assert.equal(tiles.length, 3 * 6);
  assert.equal(gridTiles(shape, { size: 100, stride: 50 }).length, 5 * 10);
});
