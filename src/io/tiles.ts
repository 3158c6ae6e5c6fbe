// Where to cut training tiles from big images: seeded random positions (one image or many), a regular
// grid for whole-image inference, and crops centred on the objects of a label image. Only positions
// are computed here; pixels come from ImageSource.readRegion, so nothing big is ever loaded.
import { BadInputError } from "../errors.ts";
import type { ImageSource, Shape5 } from "./source-types.ts";

export interface Tile {
  /** Index of the image in the list given to randomTilesAcross (0 for single-image helpers). */
  source: number;
  level: number;
  t: number;
  z: number;
  y0: number;
  x0: number;
  h: number;
  w: number;
}

export type TileSize = number | readonly [h: number, w: number];
const hw = (s: TileSize): [number, number] => (typeof s === "number" ? [s, s] : [s[0], s[1]]);

/** mulberry32, as in src/data/rng.ts: the same seed gives the same tiles on every machine. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const below = (r: () => number, n: number) => Math.floor(r() * n);

export interface RandomTileOptions {
  count: number;
  size: TileSize;
  seed: number;
  level?: number;
  /** Draw t and z at random too (default true); otherwise always t=0, z=0. */
  randomTZ?: boolean;
}

function checkFits(shape: Shape5, h: number, w: number, what: string) {
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) throw new RangeError(`tile size ${h}×${w} must be positive integers`);
  if (h > shape.y || w > shape.x) throw new RangeError(`${what}: tile ${h}×${w} does not fit in the ${shape.y}×${shape.x} image`);
}

/** `count` tiles at uniformly random positions inside one image level (seeded, reproducible). */
export function randomTiles(shape: Shape5, opts: RandomTileOptions): Tile[] {
  return randomTilesAcross([shape], opts);
}

/**
 * Random tiles over many images: each tile picks an image with probability proportional to the
 * number of distinct tile positions it offers (so big images give more tiles), then a position.
 */
export function randomTilesAcross(shapes: readonly Shape5[], opts: RandomTileOptions): Tile[] {
  const [h, w] = hw(opts.size);
  const level = opts.level ?? 0;
  if (shapes.length === 0) throw new RangeError("no images to draw tiles from");
  shapes.forEach((s, i) => checkFits(s, h, w, `image ${i}`));
  const weights = shapes.map((s) => (s.y - h + 1) * (s.x - w + 1) * (opts.randomTZ === false ? 1 : s.t * s.z));
  const cum: number[] = [];
  weights.reduce((acc, v, i) => (cum[i] = acc + v), 0);
  const total = cum[cum.length - 1];
  const r = rng(opts.seed);
  const tiles: Tile[] = [];
  for (let k = 0; k < opts.count; k++) {
    const u = r() * total;
    let source = 0;
    while (cum[source] <= u && source < cum.length - 1) source++;
    const s = shapes[source];
    const t = opts.randomTZ === false ? 0 : below(r, s.t);
    const z = opts.randomTZ === false ? 0 : below(r, s.z);
    tiles.push({ source, level, t, z, y0: below(r, s.y - h + 1), x0: below(r, s.x - w + 1), h, w });
  }
  return tiles;
}

/** Tiles on a regular grid (stride defaults to the tile size); the last row/column is shifted to end at the border. */
export function gridTiles(shape: Shape5, opts: { size: TileSize; stride?: TileSize; level?: number; t?: number; z?: number }): Tile[] {
  const [h, w] = hw(opts.size);
  const [sh, sw] = hw(opts.stride ?? opts.size);
  checkFits(shape, h, w, "grid");
  const starts = (n: number, size: number, step: number) => {
    const out: number[] = [];
    for (let p = 0; p + size <= n; p += step) out.push(p);
    if (out[out.length - 1] !== n - size) out.push(n - size);
    return out;
  };
  const tiles: Tile[] = [];
  for (const y0 of starts(shape.y, h, sh))
    for (const x0 of starts(shape.x, w, sw)) tiles.push({ source: 0, level: opts.level ?? 0, t: opts.t ?? 0, z: opts.z ?? 0, y0, x0, h, w });
  return tiles;
}

export interface LabelObject {
  label: number;
  /** Pixel count at the label level read. */
  area: number;
  /** Mean (y, x) of the object's pixels, at the label level read. */
  centroid: [number, number];
  /** [y0, x0, y1, x1), end exclusive (as skimage regionprops). */
  bbox: [number, number, number, number];
}

