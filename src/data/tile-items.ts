// Items over big images (data.tiles): each listed file becomes many (file, region) items — random tiles,
// grid tiles, object crops or whole planes, one set per time point (and z plane with z_stack=planes). Files
// are opened once here for their shapes, intensity ranges and label objects; pixels are read in the loader.
import type { DataConfig } from "../config/schema.ts";
import { BadInputError } from "../errors.ts";
import { openImageSource, type ImageSource, type Shape5 } from "../io/source.ts";
import { gridTiles, labelObjects, objectCrops, type LabelObject } from "../io/tiles.ts";
import { imageRange } from "./image-range.ts";
import { isZarrStore, type Item, type SkippedItem } from "./items.ts";
import { Rng, hash32, hashString } from "./rng.ts";
import { regionFor, type ItemRegion, type TileSpec } from "./tile-spec.ts";

export type TileMode = "none" | "whole" | "random" | "grid" | "objects";

const OME_NAME = /\.zarr\/?$|\.ome\.tiff?$/i;

/** data.tiles.mode with auto resolved: random tiles when any file is an OME-Zarr or OME-TIFF image. */
export function tileModeOf(data: DataConfig, files: readonly Item[]): TileMode {
  if (data.tiles.mode !== "auto") return data.tiles.mode;
  return files.some((f) => OME_NAME.test(f.path) || isZarrStore(f.path)) ? "random" : "none";
}

export interface TileExpansion {
  items: Item[];
  /** Files left out (data.skip_bad), with the reason. */
  bad: SkippedItem[];
}

/**
 * Tile items of every file, in file order. Channels: every file must have data.channels when set, else (stack
 * mode) as many as the first readable file; in batch mode without data.channels any count is allowed.
 */
export async function expandTiles(files: readonly Item[], data: DataConfig, mode: Exclude<TileMode, "none">, seed: number): Promise<TileExpansion> {
  const items: Item[] = [];
  const bad: SkippedItem[] = [];
  let expect: { channels: number; from: string } | null = data.channels !== undefined ? { channels: data.channels, from: `data.channels=${data.channels}` } : null;
  const anyCount = data.channel_mode === "batch" && data.channels === undefined;
  for (const file of files) {
    try {
      const src = await openImageSource(file.path);
      try {
        const c = src.shapes[Math.min(data.tiles.level, src.levels - 1)].c;
        if (expect && c !== expect.channels) throw new BadInputError(file.path, `has ${c} channel(s) but ${expect.channels} are expected (${expect.from})`);
        items.push(...(await tilesOfFile(file, src, data, mode, seed, items.length)));
        if (!anyCount && !expect) expect = { channels: c, from: `as in the first image, ${file.path}` };
      } finally {
        await src.close();
      }
    } catch (e) {
      if (!(data.skip_bad && e instanceof BadInputError)) throw e;
      bad.push({ path: file.path, reason: e.message.slice(e.file.length + 2) });
    }
  }
  return { items, bad };
}

type Placed = ItemRegion & { object?: number };

