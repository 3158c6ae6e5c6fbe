// Reading a mask (binary or instance labels) as one 2-D plane.
// Masks are the hot path of the shape pipeline: BBBC010 masks are ~1 KB PNGs that inflate to 360 KB, and
// inflating them in JavaScript costs ~2 ms each — more than the whole rest of mask → distance matrix.
// So 8- and 16-bit non-interlaced PNGs go through src/io/png.ts (node's native zlib, no geotiff to load in a
// worker thread); everything else (palette, 1-bit, interlaced PNG, TIFF) through src/io/image.ts.
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { BadInputError } from "../errors.ts";
import type { PixelArray, PlanarImage } from "../io/image.ts";
import { decodePngFast } from "../io/png.ts";

/** One plane of a mask: non-zero = foreground, or instance labels. Pixel (row r, column c) is data[r*width + c]. */
export interface MaskImage {
  data: PixelArray;
  width: number;
  height: number;
}

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

/** PNG through src/io/png.ts (node's zlib); a Promise only when it falls back to the general decoder. */
export function decodeMask(bytes: Uint8Array, path: string): MaskImage | Promise<MaskImage> {
  const fast = decodePngFast(bytes);
  if (fast) return firstPlane(fast);
  // Imported on demand: the general decoder pulls in geotiff, which costs ~100 ms per worker thread to load.
  return import("../io/image.ts").then(({ decodeImage }) => decodeImage(bytes, path)).then(firstPlane);
}

function firstPlane(img: PlanarImage): MaskImage {
  return { data: img.channels === 1 ? img.data : img.data.subarray(0, img.width * img.height), width: img.width, height: img.height };
}
