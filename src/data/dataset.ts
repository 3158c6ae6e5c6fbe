// A dataset ready for loading: its items, how each becomes a model input, and the record of unusable files.
import { renameSync, writeFileSync } from "node:fs";
import type { DataConfig } from "../config/schema.ts";
import { imageSizeHW } from "../config/schema.ts";
import { BadInputError } from "../errors.ts";
import { readImage } from "../io/image.ts";
import { listItems, type Item, type ItemList, type SkippedItem } from "./items.ts";
import { WorkerPool } from "./pool.ts";
import type { AugmentSeed, PrepOptions, TaskItem } from "./prepare.ts";
import { closeCachedSources } from "./region-read.ts";
import { expandTiles, tileModeOf, type TileMode } from "./tile-items.ts";
import { regionFor } from "./tile-spec.ts";

export class Dataset {
  /** Bad files met while loading, by item index (a file is listed once however often it is retried). */
  private bad = new Map<number, SkippedItem>();
  private pools = new Map<number, WorkerPool>();

  private constructor(
    readonly items: Item[],
    readonly source: string,
    readonly kind: "folder" | "manifest",
    readonly prep: PrepOptions,
    readonly channelMode: "stack" | "batch",
    private excluded: SkippedItem[],
    /** How files became items (none = one whole file per item). */
    readonly tileMode: TileMode = "none",
    /** Channel counts of the items, as far as known before loading (tile items: all; whole files: the first). */
    readonly channelCounts: ReadonlySet<number> = new Set([prep.channels]),
  ) {}

  /**
   * List the items and learn the channel count (checked against data.channels): from the first image, or for
   * tile datasets (data.tiles) by opening every file. seed: the epoch-0 draw of random tiles (the run's seed).
   */
  static async open(data: DataConfig, opts: { seed?: number } = {}): Promise<Dataset> {
    const list = listItems(data);
    const mode = tileModeOf(data, list.items);
    if (mode !== "none") return Dataset.openTiles(list, data, mode, opts.seed ?? 0);
    const bad: [number, SkippedItem][] = [];
    let first: { path: string; channels: number } | undefined;
    for (const [i, it] of list.items.entries()) {
      try {
        first = { path: it.path, channels: (await readImage(it.path)).channels };
        break;
      } catch (e) {
        if (!(data.skip_bad && e instanceof BadInputError)) throw e;
        bad.push([i, { path: it.path, reason: e.message.slice(e.file.length + 2) }]);
      }
    }
    if (!first) throw new BadInputError(list.source, "no readable image among the items");
    if (data.channels !== undefined && data.channels !== first.channels)
      throw new BadInputError(first.path, `has ${first.channels} channel(s) but data.channels=${data.channels}; fix the data or set data.channels=${first.channels}`);
    const ds = new Dataset(list.items, list.source, list.kind, prepFor(data, first), data.channel_mode, list.excluded);
    for (const [i, s] of bad) ds.bad.set(i, s);
    return ds;
  }

  /** Tile items over every listed file; unreadable files (skip_bad) are listed as excluded. */
  private static async openTiles(list: ItemList, data: DataConfig, mode: Exclude<TileMode, "none">, seed: number): Promise<Dataset> {
    const { items, bad } = await expandTiles(list.items, data, mode, seed);
    if (items.length === 0) throw new BadInputError(list.source, `no tiles: no readable image among the ${list.items.length} file(s)`);
    const prep = prepFor(data, { path: items[0].path, channels: items[0].tile!.channels });
    const counts = new Set(items.map((it) => it.tile!.channels));
    return new Dataset(items, list.source, list.kind, prep, data.channel_mode, [...list.excluded, ...bad], mode, counts);
  }

  /** What a worker needs to prepare item `index`; aug given: random tiles are redrawn for its (seed, epoch). */
  taskItem(index: number, aug: AugmentSeed | null): TaskItem {
    const it = this.items[index];
    if (!it.tile) return { index, path: it.path };
    const region = aug ? regionFor(it.tile, index, aug.seed, aug.epoch) : it.tile.region;
    return { index, path: it.path, region, range: it.tile.range };
  }

  get length(): number {
    return this.items.length;
  }

  /** Channels of one model input: the image's channels (stack) or 1 (batch: each channel its own image). */
  get inputChannels(): number {
    return this.channelMode === "batch" ? 1 : this.prep.channels;
  }

  labels(): (string | null)[] {
    return this.items.map((it) => it.label);
  }

  /** Everything left out: rows excluded when listing plus files that failed to load so far. */
  get skipped(): SkippedItem[] {
    const loaded = [...this.bad.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
    return [...this.excluded, ...loaded];
  }

  noteBad(list: (SkippedItem & { index: number })[]): void {
    for (const s of list) if (!this.bad.has(s.index)) this.bad.set(s.index, { path: s.path, reason: s.reason });
  }

  /** Shared worker pool of a given size (created on first use). */
  pool(workers: number): WorkerPool {
    let p = this.pools.get(workers);
    if (!p) this.pools.set(workers, (p = new WorkerPool(workers, this.prep)));
    return p;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
    closeCachedSources(); // sources this thread opened for tiles (workers=0)
  }
}

function prepFor(data: DataConfig, first: { path: string; channels: number }): PrepOptions {
  const [height, width] = imageSizeHW(data.image_size);
  return {
    height,
    width,
    fit: data.fit,
    normalise: data.normalise,
    pLow: data.percentile_low,
    pHigh: data.percentile_high,
    channels: first.channels,
    mixedChannels: data.channel_mode === "batch" && data.channels === undefined,
    channelsFrom: data.channels !== undefined ? `data.channels=${data.channels}` : `as in the first image, ${first.path}`,
    augment: data.augment,
    skipBad: data.skip_bad,
  };
}

export const openDataset = (data: DataConfig, opts?: { seed?: number }) => Dataset.open(data, opts);

/** Write the skipped-items list as CSV (path,reason), atomically; returns how many were listed. */
export function writeSkippedList(ds: Dataset, file: string): number {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = ds.skipped.map((s) => `${q(s.path)},${q(s.reason)}`);
  writeFileSync(`${file}.tmp`, ["path,reason", ...rows].join("\n") + "\n");
  renameSync(`${file}.tmp`, file);
  return rows.length;
}
