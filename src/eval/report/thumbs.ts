// Thumbnails for the report's neighbour gallery: read an image (PNG/TIFF), stretch each channel between its
// 1st and 99th percentile, shrink by box averaging to at most `size` px, and return a PNG data URL.
// One channel → grey; two → first channel; three or more → the first three as RGB.
import { encode } from "fast-png";
import { readImage, type PlanarImage } from "../../io/image.ts";

/** A sparse single-channel image (a mask) cropped to its foreground box plus a margin, so small objects show. */
function cropSparse(im: PlanarImage): PlanarImage {
  if (im.channels !== 1) return im;
  const { width: w, height: h, data } = im;
  let x0 = w, y0 = h, x1 = -1, y1 = -1, on = 0;
  const bg = data[0];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (data[y * w + x] !== bg) { on++; if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
  if (on === 0 || on > 0.25 * w * h) return im;
  const side = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const half = Math.ceil(side * 0.6), cx = (x0 + x1) >> 1, cy = (y0 + y1) >> 1;
  const ax = Math.max(0, cx - half), ay = Math.max(0, cy - half), bx = Math.min(w, cx + half), by = Math.min(h, cy + half);
  const cw = bx - ax, ch = by - ay;
  const Ctor = data.constructor as { new (n: number): typeof data };
  const out = new Ctor(cw * ch);
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) out[y * cw + x] = data[(ay + y) * w + ax + x];
  return { ...im, data: out, width: cw, height: ch };
}

export function thumbnailPng(image: PlanarImage, size = 64): Uint8Array {
  const im = cropSparse(image);
  const { width: w, height: h } = im;
  const np = w * h;
  const outC = im.channels >= 3 ? 3 : 1;
  const scale = Math.min(1, size / Math.max(w, h));
  const tw = Math.max(1, Math.round(w * scale)), th = Math.max(1, Math.round(h * scale));
  const out = new Uint8Array(tw * th * outC);
  for (let c = 0; c < outC; c++) {
    const plane = im.data.subarray(c * np, (c + 1) * np);
    const sorted = Float64Array.from(plane as ArrayLike<number>).sort();
    const lo = sorted[Math.floor(0.01 * (np - 1))], hi = sorted[Math.ceil(0.99 * (np - 1))];
    const range = hi > lo ? hi - lo : 1;
    for (let ty = 0; ty < th; ty++) {
      const y0 = Math.floor((ty * h) / th), y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * h) / th));
      for (let tx = 0; tx < tw; tx++) {
        const x0 = Math.floor((tx * w) / tw), x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * w) / tw));
        let s = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += plane[y * w + x];
        const v = (s / ((y1 - y0) * (x1 - x0)) - lo) / range;
        out[(ty * tw + tx) * outC + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
    }
  }
  return encode({ width: tw, height: th, data: out, channels: outC, depth: 8 });
}

export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
}

/** Data URL of a thumbnail, or null if the file cannot be read (the gallery then shows the id only). */
export async function thumbnailDataUrl(path: string, size = 64): Promise<string | null> {
  try {
    return pngDataUrl(thumbnailPng(await readImage(path), size));
  } catch {
    return null;
  }
}
