// The search figure (hits.png): one searched image with the query (cyan) and the hits outlined and numbered
// (rank 1 red, then orange to yellow); several searched images give a strip of crops instead: query, then hits.
import { writeFileSync } from "node:fs";
import { encode } from "fast-png";
import type { PixelArray } from "../io/image.ts";
import { percentiles } from "../data/normalise.ts";
import type { ImageSource } from "../io/source.ts";
import { imageRef } from "./inputs.ts";
import type { SearchResult } from "./search.ts";

type Rgb = [number, number, number];
const QUERY: Rgb = [0, 220, 255];
const rankColour = (rank: number, k: number): Rgb => [255, Math.round(40 + 180 * ((rank - 1) / Math.max(1, k - 1))), 0];

/** An 8-bit RGB canvas. */
class Canvas {
  readonly px: Uint8Array;
  constructor(readonly w: number, readonly h: number) { this.px = new Uint8Array(w * h * 3); }
  set(x: number, y: number, c: Rgb) {
    if (x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    this.px.set(c, (y * this.w + x) * 3);
  }
  rect(x: number, y: number, w: number, h: number, c: Rgb, line = 2) {
    for (let t = 0; t < line; t++) {
      for (let i = x - t; i <= x + w - 1 + t; i++) { this.set(i, y - t, c); this.set(i, y + h - 1 + t, c); }
      for (let j = y - t; j <= y + h - 1 + t; j++) { this.set(x - t, j, c); this.set(x + w - 1 + t, j, c); }
    }
  }
  /** A number in a 3×5 pixel font, scaled, with a dark backing so it reads on any image. */
  text(s: string, x: number, y: number, c: Rgb, scale = 2) {
    for (let yy = -1; yy < 5 * scale + 1; yy++) for (let xx = -1; xx < s.length * 4 * scale; xx++) this.set(x + xx, y + yy, [0, 0, 0]);
    [...s].forEach((ch, i) => {
      const g = DIGITS[ch];
      if (!g) return;
      for (let r = 0; r < 5; r++) for (let col = 0; col < 3; col++)
        if ((g[r] >> (2 - col)) & 1) for (let a = 0; a < scale; a++) for (let b = 0; b < scale; b++) this.set(x + (i * 4 + col) * scale + b, y + r * scale + a, c);
    });
  }
  png(): Uint8Array { return encode({ width: this.w, height: this.h, data: this.px, channels: 3, depth: 8 }); }
}

const DIGITS: Record<string, number[]> = {
  "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], Q: [7, 5, 5, 7, 3],
};

/** Up to 3 channels of a C×h×w block → 8-bit RGB (1: grey; 2: green + magenta; 3: RGB), percentile-scaled. */
function toRgb(data: PixelArray, dtype: string, c: number, w: number, h: number, out: Canvas, ox: number, oy: number, step = 1) {
  const n = w * h;
  const ranges = Array.from({ length: c }, (_, i) => percentiles(data.subarray(i * n, (i + 1) * n) as PixelArray, dtype, 1, 99.8));
  const v = (ch: number, i: number) => { const [lo, hi] = ranges[ch]; return hi > lo ? Math.max(0, Math.min(255, ((data[ch * n + i] - lo) / (hi - lo)) * 255)) : 0; };
  for (let y = 0; y * step < h; y++)
    for (let x = 0; x * step < w; x++) {
      const i = y * step * w + x * step;
      const rgb: Rgb = c === 1 ? [v(0, i), v(0, i), v(0, i)] : c === 2 ? [v(1, i), v(0, i), v(1, i)] : [v(0, i), v(1, i), v(2, i)];
      out.set(ox + x, oy + y, rgb.map(Math.round) as Rgb);
    }
}

async function readAll(src: ImageSource, level: number, channels: number[]) {
  const s = src.shapes[level];
  return { data: await src.readRegion({ level, c: channels, y0: 0, x0: 0, h: s.y, w: s.x }), w: s.x, h: s.y };
}

/** hits.png for a search result. channels: the channels searched (first 3 shown). */
export async function writeSearchFigure(file: string, r: SearchResult, channels?: number[]): Promise<void> {
  const k = r.hits.length;
  if (r.images.length === 1) {
    const src = await imageRef(r.images[0]).open();
    try {
      // Display level: the finest whose larger side is at most 2048 pixels (else the coarsest), then stride down to ≤ 1600.
      let level = 0;
      while (level < src.levels - 1 && Math.max(src.shapes[level].x, src.shapes[level].y) > 2048) level++;
      const ch = (channels ?? Array.from({ length: src.shapes[level].c }, (_, i) => i)).slice(0, 3);
      const { data, w, h } = await readAll(src, level, ch);
      const step = Math.max(1, Math.ceil(Math.max(w, h) / 1600));
      const canvas = new Canvas(Math.ceil(w / step), Math.ceil(h / step));
      toRgb(data, src.dtype, ch.length, w, h, canvas, 0, 0, step);
      const scaleOf = (lv: number) => (src.shapes[0].x / src.shapes[lv].x) / (src.shapes[0].x / src.shapes[level].x) / step;
      const box = (x: number, y: number, bw: number, bh: number, lv: number, c: Rgb, label: string) => {
        const s = scaleOf(lv);
        canvas.rect(Math.round(x * s), Math.round(y * s), Math.max(2, Math.round(bw * s)), Math.max(2, Math.round(bh * s)), c);
        canvas.text(label, Math.round(x * s) + 3, Math.round(y * s) + 3, c);
      };
      for (const hit of [...r.hits].reverse()) box(hit.x, hit.y, hit.w, hit.h, hit.level, rankColour(hit.rank, k), String(hit.rank));
      // The query last, just outside its box, so a hit on the query itself (rank 1) does not hide it.
      if (r.queryImage === r.images[0]) {
        const [x, y, w, h] = r.queryBox, s = scaleOf(r.hits[0]?.level ?? 0);
        canvas.rect(Math.round(x * s) - 3, Math.round(y * s) - 3, Math.round(w * s) + 6, Math.round(h * s) + 6, QUERY);
        canvas.text("Q", Math.round((x + w) * s) - 12, Math.round(y * s) + 3, QUERY);
      }
      writeFileSync(file, canvas.png());
    } finally {
      await src.close();
    }
    return;
  }
  // Several images: a strip of 96-pixel crops, query first.
  const cell = 96, pad = 6;
  const canvas = new Canvas((k + 1) * (cell + pad) + pad, cell + 2 * pad);
  const crop = async (image: string, level: number, x: number, y: number, w: number, h: number, slot: number, c: Rgb, label: string) => {
    const src = await imageRef(image).open();
    try {
      const lv = Math.min(level, src.levels - 1);
      const ch = (channels ?? Array.from({ length: src.shapes[lv].c }, (_, i) => i)).slice(0, 3);
      const data = await src.readRegion({ level: lv, c: ch, y0: y, x0: x, h, w });
      const step = Math.max(1, Math.ceil(Math.max(w, h) / cell));
      const ox = pad + slot * (cell + pad), oy = pad;
      toRgb(data, src.dtype, ch.length, w, h, canvas, ox, oy, step);
      canvas.rect(ox - 2, oy - 2, Math.ceil(w / step) + 4, Math.ceil(h / step) + 4, c);
      canvas.text(label, ox + 2, oy + 2, c);
    } finally {
      await src.close();
    }
  };
  const [qx, qy, qw, qh] = r.queryBox;
  await crop(r.queryImage, r.hits[0]?.level ?? 0, qx, qy, qw, qh, 0, QUERY, "Q");
  for (const hit of r.hits) await crop(hit.image, hit.level, hit.x, hit.y, hit.w, hit.h, hit.rank, rankColour(hit.rank, k), String(hit.rank));
  writeFileSync(file, canvas.png());
}
