// The pixels of one embedded item: its whole file, or — for tile datasets (data.tiles), whose rows carry the
// region as level, t, z, y0, x0, h, w columns — just its region of the big image.
import type { EmbeddingTable } from "../eval/index.ts";
import { readItemRegion, closeCachedSources } from "../data/region-read.ts";
import type { ItemRegion } from "../data/tile-spec.ts";
import { readImage, type PlanarImage } from "../io/index.ts";

const REGION_COLUMNS = ["level", "t", "z", "y0", "x0", "h", "w"] as const;

/** The region of row i, when the table has tile columns and they hold whole numbers (z may be "max"). */
export function regionOfRow(columns: EmbeddingTable["columns"], i: number): ItemRegion | null {
  if (!REGION_COLUMNS.every((c) => c in columns)) return null;
  const v = Object.fromEntries(REGION_COLUMNS.map((c) => [c, columns[c][i]]));
  const int = (s: string | null) => (s !== null && /^\d+$/.test(s) ? Number(s) : NaN);
  const z = v.z === "max" ? null : int(v.z);
  const r = { level: int(v.level), t: int(v.t), z, y0: int(v.y0), x0: int(v.x0), h: int(v.h), w: int(v.w) };
  return [r.level, r.t, r.y0, r.x0, r.h, r.w, z ?? 0].every(Number.isFinite) ? r : null;
}

export function readItemImage(table: EmbeddingTable, i: number): Promise<PlanarImage> {
  const path = table.paths[i];
  if (!path) return Promise.reject(new Error("no image path"));
  const region = regionOfRow(table.columns, i);
  return region ? readItemRegion(path, region) : readImage(path);
}

/** Release big-image sources opened for regions (thumbnails are made once; previews are rare). */
export const closeItemSources = closeCachedSources;
