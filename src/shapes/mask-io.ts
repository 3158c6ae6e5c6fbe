// Reading a mask (binary or instance labels) as one 2-D plane.
// Masks are the hot path of the shape pipeline: BBBC010 masks are ~1 KB PNGs that inflate to 360 KB, and
// inflating them in JavaScript costs ~2 ms each — more than the whole rest of mask → distance matrix.
// So 8-bit non-interlaced PNGs are decoded here with node's native zlib; everything else (16-bit, palette,
// 1-bit, interlaced PNG, TIFF) goes through src/io/image.ts unchanged.
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { BadInputError } from "../errors.ts";
import type { PixelArray } from "../io/image.ts";

/** One plane of a mask: non-zero = foreground, or instance labels. Pixel (row r, column c) is data[r*width + c]. */
export interface MaskImage {
  data: PixelArray;
  width: number;
  height: number;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const BYTES_PER_PIXEL: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 }; // colour type → samples at 8 bits

/** Reads a PNG/TIFF mask; multi-channel images keep their first channel (as the anchors do with m[..., 0]). */
export async function readMask(path: string): Promise<MaskImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new BadInputError(path, `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  return decodeMask(bytes, path);
}

/** Synchronous variant for worker threads, where awaiting each small file only adds latency. */
export function readMaskSync(path: string): MaskImage | Promise<MaskImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new BadInputError(path, `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  return decodeMask(bytes, path);
}

/** Fast path for 8-bit PNG; returns a Promise only when it falls back to the general decoder. */
export function decodeMask(bytes: Uint8Array, path: string): MaskImage | Promise<MaskImage> {
  const fast = decodePng8(bytes, path);
  if (fast) return fast;
  // Imported on demand: the general decoder pulls in geotiff, which costs ~100 ms per worker thread to load.
  return import("../io/image.ts").then(({ decodeImage }) => decodeImage(bytes, path)).then((img) => ({
    data: img.channels === 1 ? img.data : img.data.subarray(0, img.width * img.height),
    width: img.width,
    height: img.height,
  }));
}

/** Decodes 8-bit, non-interlaced grey/RGB/grey-alpha/RGBA PNG to its first channel, or returns null if not that kind. */
function decodePng8(b: Uint8Array, path: string): MaskImage | null {
  if (b.length < 33 || !SIGNATURE.every((v, i) => b[i] === v)) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (view.getUint32(8) !== 13 || String.fromCharCode(b[12], b[13], b[14], b[15]) !== "IHDR") return null;
  const width = view.getUint32(16), height = view.getUint32(20);
  const depth = b[24], colour = b[25], interlace = b[28];
  const bpp = BYTES_PER_PIXEL[colour];
  if (depth !== 8 || bpp === undefined || interlace !== 0) return null;
  if (!width || !height) throw new BadInputError(path, "PNG has zero size");

  const idat: Uint8Array[] = [];
  let off = 8;
  while (off + 8 <= b.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(b[off + 4], b[off + 5], b[off + 6], b[off + 7]);
    if (off + 12 + len > b.length) throw new BadInputError(path, `truncated PNG (chunk ${type} runs past the end)`);
    if (type === "IDAT") idat.push(b.subarray(off + 8, off + 8 + len));
    if (type === "IEND") break;
    off += 12 + len;
  }
  if (idat.length === 0) throw new BadInputError(path, "PNG has no image data (IDAT)");
  const rowBytes = width * bpp;
  const expected = height * (rowBytes + 1);
  let raw: Buffer;
  try {
    // One output chunk of the known size: the default 16 KB chunks make inflate ~2× slower here.
    raw = inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), { chunkSize: Math.max(64 * 1024, expected + 1024) });
  } catch (e) {
    throw new BadInputError(path, `corrupt PNG (${(e as Error).message})`, { cause: e });
  }
  if (raw.length < expected) throw new BadInputError(path, "PNG pixel data shorter than its header says");

  const out = new Uint8Array(width * height);
  if (bpp === 1) unfilterGrey(raw, out, width, height, path);
  else unfilterFirstChannel(raw, out, width, height, bpp, path);
  return { data: out, width, height };
}

/** Grey rows are unfiltered straight into the output, whose previous row is PNG's "up" row. */
function unfilterGrey(raw: Buffer, out: Uint8Array, w: number, h: number, path: string): void {
  for (let r = 0; r < h; r++) {
    const s = r * (w + 1) + 1, o = r * w, u = o - w; // source, output and "up" row starts
    const filter = raw[s - 1];
    if (filter === 0 || (filter === 2 && r === 0)) { raw.copy(out, o, s, s + w); continue; }
    if (filter === 1) {
      out[o] = raw[s];
      for (let i = 1; i < w; i++) out[o + i] = raw[s + i] + out[o + i - 1];
    } else if (filter === 2) {
      for (let i = 0; i < w; i++) out[o + i] = raw[s + i] + out[u + i];
    } else if (filter === 3) {
      out[o] = raw[s] + (r > 0 ? out[u] >> 1 : 0);
      for (let i = 1; i < w; i++) out[o + i] = raw[s + i] + ((out[o + i - 1] + (r > 0 ? out[u + i] : 0)) >> 1);
    } else if (filter === 4) {
      for (let i = 0; i < w; i++) {
        const a = i > 0 ? out[o + i - 1] : 0, b = r > 0 ? out[u + i] : 0, c = i > 0 && r > 0 ? out[u + i - 1] : 0;
        out[o + i] = raw[s + i] + paeth(a, b, c);
      }
    } else throw new BadInputError(path, `corrupt PNG (unknown row filter ${filter} in row ${r})`);
  }
}

/** Multi-sample pixels: unfilter through a two-row buffer and keep the first sample of each pixel. */
function unfilterFirstChannel(raw: Buffer, out: Uint8Array, w: number, h: number, bpp: number, path: string): void {
  const rb = w * bpp;
  let prev = new Uint8Array(rb), cur = new Uint8Array(rb);
  for (let r = 0; r < h; r++) {
    const s = r * (rb + 1) + 1;
    const filter = raw[s - 1];
    if (filter === 0) raw.copy(cur, 0, s, s + rb);
    else if (filter === 1) for (let i = 0; i < rb; i++) cur[i] = raw[s + i] + (i >= bpp ? cur[i - bpp] : 0);
    else if (filter === 2) for (let i = 0; i < rb; i++) cur[i] = raw[s + i] + prev[i];
    else if (filter === 3) for (let i = 0; i < rb; i++) cur[i] = raw[s + i] + (((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1);
    else if (filter === 4)
      for (let i = 0; i < rb; i++) cur[i] = raw[s + i] + paeth(i >= bpp ? cur[i - bpp] : 0, prev[i], i >= bpp ? prev[i - bpp] : 0);
    else throw new BadInputError(path, `corrupt PNG (unknown row filter ${filter} in row ${r})`);
    for (let c = 0, o = r * w; c < w; c++) out[o + c] = cur[c * bpp];
    const t = prev; prev = cur; cur = t;
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
