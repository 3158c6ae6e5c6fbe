// PNG for the common microscopy case — 8- or 16-bit grey, grey+alpha, RGB or RGBA, not interlaced — inflated by
// node's zlib (native) instead of fast-png's JavaScript inflate: 3× faster on a BBBC010 mask. Everything else
// (palette, 1/2/4-bit, interlaced), and any file that is not perfectly well-formed (a bad CRC, a chunk past the
// end, an inflate error, a short image), returns null, so the general decoder reads it and names what is wrong.
import { crc32, inflateSync } from "node:zlib";
import type { PlanarImage } from "./image.ts";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 }; // PNG colour type → samples per pixel

export function decodePngFast(b: Uint8Array): PlanarImage | null {
  if (b.length < 33 || !SIGNATURE.every((v, i) => b[i] === v)) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (view.getUint32(8) !== 13 || String.fromCharCode(b[12], b[13], b[14], b[15]) !== "IHDR") return null;
  const width = view.getUint32(16), height = view.getUint32(20);
  const depth = b[24], channels = CHANNELS[b[25]], interlace = b[28];
  if ((depth !== 8 && depth !== 16) || channels === undefined || interlace !== 0 || !width || !height) return null;

  const idat: Uint8Array[] = [];
  let off = 8, ended = false;
  while (off + 12 <= b.length) {
    const len = view.getUint32(off);
    if (off + 12 + len > b.length) return null;
    if (crc32(b.subarray(off + 4, off + 8 + len)) !== view.getUint32(off + 8 + len)) return null;
    const type = String.fromCharCode(b[off + 4], b[off + 5], b[off + 6], b[off + 7]);
    if (type === "IDAT") idat.push(b.subarray(off + 8, off + 8 + len));
    off += 12 + len;
    if (type === "IEND") { ended = true; break; }
  }
  if (!ended || idat.length === 0) return null;

  const bpp = channels * (depth >> 3); // bytes per pixel: the filters' left neighbour distance
  const rowBytes = width * bpp;
  const expected = height * (rowBytes + 1);
  let raw: Buffer;
  try {
    // One output chunk of the known size: the default 16 KB chunks make inflate ~2× slower.
    raw = inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), { chunkSize: Math.max(64 * 1024, expected + 1024) });
  } catch {
    return null;
  }
  if (raw.length < expected) return null;

  const px = new Uint8Array(height * rowBytes); // unfiltered rows, still interleaved (and big-endian for 16-bit)
  for (let r = 0; r < height; r++) {
    const s = r * (rowBytes + 1) + 1, o = r * rowBytes, u = o - rowBytes;
    const filter = raw[s - 1];
    if (filter === 0 || (filter === 2 && r === 0)) px.set(raw.subarray(s, s + rowBytes), o);
    else if (filter === 1) for (let i = 0; i < rowBytes; i++) px[o + i] = raw[s + i] + (i >= bpp ? px[o + i - bpp] : 0);
    else if (filter === 2) for (let i = 0; i < rowBytes; i++) px[o + i] = raw[s + i] + px[u + i];
    else if (filter === 3)
      for (let i = 0; i < rowBytes; i++) px[o + i] = raw[s + i] + (((i >= bpp ? px[o + i - bpp] : 0) + (r > 0 ? px[u + i] : 0)) >> 1);
    else if (filter === 4)
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? px[o + i - bpp] : 0, up = r > 0 ? px[u + i] : 0, c = i >= bpp && r > 0 ? px[u + i - bpp] : 0;
        px[o + i] = raw[s + i] + paeth(a, up, c);
      }
    else return null; // unknown filter: the general decoder reports it
  }

  const n = width * height;
  if (depth === 8) {
    if (channels === 1) return { data: px, width, height, channels, dtype: "uint8" };
    const out = new Uint8Array(n * channels);
    for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) out[c * n + i] = px[i * channels + c];
    return { data: out, width, height, channels, dtype: "uint8" };
  }
  const out = new Uint16Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) {
    const k = 2 * (i * channels + c);
    out[c * n + i] = (px[k] << 8) | px[k + 1];
  }
  return { data: out, width, height, channels, dtype: "uint16" };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