/**
 * Scans a label image (0 = background) band by band and returns every object's area, centroid and
 * bounding box, sorted by label. Memory is one band plus one record per object.
 */
export async function labelObjects(labels: ImageSource, opts: { level?: number; t?: number; z?: number; channel?: number; bandRows?: number } = {}): Promise<LabelObject[]> {
  const level = opts.level ?? 0;
  const s = labels.shapes[level];
  if (!s) throw new RangeError(`${labels.path}: label level ${level} does not exist`);
  if (labels.dtype === "float32" || labels.dtype === "float64")
    throw new BadInputError(labels.path, `label image holds ${labels.dtype} values; labels must be integers`);
  const band = Math.max(1, opts.bandRows ?? Math.max(1, Math.floor((1 << 22) / s.x)));
  const acc = new Map<number, { n: number; sy: number; sx: number; y0: number; x0: number; y1: number; x1: number }>();
  for (let y0 = 0; y0 < s.y; y0 += band) {
    const h = Math.min(band, s.y - y0);
    const data = await labels.readRegion({ level, t: opts.t ?? 0, z: opts.z ?? 0, c: opts.channel ?? 0, y0, x0: 0, h, w: s.x });
    let last = 0, a = undefined as ReturnType<typeof acc.get>;
    for (let yy = 0; yy < h; yy++) {
      const y = y0 + yy;
      for (let x = 0, i = yy * s.x; x < s.x; x++, i++) {
        const v = data[i];
        if (v === 0) continue;
        if (v !== last || !a) {
          a = acc.get(v);
          if (!a) { a = { n: 0, sy: 0, sx: 0, y0: y, x0: x, y1: y, x1: x }; acc.set(v, a); }
          last = v;
        }
        a.n++; a.sy += y; a.sx += x;
        if (x < a.x0) a.x0 = x;
        if (x > a.x1) a.x1 = x;
        a.y1 = y; // rows are scanned in order, so the latest row is the largest
      }
    }
  }
  return [...acc.entries()].sort((p, q) => p[0] - q[0]).map(([label, a]) => ({
    label, area: a.n, centroid: [a.sy / a.n, a.sx / a.n], bbox: [a.y0, a.x0, a.y1 + 1, a.x1 + 1],
  }));
}

export interface ObjectCropOptions {
  size: TileSize;
  /** Image level the crops are for (default 0). */
  level?: number;
  /** Shape of the label level the objects were measured at; centroids are rescaled to `imageShape` (default: same). */
  labelShape?: Shape5;
  /** Skip objects smaller than this many label pixels. */
  minArea?: number;
  /** Shuffle the crop order with this seed (default: label order). */
  seed?: number;
  t?: number;
  z?: number;
}

export interface ObjectCrop extends Tile { label: number }

/** One crop per object, centred on its centroid and shifted to lie inside the image. */
export function objectCrops(objects: readonly LabelObject[], imageShape: Shape5, opts: ObjectCropOptions): ObjectCrop[] {
  const [h, w] = hw(opts.size);
  checkFits(imageShape, h, w, "object crops");
  const ls = opts.labelShape ?? imageShape;
  const fy = imageShape.y / ls.y, fx = imageShape.x / ls.x;
  const crops: ObjectCrop[] = [];
  for (const o of objects) {
    if (opts.minArea !== undefined && o.area < opts.minArea) continue;
    // Pixel centres: the centroid of a pixel at index i is i + 0.5 in continuous coordinates.
    const cy = (o.centroid[0] + 0.5) * fy, cx = (o.centroid[1] + 0.5) * fx;
    const y0 = Math.min(Math.max(0, Math.round(cy - h / 2)), imageShape.y - h);
    const x0 = Math.min(Math.max(0, Math.round(cx - w / 2)), imageShape.x - w);
    crops.push({ source: 0, level: opts.level ?? 0, t: opts.t ?? 0, z: opts.z ?? 0, y0, x0, h, w, label: o.label });
  }
  if (opts.seed !== undefined) {
    const r = rng(opts.seed);
    for (let i = crops.length - 1; i > 0; i--) {
      const j = below(r, i + 1);
      [crops[i], crops[j]] = [crops[j], crops[i]];
    }
  }
  return crops;
}
