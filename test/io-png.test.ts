// The PNG fast path (src/io/png.ts: node's zlib + our unfiltering) against Pillow's encoder and fast-png's decoder:
// PNGs written by Pillow (adaptive row filters) and fast-png (16-bit colour, which Pillow cannot write) from known
// pixels decode to exactly those pixels, and to exactly what the general decoder gives; the kinds it does not take
// (palette, interlaced, anything corrupt) fall through to the general decoder and its errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32, deflateSync, inflateSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { encode } from "fast-png";
import { decodeImage, decodePngGeneral, type PlanarImage } from "../src/io/image.ts";
import { decodePngFast } from "../src/io/png.ts";
import { decodeNpy } from "../src/io/npy.ts";
import { BadInputError } from "../src/errors.ts";
import { tempDir } from "./temp-dir.ts";

const DATA = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const dir = tempDir("io-png");

// Pillow writes each kind from seeded pixels, with the pixels beside it as .npy (planar: channel, y, x).
const py = `
import sys, numpy as np
from PIL import Image
d = sys.argv[1]; rng = np.random.default_rng(7)
def save(name, arr, mode, **kw):
    Image.fromarray(arr, mode).save(f"{d}/{name}.png", **kw)
    planar = arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0)
    np.save(f"{d}/{name}.npy", np.ascontiguousarray(planar).astype(np.int32))  # our .npy reader has no uint16
h, w = 37, 53  # odd sizes: rows that are not a multiple of anything
smooth = (np.add.outer(np.arange(h), np.arange(w)) * 3 % 256).astype(np.uint8)  # smooth: Pillow picks sub/up/avg/paeth
save("grey8", smooth, "L")
save("grey8_noise", rng.integers(0, 256, (h, w), dtype=np.uint8), "L")
save("grey_alpha8", np.stack([smooth, 255 - smooth], -1), "LA")
save("rgb8", np.stack([smooth, smooth[::-1], rng.integers(0, 256, (h, w), dtype=np.uint8)], -1), "RGB")
save("rgba8", np.stack([smooth, smooth[:, ::-1], smooth // 2, 255 - smooth], -1), "RGBA")
save("grey16", (np.add.outer(np.arange(h), np.arange(w)) * 997 % 65536).astype(np.uint16), "I;16")
pal = Image.fromarray(smooth, "L").convert("P"); pal.save(f"{d}/palette.png")
`;

function planarOf(file: string): { data: ArrayLike<number>; shape: number[] } {
  return decodeNpy(new Uint8Array(readFileSync(file)), file) as { data: Int32Array; shape: number[] };
}

function same(a: PlanarImage, b: PlanarImage, what: string) {
  assert.deepEqual([a.width, a.height, a.channels, a.dtype], [b.width, b.height, b.channels, b.dtype], `${what}: header`);
  assert.ok(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength)), `${what}: pixels`);
}

test("Pillow's PNGs (8-bit grey, grey+alpha, RGB, RGBA; 16-bit grey) decode through the fast path to the written pixels and to fast-png's result", () => {
  const r = spawnSync("/usr/bin/python3", ["-c", py, dir], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  for (const name of ["grey8", "grey8_noise", "grey_alpha8", "rgb8", "rgba8", "grey16"]) {
    const bytes = new Uint8Array(readFileSync(join(dir, `${name}.png`)));
    const fast = decodePngFast(bytes);
    assert.ok(fast, `${name}: taken by the fast path`);
    const ref = planarOf(join(dir, `${name}.npy`));
    assert.deepEqual([fast.channels, fast.height, fast.width], ref.shape, `${name}: shape`);
    assert.deepEqual(Array.from(fast.data), Array.from(ref.data), `${name}: pixels as written`);
    same(fast, decodePngGeneral(bytes, name), name);
  }
  // The row filters Pillow chose (it never picks "average"; the next test writes every filter on purpose).
  const filters = new Set<number>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".png"))) for (const x of rowFilters(new Uint8Array(readFileSync(join(dir, f))))) filters.add(x);
  for (const f of [0, 1, 2, 4]) assert.ok(filters.has(f), `Pillow used filter ${f}`);
});

test("every row filter (none, sub, up, average, Paeth; first row included), 8- and 16-bit: the fast path gives the pixels back", () => {
  for (const [channels, depth] of [[3, 8], [1, 16], [4, 16]] as const) {
    const width = 23, height = 15, bpp = channels * (depth / 8), rowBytes = width * bpp;
    const px = new Uint8Array(height * rowBytes).map((_, i) => (i * 73 + ((i / rowBytes) | 0) * 29) % 251);
    const bytes = pngWithFilters(width, height, channels, depth, px, (r) => r % 5);
    assert.deepEqual(rowFilters(bytes), Array.from({ length: height }, (_, r) => r % 5));
    const fast = decodePngFast(bytes);
    assert.ok(fast, `${channels}×${depth}-bit: taken by the fast path`);
    same(fast, decodePngGeneral(bytes, "filters.png"), `${channels}×${depth}-bit`);
    const n = width * height;
    for (let i = 0; i < n; i++)
      for (let c = 0; c < channels; c++) {
        const k = (i * channels + c) * (depth / 8);
        assert.equal(fast.data[c * n + i], depth === 8 ? px[k] : (px[k] << 8) | px[k + 1]);
      }
  }
});

