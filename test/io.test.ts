// Reader correctness against references made by tifffile / Pillow / zarr-python / skimage
// (scripts/fixtures/io_reference.py → test/fixtures/io/reference.json): every level of every sample
// must hash identically, region reads must hash identically, and metadata must match.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openImageSource, type ImageSource } from "../src/io/source.ts";
import { readImage, type PixelArray } from "../src/io/image.ts";
import { chunkCache } from "../src/io/chunk-cache.ts";

const DATA = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const FIX = fileURLToPath(new URL("./fixtures/io/", import.meta.url));

interface Region { t: number; z: number; c: number[]; y0: number; x0: number; h: number; w: number; sha256: string }
interface LevelRef { shape: number[]; sha256: string; sum: number; regions: Region[]; samples: { at: number[]; value: number }[] }
interface ImageRef { name: string; dtype: string; channelNames: string[]; levels: LevelRef[]; labelImages?: Record<string, ImageRef> }
const REF = JSON.parse(readFileSync(FIX + "reference.json", "utf8")) as {
  images: ImageRef[]; coelhoNuclei: unknown[]; bbbc010PlainFiles: string[];
};

export function refPath(name: string): string {
  if (name.startsWith("tiff/") || name.startsWith("zarr/")) return FIX + name;
  if (name.startsWith("samples/")) return DATA + "format_samples/" + name.slice("samples/".length);
  if (name.startsWith("data/")) return DATA + name.slice("data/".length);
  throw new Error(`unknown reference prefix in ${name}`);
}

