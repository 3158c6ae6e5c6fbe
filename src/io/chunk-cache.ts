// LRU cache of decoded TIFF tiles/strips and Zarr chunks, shared by every open source, bounded in
// bytes. Random training tiles overlap the same chunks again and again; decoding each chunk once is
// the main speed-up over reading straight from disk. Entries are promises so concurrent readers of one
// chunk share a single decode; failed decodes are dropped so the error is raised again next time.
import type { PixelArray } from "./image.ts";

export class ChunkCache {
  private map = new Map<string, { value: Promise<PixelArray>; bytes: number; resolved?: PixelArray }>();
  private used = 0;

  constructor(private budget: number) {}

  get capacityBytes() { return this.budget; }
  get usedBytes() { return this.used; }

  setCapacity(bytes: number) {
    this.budget = Math.max(0, bytes);
    this.evict();
  }

  clear() {
    this.map.clear();
    this.used = 0;
  }

  /** The decoded chunk if it is cached and finished, without waiting (lets warm reads skip promises). */
  peek(key: string): PixelArray | undefined {
    const hit = this.map.get(key);
    if (!hit?.resolved) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.resolved;
  }

  /** Returns the cached chunk for `key`, or runs `load` once and caches its result. */
  get(key: string, load: () => Promise<PixelArray>): Promise<PixelArray> {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key); // re-insert: Map order is our recency order
      this.map.set(key, hit);
      return hit.value;
    }
    const value = load();
    if (this.budget <= 0) return value;
    const entry: { value: Promise<PixelArray>; bytes: number; resolved?: PixelArray } = { value, bytes: 0 };
    this.map.set(key, entry);
    value.then(
      (arr) => {
        if (this.map.get(key) !== entry) return;
        entry.resolved = arr;
        entry.bytes = arr.byteLength;
        this.used += entry.bytes;
        this.evict();
      },
      () => { if (this.map.get(key) === entry) this.map.delete(key); },
    );
    return value;
  }

  private evict() {
    for (const [k, e] of this.map) {
      if (this.used <= this.budget) break;
      this.map.delete(k);
      this.used -= e.bytes;
    }
  }
}

/** The process-wide cache (256 MB by default; set BIE_CHUNK_CACHE_MB or call setCapacity). */
const envMb = Number(process.env.BIE_CHUNK_CACHE_MB);
export const chunkCache = new ChunkCache((process.env.BIE_CHUNK_CACHE_MB && Number.isFinite(envMb) ? envMb : 256) * 1024 * 1024);

let nextId = 0;
/** A unique prefix for one open file's cache keys (paths can be reopened after changing on disk). */
export const cacheScope = (label: string) => `${label}#${nextId++}`;
