// Shape geometry on real BBBC010 worm masks, against scikit-image / scipy / the anchors' feature code
// (fixtures made by scripts/fixtures/shapes_reference.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { deflateSync } from "node:zlib";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BadInputError, ConfigError } from "../src/errors.ts";
import { readImage } from "../src/io/image.ts";
import { readMask, type MaskImage } from "../src/shapes/mask-io.ts";
import { objectContour, signedArea, reverseContour, type Contour } from "../src/shapes/contour.ts";
import { resampleContour, periodicSpline, knotArcLengths, sampleParameters, splinePoint, arcLengthAt } from "../src/shapes/resample.ts";
import { distanceMatrix, cyclicShift, reverseMatrix, symmetryVariants, diameterEnds, tipVariants, tipVariant } from "../src/shapes/distance.ts";
import { mdsContour, procrustes, rasterisePolygon } from "../src/shapes/mds.ts";
import {
  diagonalLoss, symmetryLoss, nonNegativeLoss, triangleInequalityLoss, triangleInequalityLossSampled, matrixLosses,
} from "../src/shapes/matrix-losses.ts";
import { regionprops, efdFeatures, REGIONPROPS_COLUMNS, efdColumns } from "../src/shapes/features.ts";
import { classicalFeatureTable, writeFeatureTable, parseCsv } from "../src/shapes/feature-table.ts";
import { masksToDistanceMatrices, maskToDistanceMatrix } from "../src/shapes/pipeline.ts";

const DATA = fileURLToPath(new URL("../../shared/data/bbbc010/", import.meta.url));
const FIXTURE = JSON.parse(readFileSync(new URL("./fixtures/shapes/reference.json", import.meta.url), "utf8")) as {
  masks: {
    file: string; n_components: number; n_contours: number;
    contour: { x: number[]; y: number[] }; spline64: { x: number[]; y: number[] }; arclen64: { x: number[]; y: number[] };
    regionprops: Record<string, number>; efd: number[]; ref_matrix32?: number[];
  }[];
  efd_names: string[]; regionprops_names: string[];
};
const masks = new Map<string, MaskImage>();
async function mask(file: string): Promise<MaskImage> {
  if (!masks.has(file)) masks.set(file, await readMask(join(DATA, file)));
  return masks.get(file)!;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const steps = (c: Contour) => Array.from(c.x, (_, i) => {
  const j = (i + 1) % c.x.length;
  return Math.hypot(c.x[j] - c.x[i], c.y[j] - c.y[i]);
});

// Exact pixel transforms of a mask: a quarter turn and a left-right mirror.
function rot90(m: MaskImage): MaskImage {
  const out = new Uint8Array(m.width * m.height);
  for (let r = 0; r < m.width; r++) for (let c = 0; c < m.height; c++) out[r * m.height + c] = m.data[c * m.width + (m.width - 1 - r)];
  return { data: out, width: m.height, height: m.width };
}
function mirror(m: MaskImage): MaskImage {
  const out = new Uint8Array(m.width * m.height);
  for (let r = 0; r < m.height; r++) for (let c = 0; c < m.width; c++) out[r * m.width + c] = m.data[r * m.width + (m.width - 1 - c)];
  return { data: out, width: m.width, height: m.height };
}
/** Smallest max-abs difference between b and a over all start points of a (and, if asked, both directions). */
function bestShiftDiff(a: Float32Array, b: Float32Array, withReversal = false): number {
  const n = Math.round(Math.sqrt(a.length));
  let best = Infinity;
  for (const base of withReversal ? [a, reverseMatrix(a)] : [a])
    for (let k = 0; k < n; k++) {
      // Element-wise with early exit: most start points are far off after a few entries.
      let m = 0;
      for (let i = 0; i < n && m < best; i++)
        for (let j = 0; j < n; j++) m = Math.max(m, Math.abs(base[((i + k) % n) * n + ((j + k) % n)] - b[i * n + j]));
      best = Math.min(best, m);
    }
  return best;
}

test("mask reader: fast PNG path gives the same pixels as src/io readImage", async () => {
  const file = join(DATA, FIXTURE.masks[0].file);
  const ours = await readMask(file), ref = await readImage(file);
  assert.equal(ours.width, 696);
  assert.equal(ours.height, 520);
  assert.deepEqual(ours.data, ref.data);
  // TIFF (3-channel uint16 Jurkat crop) goes through the general decoder; we keep channel 0.
  const tif = fileURLToPath(new URL("../../shared/data/jurkat/cells_exp1/G1/0015.tif", import.meta.url));
  const t = await readMask(tif), tr = await readImage(tif);
  assert.equal(tr.channels, 3);
  assert.deepEqual(Array.from(t.data), Array.from(tr.data.subarray(0, tr.width * tr.height)));
});

/** Minimal PNG encoder for tests: 8-bit, the given colour type, row filters cycling through all five types. */
function encodePng(pixels: Uint8Array, width: number, height: number, colour: 0 | 2 | 4 | 6): Uint8Array {
  const bpp = { 0: 1, 2: 3, 4: 2, 6: 4 }[colour], rb = width * bpp;
  const raw = new Uint8Array(height * (rb + 1));
  for (let r = 0; r < height; r++) {
    const f = r % 5, o = r * (rb + 1);
    raw[o] = f;
    for (let i = 0; i < rb; i++) {
      const x = pixels[r * rb + i], a = i >= bpp ? pixels[r * rb + i - bpp] : 0;
      const b = r > 0 ? pixels[(r - 1) * rb + i] : 0, c = r > 0 && i >= bpp ? pixels[(r - 1) * rb + i - bpp] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      raw[o + 1 + i] = (x - pred) & 255;
    }
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length), v = new DataView(out.buffer);
    v.setUint32(0, data.length);
    out.set(Buffer.from(type, "latin1"), 4);
    out.set(data, 8);
    let crc = 0xffffffff;
    for (const byte of out.subarray(4, 8 + data.length)) crc = crcTable[(crc ^ byte) & 255] ^ (crc >>> 8);
    v.setUint32(8 + data.length, (crc ^ 0xffffffff) >>> 0);
    return out;
  };
  const ihdr = new Uint8Array(13), hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width); hv.setUint32(4, height); ihdr[8] = 8; ihdr[9] = colour;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))]);
}