const bytesOf = (a: PixelArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** SHA-256 of a whole level in C-order T,C,Z,Y,X, read one plane at a time through readRegion. */
async function levelHash(src: ImageSource, level: number): Promise<{ sha: string; sum: number }> {
  const s = src.shapes[level];
  const h = createHash("sha256");
  let sum = 0;
  for (let t = 0; t < s.t; t++)
    for (let c = 0; c < s.c; c++)
      for (let z = 0; z < s.z; z++) {
        const plane = await src.readRegion({ level, t, z, c, y0: 0, x0: 0, h: s.y, w: s.x });
        h.update(bytesOf(plane));
        for (let i = 0; i < plane.length; i++) sum += plane[i];
      }
  return { sha: h.digest("hex"), sum };
}

async function checkImage(src: ImageSource, ref: ImageRef) {
  assert.equal(src.dtype, ref.dtype, "dtype");
  assert.deepEqual([...src.channelNames], ref.channelNames, "channel names");
  assert.equal(src.levels, ref.levels.length, "level count");
  for (const [level, lr] of ref.levels.entries()) {
    const s = src.shapes[level];
    assert.deepEqual([s.t, s.c, s.z, s.y, s.x], lr.shape, `level ${level} shape`);
    const { sha, sum } = await levelHash(src, level);
    assert.equal(sha, lr.sha256, `level ${level} pixels differ from the reference (our sum ${sum}, reference ${lr.sum})`);
    for (const r of lr.regions) {
      // Regions hash array[t, c_list, z, ...], i.e. one h×w plane per listed channel: our planar layout.
      const block = await src.readRegion({ level, t: r.t, z: r.z, c: r.c, y0: r.y0, x0: r.x0, h: r.h, w: r.w });
      assert.equal(block.length, r.c.length * r.h * r.w);
      assert.equal(createHash("sha256").update(bytesOf(block)).digest("hex"), r.sha256, `level ${level} region ${JSON.stringify(r)}`);
    }
    for (const { at, value } of lr.samples) {
      const [t, c, z, y, x] = at;
      const px = await src.readRegion({ level, t, c, z, y0: y, x0: x, h: 1, w: 1 });
      assert.equal(px[0], value, `level ${level} pixel at ${at}`);
    }
  }
}

for (const ref of REF.images) {
  test(`reads ${ref.name} like the reference`, async () => {
    chunkCache.clear();
    const src = await openImageSource(refPath(ref.name));
    try {
      await checkImage(src, ref);
      for (const [name, lref] of Object.entries(ref.labelImages ?? {})) {
        assert.ok(src.labels.includes(name), `label image ${name} listed`);
        const lab = await src.openLabel(name);
        await checkImage(lab, lref);
        await lab.close();
      }
    } finally {
      await src.close();
    }
  });
}

test("the generated BBBC010 OME-TIFFs hold exactly the pixels of the plain BBBC010 TIFFs", async () => {
  const plain = await Promise.all(REF.bbbc010PlainFiles.map((f) => readImage(refPath(f))));
  assert.equal(plain.length, 2);
  for (const name of ["bbbc010_A01_2ch.ome.tif", "bbbc010_A01_2ch_tiled_zlib_pyramid.ome.tif"]) {
    const src = await openImageSource(DATA + "format_samples/generated/" + name);
    const all = await src.readRegion({ y0: 0, x0: 0, h: 520, w: 696 });
    for (const [c, img] of plain.entries()) {
      assert.equal(img.width, 696);
      assert.equal(img.height, 520);
      assert.deepEqual(all.subarray(c * 520 * 696, (c + 1) * 520 * 696), img.data, `${name} channel ${c}`);
    }
    await src.close();
  }
});

test("OME metadata: axes, physical sizes and formats", async () => {
  const ome5 = await openImageSource(FIX + "tiff/ome_5d_i16_pyramid.ome.tif");
  assert.equal(ome5.format, "ome-tiff");
  assert.deepEqual(ome5.axes, ["t", "c", "z", "y", "x"]);
  assert.deepEqual(ome5.physicalSizes.x, { value: 0.325, unit: "µm" });
  assert.deepEqual(ome5.physicalSizes.z, { value: 1.5, unit: "µm" });
  await ome5.close();

  const multi = await openImageSource(FIX + "tiff/multifile_part_a.ome.tif");
  assert.deepEqual(multi.physicalSizes.x, { value: 0.5, unit: "nm" });
  await multi.close();

  const viv = await openImageSource(DATA + "format_samples/viv_fixtures/multi-channel.ome.tif");
  assert.deepEqual([viv.format, viv.axes, viv.shapes[0]], ["ome-tiff", ["c", "y", "x"], { t: 1, c: 3, z: 1, y: 167, x: 439 }]);
  const b2r = await openImageSource(DATA + "format_samples/viv_fixtures/bioformats-zarr/data.zarr");
  assert.deepEqual([b2r.format, b2r.axes, b2r.levels], ["bioformats2raw", ["t", "c", "z", "y", "x"], 2]);
  // Same synthetic pixels in both viv fixtures (OME-TIFF vs bioformats2raw).
  const a = await viv.readRegion({ y0: 0, x0: 0, h: 167, w: 439 });
  const b = await b2r.readRegion({ y0: 0, x0: 0, h: 167, w: 439 });
  assert.deepEqual(a, b);
  await viv.close();
  await b2r.close();

  const z5 = await openImageSource(FIX + "zarr/ome_5d_u16_be_zlib.ome.zarr");
  assert.deepEqual([z5.format, z5.axes, z5.levels], ["ome-zarr", ["t", "c", "z", "y", "x"], 2]);
  assert.deepEqual(z5.physicalSizes, {
    t: { value: 2.5, unit: "second" }, z: { value: 0.8, unit: "micrometer" },
    y: { value: 0.2, unit: "micrometer" }, x: { value: 0.2, unit: "micrometer" },
  });
  const bare = await openImageSource(FIX + "zarr/labels_u64_forder.zarr");
  assert.deepEqual([bare.format, bare.axes, bare.dtype], ["zarr", ["y", "x"], "uint32"]);

  const v5 = await openImageSource(DATA + "format_samples/viv_fixtures/ome-zarr/blobs_image_v05.ome.zarr");
  assert.deepEqual([v5.format, v5.axes], ["ome-zarr", ["c", "y", "x"]]);
  const folder = await openImageSource(DATA + "format_samples/viv_fixtures/multi-tiff");
  assert.equal(folder.format, "multi-tiff");
  // An explicit file list gives the same image as the folder.
  const list = await openImageSource([2, 0].map((i) => DATA + `format_samples/viv_fixtures/multi-tiff/Channel_${i}.tif`));
  assert.deepEqual(list.channelNames, ["Channel_2", "Channel_0"]);
  assert.deepEqual(await list.readRegion({ c: 1, y0: 10, x0: 20, h: 30, w: 40 }), await folder.readRegion({ c: 0, y0: 10, x0: 20, h: 30, w: 40 }));
});

test("region requests outside the image are rejected as caller errors", async () => {
  const src = await openImageSource(FIX + "tiff/ome_5d_i16_pyramid.ome.tif");
  const bad = [
    { y0: 0, x0: 0, h: 33, w: 1 }, { y0: -1, x0: 0, h: 1, w: 1 }, { y0: 0, x0: 0, h: 0, w: 1 },
    { level: 3, y0: 0, x0: 0, h: 1, w: 1 }, { t: 2, y0: 0, x0: 0, h: 1, w: 1 }, { c: 3, y0: 0, x0: 0, h: 1, w: 1 },
    { level: 2, y0: 0, x0: 0, h: 9, w: 1 },
  ];
  for (const req of bad) await assert.rejects(src.readRegion(req), RangeError, JSON.stringify(req));
  await src.close();
});

test("a cold cache and a warm cache give the same pixels", async () => {
  const path = DATA + "format_samples/generated/coelho_gnf_dna-4_blosc.ome.zarr";
  const src = await openImageSource(path);
  const req = { y0: 200, x0: 250, h: 300, w: 400 };
  chunkCache.setCapacity(0);
  const cold = await src.readRegion(req);
  chunkCache.setCapacity(256 << 20);
  const warm1 = await src.readRegion(req);
  const warm2 = await src.readRegion(req);
  assert.deepEqual(cold, warm1);
  assert.deepEqual(cold, warm2);
  assert.ok(chunkCache.usedBytes > 0);
});
