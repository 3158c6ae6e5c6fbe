// Batches for training and embedding. The batch plan depends only on (seed, epoch); each item's augmentation
// only on (seed, epoch, item index); so the same seed gives the same batches with 0, 1 or 8 workers, and a
// resumed run can skip exactly the batches it already trained on.
import { performance } from "node:perf_hooks";
import type { Dataset } from "./dataset.ts";
import { prepareBatch, type BatchResult } from "./prepare.ts";
import { Rng, hash32 } from "./rng.ts";
import type { SkippedItem } from "./items.ts";

export interface LoaderOptions {
  batchSize: number;
  shuffle?: boolean;
  seed?: number;
  epoch?: number;
  augment?: boolean;
  /** Worker threads; 0 prepares batches on the calling thread. */
  workers?: number;
  /** Batches requested ahead of the consumer. */
  prefetch?: number;
  dropLast?: boolean;
  /** Skip the first batches of the epoch's plan (resume mid-epoch). */
  startBatch?: number;
  /** Data-parallel training: load only this rank's slice of every batch of the (global) plan. */
  shard?: Shard;
  /** The epoch's batches from another sampler (e.g. groups together for a contrastive term) instead of shuffle-and-cut. */
  batches?: (indices: readonly number[], seed: number, epoch: number, batchSize: number) => number[][];
}

export interface Shard {
  rank: number;
  count: number;
}

/** Rank's contiguous slice of a global batch: rows [rank·n/count, (rank+1)·n/count). */
export function shardSlice<T>(batch: readonly T[], s: Shard): T[] {
  const n = batch.length;
  return batch.slice(Math.floor((s.rank * n) / s.count), Math.floor(((s.rank + 1) * n) / s.count));
}

export interface Batch {
  /**
   * NCHW contiguous. With channel_mode=batch, rows are item-major: the rows of item i are its channels, one
   * after another (items may have different channel counts: see itemRows).
   */
  x: Float32Array;
  /** Rows of x per item, in order (channel_mode=batch: the item's channels; stack: 1). Absent: equal shares. */
  itemRows?: number[];
  shape: [number, number, number, number];
  /** Dataset index of each item in the batch (fewer than planned if bad files were skipped). */
  indices: number[];
  /** Position of this batch in the epoch's plan. */
  batch: number;
}

const SHUFFLE_STREAM = 0x5eed5;

export class Loader implements AsyncIterable<Batch> {
  readonly stats = { waitMs: 0, batches: 0, items: 0 };
  readonly skipped: SkippedItem[] = [];
  private readonly o: Required<Omit<LoaderOptions, "batches">> & Pick<LoaderOptions, "batches">;

  constructor(readonly dataset: Dataset, readonly indices: readonly number[], opts: LoaderOptions) {
    if (!(opts.batchSize >= 1)) throw new RangeError("batchSize must be at least 1");
    // Options passed as undefined (e.g. `shard: opts.shard`) keep their defaults.
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as LoaderOptions;
    this.o = { shuffle: false, seed: 0, epoch: 0, augment: false, workers: 0, prefetch: 4, dropLast: false, startBatch: 0, shard: { rank: 0, count: 1 }, ...given };
  }

  /** The epoch's batches of dataset indices, before startBatch is applied. */
  plan(): number[][] {
    let out: number[][] = [];
    if (this.o.batches) out = this.o.batches(this.indices, this.o.seed, this.o.epoch, this.o.batchSize);
    else {
      const order = [...this.indices];
      if (this.o.shuffle) new Rng(hash32(this.o.seed, this.o.epoch, SHUFFLE_STREAM)).shuffle(order);
      for (let i = 0; i < order.length; i += this.o.batchSize) out.push(order.slice(i, i + this.o.batchSize));
    }
    if (this.o.dropLast && out.length && out[out.length - 1].length < this.o.batchSize) out.pop();
    return this.o.shard.count > 1 ? out.map((b) => shardSlice(b, this.o.shard)) : out;
  }

  /** Batches in a full epoch (a progress total). */
  get length(): number {
    return this.plan().length;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const plan = this.plan();
    const { prep } = this.dataset;
    const aug = this.o.augment ? { seed: this.o.seed, epoch: this.o.epoch } : null;
    const pool = this.o.workers > 0 ? this.dataset.pool(this.o.workers) : null;
    const run = (b: number[]): Promise<BatchResult> => {
      const items = b.map((index) => this.dataset.taskItem(index, aug));
      return pool ? pool.run(items, aug) : prepareBatch(items, prep, aug);
    };
    const inflight: { batch: number; p: Promise<BatchResult> }[] = [];
    let next = Math.max(0, this.o.startBatch);
    const fill = () => {
      while (inflight.length < this.o.prefetch && next < plan.length) {
        const p = run(plan[next]);
        p.catch(() => {}); // rejections are rethrown when this batch is awaited, in order
        inflight.push({ batch: next++, p });
      }
    };
    fill();
    while (inflight.length) {
      const { batch, p } = inflight.shift()!;
      const t0 = performance.now();
      const r = await p;
      this.stats.waitMs += performance.now() - t0;
      fill();
      if (r.skipped.length) {
        this.dataset.noteBad(r.skipped);
        for (const s of r.skipped) this.skipped.push({ path: s.path, reason: s.reason });
      }
      if (r.kept.length === 0) continue;
      this.stats.batches++;
      this.stats.items += r.kept.length;
      const byChannel = this.dataset.channelMode === "batch";
      const rows = byChannel ? r.channels : r.channels.map(() => 1);
      const shape: Batch["shape"] = byChannel
        ? [r.channels.reduce((a, c) => a + c, 0), 1, prep.height, prep.width]
        : [r.kept.length, r.channels[0], prep.height, prep.width];
      yield { x: r.x, shape, indices: r.kept, batch, itemRows: rows };
    }
  }
}