test("16-bit RGB and grey+alpha (written by fast-png) decode through the fast path exactly", () => {
  for (const channels of [2, 3, 4]) {
    const width = 19, height = 11;
    const data = new Uint16Array(width * height * channels).map((_, i) => (i * 2654435761) % 65536);
    const bytes = encode({ width, height, data, depth: 16, channels });
    const fast = decodePngFast(bytes);
    assert.ok(fast, `${channels} channels: taken by the fast path`);
    const n = width * height;
    for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) assert.equal(fast.data[c * n + i], data[i * channels + c]);
    same(fast, decodePngGeneral(bytes, "x"), `${channels}×16-bit`);
  }
});

test("palette PNGs and damaged files fall through to the general decoder, which names the fault", async () => {
  const pal = new Uint8Array(readFileSync(join(dir, "palette.png")));
  assert.equal(decodePngFast(pal), null);
  same(await decodeImage(pal, "palette.png"), decodePngGeneral(pal, "palette.png"), "palette");

  const good = new Uint8Array(readFileSync(join(dir, "rgb8.png")));
  const flipped = good.slice();
  flipped[good.length - 20] ^= 0x10; // inside the last IDAT (before IEND's 12 bytes and the IDAT CRC)
  assert.equal(decodePngFast(flipped), null, "a bad CRC is not decoded by the fast path");
  await assert.rejects(decodeImage(flipped, "flipped.png"), (e: Error) => e instanceof BadInputError && /flipped\.png/.test(e.message) && /corrupt PNG/.test(e.message));
  const truncated = good.subarray(0, good.length - 30);
  assert.equal(decodePngFast(truncated), null);
  await assert.rejects(decodeImage(truncated, "cut.png"), (e: Error) => e instanceof BadInputError && /cut\.png/.test(e.message));
});

test("BBBC010 masks: the fast path and fast-png agree on every pixel", () => {
  const masks = join(DATA, "bbbc010/masks_eachworm");
  const files = readdirSync(masks).filter((f) => f.endsWith(".png")).slice(0, 40);
  assert.equal(files.length, 40);
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(join(masks, f)));
    const fast = decodePngFast(bytes);
    if (!fast) continue; // a kind the fast path leaves to fast-png (checked below that most are taken)
    same(fast, decodePngGeneral(bytes, f), f);
  }
  assert.ok(files.filter((f) => decodePngFast(new Uint8Array(readFileSync(join(masks, f))))).length >= 30, "the masks are the common kind");
});

/** A PNG of the given pixels (interleaved, big-endian for 16-bit) with row r filtered by filterOf(r), as the spec says. */
function pngWithFilters(width: number, height: number, channels: number, depth: number, px: Uint8Array, filterOf: (r: number) => number): Uint8Array {
  const bpp = channels * (depth / 8), rowBytes = width * bpp;
  const raw = new Uint8Array(height * (rowBytes + 1));
  const at = (r: number, i: number) => (r >= 0 && i >= 0 ? px[r * rowBytes + i] : 0);
  for (let r = 0; r < height; r++) {
    const f = filterOf(r);
    raw[r * (rowBytes + 1)] = f;
    for (let i = 0; i < rowBytes; i++) {
      const x = at(r, i), a = at(r, i - bpp), b = at(r - 1, i), c = at(r - 1, i - bpp);
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      raw[r * (rowBytes + 1) + 1 + i] = (x - pred) & 255;
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "latin1");
    out.set(data, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, { 1: 0, 2: 4, 3: 2, 4: 6 }[channels]!, 0, 0, 0], 8);
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array())]));
}

/** The filter byte of every row of a non-interlaced PNG (after inflating its IDAT): which branches a file exercises. */
function rowFilters(b: Uint8Array): number[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = view.getUint32(16), height = view.getUint32(20), depth = b[24], colour = b[25];
  const ch = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colour];
  const rowBytes = Math.ceil((width * ch * depth) / 8);
  const idat: Uint8Array[] = [];
  for (let off = 8; off + 12 <= b.length; ) {
    const len = view.getUint32(off);
    if (String.fromCharCode(...b.subarray(off + 4, off + 8)) === "IDAT") idat.push(b.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  return Array.from({ length: height }, (_, r) => raw[r * (rowBytes + 1)]);
}
