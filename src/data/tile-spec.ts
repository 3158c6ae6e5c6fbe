// What a tile item carries to the worker that prepares it: the region of the file to read, how to scale its
// intensities, and, for random tiles, the extent a fresh position is drawn from every epoch.
import { randomTiles } from "../io/tiles.ts";
import { hash32 } from "./rng.ts";

export interface ItemRegion {
  level: number;
  t: number;
  /** z plane, or null for the max-projection over all planes. */
  z: number | null;
  y0: number;
  x0: number;
  h: number;
  w: number;
}

export interface TileSpec {
  region: ItemRegion;
  /** Channels of the file (every tile reads all of them). */
  channels: number;
  /** Per-channel [lo, hi] measured on the whole file (tiles.normalise=image); null = scale each tile by its own. */
  range: [number, number][] | null;
  /** Random tiles: sizes of the level the position is redrawn in for every (seed, epoch); z=1 under max-projection. */
  redraw?: { t: number; z: number; y: number; x: number };
}

const TILE_STREAM = 0x711e5;

/**
 * Region of a tile item for a (seed, epoch): random tiles draw a new position (and t, z) from
 * hash(seed, epoch, item index); other tiles never move (augmentation gives them variety).
 */
export function regionFor(tile: TileSpec, index: number, seed: number, epoch: number): ItemRegion {
  const r = tile.region, d = tile.redraw;
  if (!d) return r;
  const shape = { t: d.t, c: tile.channels, z: d.z, y: d.y, x: d.x };
  const [p] = randomTiles(shape, { count: 1, size: [r.h, r.w], seed: hash32(seed, epoch, index, TILE_STREAM), level: r.level });
  return { level: r.level, t: p.t, z: r.z === null ? null : p.z, y0: p.y0, x0: p.x0, h: r.h, w: r.w };
}
