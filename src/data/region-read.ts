// Reading one tile item's pixels: sources stay open between tiles (opening an OME-Zarr or OME-TIFF parses its
// metadata, and tiles of one file come in bursts), a few per thread, least recently used closed first. A
// source still being read (batches prepared concurrently on one thread) is closed when its last read ends.
import type { PlanarImage } from "../io/image.ts";
import { openImageSource, type ImageSource } from "../io/source.ts";
import type { ItemRegion } from "./tile-spec.ts";

const MAX_OPEN = 8;

interface Entry {
  source: Promise<ImageSource>;
  readers: number;
  evicted: boolean;
}
const open = new Map<string, Entry>();

const closeEntry = (e: Entry) => void e.source.then((s) => s.close()).catch(() => {});

function acquire(path: string): Entry {
  let e = open.get(path);
  if (e) open.delete(path); // re-inserted below: Map order is the recency order
  else {
    const fresh: Entry = { source: openImageSource(path), readers: 0, evicted: false };
    fresh.source.catch(() => open.get(path) === fresh && open.delete(path)); // a failed open is not kept
    e = fresh;
  }
  open.set(path, e);
  e.readers++;
  while (open.size > MAX_OPEN) {
    const [oldest, old] = open.entries().next().value!;
    open.delete(oldest);
    old.evicted = true;
    if (old.readers === 0) closeEntry(old);
  }
  return e;
}

function release(e: Entry): void {
  if (--e.readers === 0 && e.evicted) closeEntry(e);
}

/** Close every cached source of this thread (those still being read close when done). */
export function closeCachedSources(): void {
  for (const e of open.values()) {
    e.evicted = true;
    if (e.readers === 0) closeEntry(e);
  }
  open.clear();
}

/** All channels of a region as C×h×w, from the thread's cached source of the file. */
export async function readItemRegion(path: string, r: ItemRegion): Promise<PlanarImage> {
  const e = acquire(path);
  try {
    return await readRegionOf(await e.source, r);
  } finally {
    release(e);
  }
}

/** All channels of a region as C×h×w; z=null takes the maximum over every z plane. */
export async function readRegionOf(src: ImageSource, r: ItemRegion): Promise<PlanarImage> {
  const req = { level: r.level, t: r.t, y0: r.y0, x0: r.x0, h: r.h, w: r.w };
  const planes = r.z === null ? src.shapes[r.level].z : 1;
  const data = await src.readRegion({ ...req, z: r.z ?? 0 });
  for (let z = 1; z < planes; z++) {
    const next = await src.readRegion({ ...req, z });
    for (let i = 0; i < data.length; i++) if (next[i] > data[i]) data[i] = next[i];
  }
  return { data, width: r.w, height: r.h, channels: src.shapes[r.level].c, dtype: src.dtype };
}
