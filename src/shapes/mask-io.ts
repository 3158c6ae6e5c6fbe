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
  // Grey images are unfiltered straight into the output (its previous row is the "up" row); others
  // through a two-row buffer, keeping the first sample of each pixel.
  const direct = bpp === 1;
  let prev = direct ? out.subarray(0, 0) : new Uint8Array(rowBytes), cur = direct ? out.subarray(0, 0) : new Uint8Array(rowBytes);
  const zeros = new Uint8Array(rowBytes);
  for (let r = 0; r < height; r++) {
    if (direct) { prev = r > 0 ? out.subarray((r - 1) * width, r * width) : zeros; cur = out.subarray(r * width, (r + 1) * width); }
    const start = r * (rowBytes + 1);
    const filter = raw[start];
    const src = raw.subarray(start + 1, start + 1 + rowBytes);
    if (filter === 0) cur.set(src);
    else if (filter === 1) for (let i = 0; i < rowBytes; i++) cur[i] = src[i] + (i >= bpp ? cur[i - bpp] : 0);
    else if (filter === 2) for (let i = 0; i < rowBytes; i++) cur[i] = src[i] + prev[i];
    else if (filter === 3) for (let i = 0; i < rowBytes; i++) cur[i] = src[i] + (((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1);
    else if (filter === 4)
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? cur[i - bpp] : 0, up = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
        const p = a + up - c, pa = Math.abs(p - a), pb = Math.abs(p - up), pc = Math.abs(p - c);
        cur[i] = src[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? up : c);
      }
    else throw new BadInputError(path, `corrupt PNG (unknown row filter ${filter} in row ${r})`);
    if (!direct) {
      for (let c = 0, o = r * width; c < width; c++) out[o + c] = cur[c * bpp];
      const t = prev; prev = cur; cur = t;
    }
  }
  return { data: out, width, height };
}
