// A dataset ready for loading: its items, how each becomes a model input, and the record of unusable files.
import { renameSync, writeFileSync } from "node:fs";
import type { DataConfig } from "../config/schema.ts";
import { imageSizeHW } from "../config/schema.ts";
import { BadInputError } from "../errors.ts";
import { readImage } from "../io/image.ts";
import { listItems, type Item, type SkippedItem } from "./items.ts";
import { WorkerPool } from "./pool.ts";
import type { PrepOptions } from "./prepare.ts";

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
  ) {}

  /** List the items and read the first image to learn the channel count (checked against data.channels). */
  static async open(data: DataConfig): Promise<Dataset> {
    const list = listItems(data);
    const [height, width] = imageSizeHW(data.image_size);
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
    const prep: PrepOptions = {
      height,
      width,
      fit: data.fit,
      normalise: data.normalise,
      pLow: data.percentile_low,
      pHigh: data.percentile_high,
      channels: first.channels,
      channelsFrom: data.channels !== undefined ? `data.channels=${data.channels}` : `as in the first image, ${first.path}`,
      augment: data.augment,
      skipBad: data.skip_bad,
    };
    const ds = new Dataset(list.items, list.source, list.kind, prep, data.channel_mode, list.excluded);
    for (const [i, s] of bad) ds.bad.set(i, s);
    return ds;
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
  }
}

export const openDataset = (data: DataConfig) => Dataset.open(data);

/** Write the skipped-items list as CSV (path,reason), atomically; returns how many were listed. */
export function writeSkippedList(ds: Dataset, file: string): number {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = ds.skipped.map((s) => `${q(s.path)},${q(s.reason)}`);
  writeFileSync(`${file}.tmp`, ["path,reason", ...rows].join("\n") + "\n");
  renameSync(`${file}.tmp`, file);
  return rows.length;
}