test("mask reader: every PNG row filter, grey and RGBA, decodes like src/io readImage", async () => {
  // The worm of A01_01 (rows 178–260, columns 468–528) with a margin, to keep the pure-JS encoder quick.
  const full = await mask(FIXTURE.masks[0].file);
  const m = { width: 120, height: 110, data: new Uint8Array(120 * 110) };
  for (let r = 0; r < m.height; r++) m.data.set(full.data.subarray((r + 165) * full.width + 440, (r + 165) * full.width + 560), r * m.width);
  assert.ok(m.data.reduce((a, v) => a + (v ? 1 : 0), 0) === 1136, "crop holds the whole worm");
  const dir = await mkdtemp(join(tmpdir(), "bie-shapes-"));
  try {
    for (const colour of [0, 2, 4, 6] as const) {
      const bpp = { 0: 1, 2: 3, 4: 2, 6: 4 }[colour];
      // Channel 0 is the mask; the others vary so that a mix-up of channels or strides shows.
      const px = new Uint8Array(m.width * m.height * bpp);
      for (let i = 0; i < m.width * m.height; i++) for (let k = 0; k < bpp; k++) px[i * bpp + k] = k === 0 ? m.data[i] : (i * (k + 3)) & 255;
      const file = join(dir, `c${colour}.png`);
      await writeFile(file, encodePng(px, m.width, m.height, colour));
      const ours = await readMask(file), ref = await readImage(file);
      assert.deepEqual(ours.data, ref.data.subarray(0, m.width * m.height), `colour type ${colour}`);
      assert.deepEqual(ours.data, m.data);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("contour: identical to skimage find_contours(pad(mask), 0.5), closed, counter-clockwise", async () => {
  for (const ref of FIXTURE.masks) {
    const { contour, components } = objectContour(await mask(ref.file), { source: ref.file });
    assert.equal(components, ref.n_components, `${ref.file}: components (scipy.ndimage.label)`);
    assert.equal(contour.x.length, ref.contour.x.length, `${ref.file}: number of vertices`);
    // Vertices are half-integers: equality is exact, start point and direction included.
    assert.equal(maxAbsDiff(contour.x, ref.contour.x), 0, ref.file);
    assert.equal(maxAbsDiff(contour.y, ref.contour.y), 0, ref.file);
    // Closed: every step, including last → first, joins two midpoints of one pixel square (length √½ or 1).
    for (const s of steps(contour)) assert.ok(Math.abs(s - Math.SQRT1_2) < 1e-12 || Math.abs(s - 1) < 1e-12, `${ref.file}: step ${s}`);
    assert.ok(signedArea(contour) > 0, `${ref.file}: counter-clockwise`);
  }
});

test("contour: holes ignored, largest component kept; polygon fill gives back the object's pixels", async () => {
  for (const ref of FIXTURE.masks) {
    const m = await mask(ref.file);
    const { contour, area } = objectContour(m);
    const filled = rasterisePolygon(contour, m.width, m.height);
    let inFilledNotMask = 0, inMaskNotFilled = 0, filledCount = 0;
    for (let i = 0; i < filled.length; i++) {
      filledCount += filled[i];
      if (filled[i] && !m.data[i]) inFilledNotMask++;
      if (!filled[i] && m.data[i]) inMaskNotFilled++;
    }
    if (ref.n_components === 1 && ref.n_contours === 1) {
      assert.equal(inFilledNotMask + inMaskNotFilled, 0, `${ref.file}: fill of the contour = mask`);
    } else if (ref.n_components === 1) {
      // A03_13: one worm looping on itself; the fill adds exactly the hole.
      assert.equal(inMaskNotFilled, 0, ref.file);
      assert.ok(inFilledNotMask > 0, `${ref.file}: hole filled`);
    } else {
      // Several components: the fill is the largest one only.
      assert.equal(inFilledNotMask, 0, ref.file);
      assert.equal(filledCount, area, ref.file);
      assert.ok(inMaskNotFilled > 0, ref.file);
    }
  }
});

test("contour: an object cut by the image border still gets a closed outline (the crop is zero-padded)", async () => {
  // A01_01's worm spans columns 468–528; cutting the image at column 500 leaves it touching the right edge.
  const full = await mask(FIXTURE.masks[0].file);
  const w = 500, cut = { width: w, height: full.height, data: new Uint8Array(w * full.height) };
  for (let r = 0; r < full.height; r++) cut.data.set(full.data.subarray(r * full.width, r * full.width + w), r * w);
  const { contour } = objectContour(cut);
  assert.ok(Math.max(...contour.x) === w - 0.5, "outline runs along the border, half a pixel outside the last column");
  for (const st of steps(contour)) assert.ok(Math.abs(st - Math.SQRT1_2) < 1e-12 || Math.abs(st - 1) < 1e-12);
  assert.ok(signedArea(contour) > 0);
  assert.deepEqual(rasterisePolygon(contour, w, full.height), Uint8Array.from(cut.data, (v) => (v ? 1 : 0)));
});

test("contour: instance label image, one label at a time; absent object is a clear error", async () => {
  const a = await mask("masks_eachworm/A01_01_ground_truth.png"), b = await mask("masks_eachworm/A01_02_ground_truth.png");
  const labels = new Uint16Array(a.width * a.height);
  for (let i = 0; i < labels.length; i++) {
    assert.ok(!(a.data[i] && b.data[i]), "the two worms of well A01 must not overlap for this test");
    labels[i] = a.data[i] ? 3 : b.data[i] ? 700 : 0;
  }
  const img = { data: labels, width: a.width, height: a.height };
  assert.deepEqual(objectContour(img, { label: 700 }).contour, objectContour(b).contour);
  assert.deepEqual(objectContour(img, { label: 3 }).contour, objectContour(a).contour);
  assert.throws(() => objectContour(img, { label: 5, source: "labels.tif" }), (e: unknown) =>
    e instanceof BadInputError && e.file === "labels.tif" && /label 5/.test(e.message));
  assert.throws(() => objectContour({ data: new Uint8Array(64), width: 8, height: 8 }, { source: "empty.png" }), (e: unknown) =>
    e instanceof BadInputError && /no foreground/.test(e.message));
});

test("resample: scipy splprep(per=1, s=0) spline; N points, equal spacing, closed, counter-clockwise", async () => {
  for (const ref of FIXTURE.masks) {
    const { contour } = objectContour(await mask(ref.file));
    // Same spline as scipy: equal parameter steps reproduce splev to rounding (1e-9 px).
    const p = resampleContour(contour, { n: 64, spacing: "parameter" });
    assert.ok(maxAbsDiff(p.x, ref.spline64.x) < 1e-9 && maxAbsDiff(p.y, ref.spline64.y) < 1e-9, `${ref.file}: splev`);
    // Equal arc length: the fixture inverts a 65536-chord arc length, good to ~4e-5 px.
    const a = resampleContour(contour, { n: 64 });
    assert.ok(maxAbsDiff(a.x, ref.arclen64.x) < 1e-4 && maxAbsDiff(a.y, ref.arclen64.y) < 1e-4, `${ref.file}: arc-length samples`);

    const r = resampleContour(contour, { n: 256 });
    assert.equal(r.x.length, 256);
    // Equal spacing along the curve: arc length between neighbours (closing step 255 → 0 included).
    const sp = periodicSpline(contour), S = knotArcLengths(sp), total = S.at(-1)!;
    const t = sampleParameters(sp, 256);
    const p0 = splinePoint(sp, t[0]);
    assert.ok(Math.abs(p0[0] - r.x[0]) < 1e-12 && Math.abs(p0[1] - r.y[0]) < 1e-12);
    for (let k = 0; k < 256; k++) {
      const step = (k < 255 ? arcLengthAt(sp, t[k + 1], S) : total) - arcLengthAt(sp, t[k], S);
      assert.ok(Math.abs(step / (total / 256) - 1) < 0.01, `${ref.file}: arc step ${k} = ${step}`);
    }
    // Straight-line gaps are never longer than the arc step; they are shorter where the outline bends: worm
    // tips, and the pixel staircase that an interpolating spline (ours and scipy's) follows at ~1 px spacing.
    // Over all 1407 masks the mean chord is 0.958–1.0 of the arc step (notes/issue-5.md), hence ≥ 0.95 here.
    const chords = steps(r);
    assert.ok(Math.max(...chords) <= total / 256 + 1e-9, `${ref.file}: chord longer than arc`);
    const meanChord = chords.reduce((u, v) => u + v, 0) / 256;
    assert.ok(meanChord >= 0.95 * (total / 256), `${ref.file}: mean chord ${meanChord}`);
    assert.ok(signedArea(r) > 0, `${ref.file}: counter-clockwise`);
    // A clockwise input comes out counter-clockwise, same start point.
    const rc = resampleContour(reverseContour(contour), { n: 256 });
    assert.ok(signedArea(rc) > 0);
    assert.ok(Math.abs(rc.x[0] - r.x[0]) < 1e-9 && Math.abs(rc.y[0] - r.y[0]) < 1e-9);
  }
  const first = objectContour(await mask(FIXTURE.masks[0].file)).contour;
  assert.throws(() => resampleContour(first, { n: 2 }), (e: unknown) =>
    e instanceof ConfigError && e.field === "shapes.n");
});

test("distance matrix: symmetric, zero diagonal, normalised; parameter spacing = shape_pipeline_ref.py", async () => {
  for (const ref of FIXTURE.masks.filter((m) => m.ref_matrix32)) {
    const { contour } = objectContour(await mask(ref.file));
    const d = distanceMatrix(resampleContour(contour, { n: 32, spacing: "parameter" }));
    assert.ok(maxAbsDiff(d, ref.ref_matrix32!) < 1e-6, `${ref.file}: reference pipeline matrix`);
    // Our default (equal arc length) moves points by < 0.3 px: entries agree to 5e-4 (max entry ~0.07).
    assert.ok(maxAbsDiff(distanceMatrix(resampleContour(contour, { n: 32 })), ref.ref_matrix32!) < 5e-4, ref.file);
  }
  const { contour } = objectContour(await mask(FIXTURE.masks[0].file));
  const pts = resampleContour(contour);
  const d = distanceMatrix(pts);
  let fro = 0;
  for (let i = 0; i < 256; i++) {
    assert.equal(d[i * 256 + i], 0);
    for (let j = 0; j < 256; j++) { assert.equal(d[i * 256 + j], d[j * 256 + i]); fro += d[i * 256 + j] ** 2; }
  }
  assert.ok(Math.abs(Math.sqrt(fro) - 1) < 1e-6, "Frobenius norm 1");
  assert.equal(Math.max(...distanceMatrix(pts, "max")), 1);
  assert.throws(() => distanceMatrix(pts, "l1" as never), (e: unknown) => e instanceof ConfigError && e.field === "shapes.normalise");
});

test("distance matrix: invariant to translation, rotation, reflection and start point", async () => {
  for (const ref of FIXTURE.masks.slice(0, 6)) {
    const m = await mask(ref.file);
    const { contour } = objectContour(m);
    const d = maskToDistanceMatrix(m);
    // Translation: the same worm elsewhere on a larger canvas gives the same matrix, bit for bit.
    const big = { data: new Uint8Array((m.width + 40) * (m.height + 25)), width: m.width + 40, height: m.height + 25 };
    for (let r = 0; r < m.height; r++) big.data.set(m.data.subarray(r * m.width, (r + 1) * m.width), (r + 25) * big.width + 40);
    assert.deepEqual(maskToDistanceMatrix(big), d, `${ref.file}: translation`);

    // Rotation by any angle of the points (rigid motion): same matrix up to float32 rounding.
    const pts = resampleContour(contour);
    const th = 0.61, rot = { x: new Float64Array(256), y: new Float64Array(256) };
    for (let i = 0; i < 256; i++) {
      rot.x[i] = Math.cos(th) * pts.x[i] - Math.sin(th) * pts.y[i] + 17.3;
      rot.y[i] = Math.sin(th) * pts.x[i] + Math.cos(th) * pts.y[i] - 4.1;
    }
    assert.ok(maxAbsDiff(distanceMatrix(rot), d) < 1e-7, `${ref.file}: rigid motion of the points`);

    // Start point: re-indexing the points is exactly cyclicShift / reverseMatrix of the matrix.
    const k = 37, shifted = { x: new Float64Array(256), y: new Float64Array(256) };
    for (let i = 0; i < 256; i++) { shifted.x[i] = pts.x[(i + k) % 256]; shifted.y[i] = pts.y[(i + k) % 256]; }
    assert.deepEqual(distanceMatrix(shifted), cyclicShift(d, k));
    assert.deepEqual(distanceMatrix(reverseContour(pts)), reverseMatrix(d));

    // Quarter turn and mirror of the mask pixels: the contour's vertices are exactly rotated/mirrored but start
    // elsewhere, so the 256 samples can sit up to half a spacing off along the curve; each distance then moves
    // by at most one spacing. In pixels (normalise "none") the best start shift must be within L/N.
    const px = distanceMatrix(pts, "none");
    const L = knotArcLengths(periodicSpline(contour)).at(-1)!;
    const turned = maskToDistanceMatrix(rot90(m), { normalise: "none" });
    assert.ok(bestShiftDiff(px, turned) <= L / 256 + 1e-4, `${ref.file}: quarter turn`);
    const mirrored = maskToDistanceMatrix(mirror(m), { normalise: "none" });
    assert.ok(bestShiftDiff(px, mirrored, true) <= L / 256 + 1e-4, `${ref.file}: mirror (reversed order)`);
    // …and if the turned contour is made to start at the same vertex, the matrix is the same to rounding.
    const t = objectContour(rot90(m)).contour;
    const x0 = contour.y[0], y0 = m.width - 1 - contour.x[0]; // where rot90 sends the original start vertex
    const s0 = t.x.findIndex((x, i) => x === x0 && t.y[i] === y0);
    assert.ok(s0 >= 0, "turned contour contains the turned start vertex");
    const realigned = { x: new Float64Array(t.x.length), y: new Float64Array(t.x.length) };
    for (let i = 0; i < t.x.length; i++) { realigned.x[i] = t.x[(i + s0) % t.x.length]; realigned.y[i] = t.y[(i + s0) % t.x.length]; }
    assert.ok(maxAbsDiff(distanceMatrix(resampleContour(realigned)), d) < 1e-7, `${ref.file}: quarter turn, same start`);
  }
});

test("symmetry variants: 8 start points × 2 directions", async () => {
  const d = maskToDistanceMatrix(await mask(FIXTURE.masks[1].file), { n: 64 });
  const v = symmetryVariants(d, 8);
  assert.equal(v.length, 16);
  assert.deepEqual(v[0], d);
  assert.deepEqual(v[3], cyclicShift(d, 24));
  assert.deepEqual(v[8], reverseMatrix(d));
  assert.deepEqual(reverseMatrix(reverseMatrix(d)), d);
});

test("tip-anchored variants: the same 4 matrices whatever the outline's start point and direction", async () => {
  for (const ref of FIXTURE.masks.slice(0, 6)) {
    const d = maskToDistanceMatrix(await mask(ref.file), { n: 64 });
    const v = tipVariants(d);
    assert.equal(v.length, 4);
    // Each starts at a tip: its first row holds the largest distance (to the other tip).
    const max = Math.max(...d);
    for (const m of v) assert.equal(Math.max(...m.subarray(0, 64)), max, `${ref.file}: starts at a diameter end`);
    const [i, j] = diameterEnds(d);
    assert.ok(i < j && d[i * 64 + j] === max);
    for (let k = 0; k < 4; k++) assert.deepEqual(tipVariant(d, k), v[k], `${ref.file}: tip variant ${k} alone`);
    const key = (ms: Float32Array[]) => ms.map((m) => Buffer.from(m.buffer).toString("base64")).sort();
    for (const k of [5, 17, 40]) {
      assert.deepEqual(key(tipVariants(cyclicShift(d, k))), key(v), `${ref.file}: start moved by ${k}`);
      assert.deepEqual(key(tipVariants(reverseMatrix(cyclicShift(d, k)))), key(v), `${ref.file}: moved by ${k} and reversed`);
    }
  }
});

test("MDS: matrix → points → matrix within 1e-6; Procrustes puts the outline back on the worm", async () => {
  for (const [k, ref] of FIXTURE.masks.slice(0, 4).entries()) {
    const m = await mask(ref.file);
    // One at the default 256 points, the others at 128 (a dense eigendecomposition costs O(N³)).
    const pts = resampleContour(objectContour(m).contour, { n: k === 0 ? 256 : 128 });
    const d = distanceMatrix(pts);
    const back = mdsContour(d);
    assert.ok(maxAbsDiff(distanceMatrix(back, "none"), d) < 1e-6, `${ref.file}: round trip`);
    assert.ok(signedArea(back) > 0, "MDS outline is counter-clockwise");
    // Procrustes (rotation + scale + translation; MDS output is centred, unit Frobenius scale) onto the input.
    const al = procrustes(back, pts);
    assert.ok(al.rms < 1e-3, `${ref.file}: aligned rms ${al.rms} px`);
    const filled = rasterisePolygon(al.aligned, m.width, m.height);
    let inter = 0, union = 0;
    for (let i = 0; i < filled.length; i++) { inter += filled[i] & (m.data[i] ? 1 : 0); union += filled[i] | (m.data[i] ? 1 : 0); }
    assert.ok(inter / union > 0.95, `${ref.file}: IoU of reconstructed mask ${inter / union}`);
    // A mirrored source needs the reflection: without it the fit is poor.
    const flipped = { x: back.x, y: back.y.map((v) => -v) };
    assert.ok(procrustes(flipped, pts).rms < 1e-3);
    assert.ok(procrustes(flipped, pts, { reflection: false }).rms > 1);
  }
});

test("matrix losses: zero on real distance matrices, positive on broken ones", async () => {
  const d = maskToDistanceMatrix(await mask(FIXTURE.masks[4].file), { n: 64 });
  assert.equal(diagonalLoss(d), 0);
  assert.equal(symmetryLoss(d), 0);
  assert.equal(nonNegativeLoss(d), 0);
  // Float32 rounding of nearly collinear triples may leave violations of ~1e-9 × the entries.
  assert.ok(triangleInequalityLoss(d) < 1e-10);
  assert.ok(matrixLosses(d, { diagonal: 1, symmetry: 1, nonNegative: 1, triangle: 1 }).total < 1e-10);

  const n = 64, broken = (f: (b: Float32Array) => void) => { const b = Float32Array.from(d); f(b); return b; };
  const diag = broken((b) => { b[5 * n + 5] = 0.01; });
  assert.ok(Math.abs(diagonalLoss(diag) - 0.01 ** 2 / n) < 1e-12);
  const asym = broken((b) => { b[3 * n + 40] += 0.02; });
  assert.ok(Math.abs(symmetryLoss(asym) - (2 * 0.02 ** 2) / (n * n)) < 1e-12);
  const neg = broken((b) => { b[7 * n + 9] = -0.03; b[9 * n + 7] = -0.03; });
  assert.ok(Math.abs(nonNegativeLoss(neg) - 0.06 / (n * n)) < 1e-9);
  assert.ok(triangleInequalityLoss(broken((b) => { b[0 * n + 32] *= 3; b[32 * n + 0] *= 3; })) > 1e-6);
  // Hand-computed: D02 = 5 > D01 + D12 = 2 violates by 3 for triples (0,1,2) and (2,1,0): 6 / 27.
  const tri = new Float32Array([0, 1, 5, 1, 0, 1, 5, 1, 0]);
  assert.ok(Math.abs(triangleInequalityLoss(tri) - 6 / 27) < 1e-12);
  const broke = broken((b) => { for (let i = 0; i < n; i++) b[i * n + ((i + 20) % n)] *= 4; });
  const exact = triangleInequalityLoss(broke), sampled = triangleInequalityLossSampled(broke, 200_000, 7);
  assert.ok(Math.abs(sampled - exact) / exact < 0.1, `sampled ${sampled} vs exact ${exact}`);
  assert.equal(triangleInequalityLossSampled(broke, 1000, 3), triangleInequalityLossSampled(broke, 1000, 3));
});

test("features: regionprops and normalised EFD equal the anchors' scikit-image numbers", async () => {
  assert.deepEqual([...REGIONPROPS_COLUMNS], FIXTURE.regionprops_names);
  assert.deepEqual(efdColumns(10), FIXTURE.efd_names);
  for (const ref of FIXTURE.masks) {
    const m = await mask(ref.file);
    const rp = regionprops(m);
    // Exact ports (same perimeter weights, same convex-hull pixel test, same moments): only float rounding
    // differs, so 1e-9 relative. Orientation is an angle near 0 for some worms: absolute 1e-9.
    for (const k of REGIONPROPS_COLUMNS) {
      const want = ref.regionprops[k], got = rp[k];
      assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${ref.file} ${k}: ${got} vs ${want}`);
    }
    const efd = efdFeatures(objectContour(m).contour);
    assert.equal(efd.length, 37);
    assert.ok(maxAbsDiff(efd, ref.efd) < 1e-9, `${ref.file}: EFD`);
  }
});

test("feature table: CSV with id, regionprops, EFD and label columns; bad labels file named", async () => {
  const ids = FIXTURE.masks.map((m) => m.file);
  const table = await classicalFeatureTable(DATA, { ids });
  assert.deepEqual(table.columns.slice(0, 9), ["mask_file", ...REGIONPROPS_COLUMNS]);
  assert.deepEqual(table.columns.slice(-2), ["label_well", "label_bioimage_embed"]);
  assert.deepEqual(table.groups.efd, FIXTURE.efd_names);
  assert.deepEqual(table.multiComponent.sort(), FIXTURE.masks.filter((m) => m.n_components > 1).map((m) => m.file).sort());
  const dir = await mkdtemp(join(tmpdir(), "bie-shapes-"));
  try {
    const out = join(dir, "sub", "features.csv");
    await writeFeatureTable(table, out);
    const csv = parseCsv(await readFile(out, "utf8"));
    assert.deepEqual(csv.header, table.columns);
    const row = csv.rows.find((r) => r[0] === "masks_eachworm/A01_01_ground_truth.png")!;
    const ref = FIXTURE.masks.find((m) => m.file === row[0])!;
    const rp = regionprops(await mask(ref.file));
    assert.equal(Number(row[2]), rp.perimeter); // numbers survive the CSV round trip exactly
    assert.ok(Math.abs(Number(row[2]) - ref.regionprops.perimeter) < 1e-9);
    assert.equal(row.at(-2), "alive");
    // A01_15 is one of the 30 unlabelled worms: its label_bioimage_embed stays empty.
    const t2 = await classicalFeatureTable(DATA, { ids: ["masks_eachworm/A01_15_ground_truth.png"] });
    assert.equal(t2.rows[0].at(-1), "");

    await writeFile(join(dir, "labels.csv"), "mask_file,label_x\nnope.png,a\n");
    await assert.rejects(classicalFeatureTable(dir), (e: unknown) => e instanceof BadInputError && e.file === join(dir, "nope.png"));
    await writeFile(join(dir, "labels.csv"), "file,label_x\nnope.png,a,b\n");
    await assert.rejects(classicalFeatureTable(dir), (e: unknown) => e instanceof BadInputError && /row 2 has 3 fields/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("batch pipeline: worker threads give the same matrices as this thread; bad files are named", async () => {
  const paths = FIXTURE.masks.map((m) => join(DATA, m.file));
  const here = await masksToDistanceMatrices(paths, { n: 64, workers: 0 });
  // mainThread: false makes the two workers do every batch; the default mixes this thread and workers.
  for (const opts of [{ workers: 2, mainThread: false }, { workers: 1 }]) {
    const there = await masksToDistanceMatrices(paths, { n: 64, ...opts });
    assert.equal(there.length, paths.length);
    for (let i = 0; i < paths.length; i++) assert.deepEqual(there[i], here[i], paths[i]);
  }
  assert.deepEqual(here[0], maskToDistanceMatrix(await mask(FIXTURE.masks[0].file), { n: 64 }));

  const dir = await mkdtemp(join(tmpdir(), "bie-shapes-"));
  try {
    const bad = join(dir, "broken.png");
    await writeFile(bad, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
    // The error comes back as the same tagged error from this thread and from a worker.
    for (const opts of [{ workers: 0 }, { workers: 1, mainThread: false }, { workers: 1 }])
      await assert.rejects(masksToDistanceMatrices([paths[0], bad], opts), (e: unknown) => e instanceof BadInputError && e.file === bad);
    await assert.rejects(masksToDistanceMatrices([join(dir, "missing.png")], { workers: 1, mainThread: false }), (e: unknown) =>
      e instanceof BadInputError && /missing\.png/.test(e.message));
    await assert.rejects(masksToDistanceMatrices(paths, { workers: 0, mainThread: false }), (e: unknown) => e instanceof ConfigError && e.field === "workers");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await assert.rejects(masksToDistanceMatrices(paths, { normalise: "sum" as never }), (e: unknown) => e instanceof ConfigError && e.field === "shapes.normalise");
});