async function tilesOfFile(file: Item, src: ImageSource, data: DataConfig, mode: Exclude<TileMode, "none">, seed: number, firstIndex: number): Promise<Item[]> {
  const t = data.tiles;
  if (t.level >= src.levels) throw new BadInputError(file.path, `has ${src.levels} resolution level(s); data.tiles.level=${t.level} needs ${t.level + 1}`);
  const s = src.shapes[t.level];
  const [h, w] = mode === "whole" ? [s.y, s.x] : sizeHW(t.size ?? data.image_size);
  if (h > s.y || w > s.x) throw new BadInputError(file.path, `is ${s.y}×${s.x} at level ${t.level}, smaller than the ${h}×${w} tile (lower data.tiles.size or data.tiles.level)`);
  const zMax = data.z_stack === "max";
  const planes: [number, number | null][] = [];
  for (let ti = 0; ti < s.t; ti++) for (const z of zMax ? [null] : [...Array(s.z).keys()]) planes.push([ti, z]);

  let placed: Placed[] = [];
  let redraw: TileSpec["redraw"];
  if (mode === "random") {
    redraw = { t: s.t, z: zMax ? 1 : s.z, y: s.y, x: s.x };
    const n = t.per_image || Math.max(1, Math.round((s.y * s.x) / (h * w)));
    const zero: ItemRegion = { level: t.level, t: 0, z: zMax ? null : 0, y0: 0, x0: 0, h, w };
    // Stored position = the epoch-0 draw for this seed (what validation and embedding read).
    for (let k = 0; k < n; k++) placed.push(regionFor({ region: zero, channels: s.c, range: null, redraw }, firstIndex + k, seed, 0));
  } else {
    for (const [ti, z] of planes) {
      if (mode === "whole") placed.push({ level: t.level, t: ti, z, y0: 0, x0: 0, h, w });
      else if (mode === "grid")
        for (const g of gridTiles(s, { size: [h, w], stride: t.stride ?? undefined, level: t.level })) placed.push({ level: t.level, t: ti, z, y0: g.y0, x0: g.x0, h, w });
    }
    if (mode === "objects") placed = await objectRegions(file, src, s, data, [h, w], planes);
    if (t.per_image > 0 && placed.length > t.per_image) {
      const keep = new Rng(hash32(seed, hashString(file.id))).shuffle(placed.map((_, i) => i)).slice(0, t.per_image);
      placed = keep.sort((a, b) => a - b).map((i) => placed[i]);
    }
  }
  const range = t.normalise === "image" ? await imageRange(src, zMax, data.normalise, data.percentile_low, data.percentile_high) : null;
  return placed.map((p, k) => {
    const { object, ...region } = p;
    const meta: Record<string, string> = {
      ...file.meta, file: file.id, level: String(region.level), t: String(region.t), z: region.z === null ? "max" : String(region.z),
      y0: String(region.y0), x0: String(region.x0), h: String(h), w: String(w),
    };
    if (object !== undefined) meta.object = String(object);
    return { id: `${file.id}#${k}`, path: file.path, label: file.label, group: file.group ?? file.id, meta, tile: { region, channels: s.c, range, redraw } };
  });
}

/** One crop centred on each object of the label image, per plane; objects measured where the label matches the level's size. */
async function objectRegions(file: Item, src: ImageSource, s: Shape5, data: DataConfig, [h, w]: [number, number], planes: [number, number | null][]): Promise<Placed[]> {
  const t = data.tiles;
  const name = t.label ?? src.labels[0];
  if (name === undefined) throw new BadInputError(file.path, "has no label image; data.tiles.mode=objects needs one (an OME-Zarr labels/ group)");
  if (!src.labels.includes(name)) throw new BadInputError(file.path, `has no label image "${name}" (it has: ${src.labels.join(", ") || "none"}); set data.tiles.label`);
  const labels = await src.openLabel(name);
  try {
    const same = labels.shapes.findIndex((l) => l.y === s.y && l.x === s.x);
    const level = same >= 0 ? same : 0;
    const ls = labels.shapes[level];
    const measured = new Map<string, LabelObject[]>();
    const out: Placed[] = [];
    for (const [ti, z] of planes) {
      // Labels without t or z apply to every plane; under max-projection a 3-D label's middle plane is used.
      const lt = Math.min(ti, ls.t - 1), lz = z === null ? ls.z >> 1 : Math.min(z, ls.z - 1);
      const key = `${lt},${lz}`;
      if (!measured.has(key)) measured.set(key, await labelObjects(labels, { level, t: lt, z: lz }));
      const crops = objectCrops(measured.get(key)!, s, { size: [h, w], level: t.level, labelShape: ls, minArea: t.min_area || undefined, t: ti, z: z ?? 0 });
      for (const c of crops) out.push({ level: t.level, t: ti, z, y0: c.y0, x0: c.x0, h, w, object: c.label });
    }
    return out;
  } finally {
    await labels.close();
  }
}

const sizeHW = (s: number | readonly [number, number]): [number, number] => (typeof s === "number" ? [s, s] : [s[0], s[1]]);
