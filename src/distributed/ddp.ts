// Data-parallel training over a process group, as PyTorch's DDP does it: every rank holds the same model
// (rank 0's weights broadcast at start), trains on its slice of every global batch, and averages gradients in
// buckets before the optimizer step, so all ranks stay identical. Losses and counts are reduced over ranks so
// every rank takes the same decisions (NaN guard, early stopping) from the same global numbers.
import { ProcessGroup, DistributedError, backwardWithCollectives, type GradSync } from "../engine/dist.ts";
import type { Tensor } from "../engine/index.ts";
import type { Module } from "../models/nn/module.ts";
import type { DdpSettings } from "./ddp-settings.ts";

export interface GlobalMeans {
  /** Means over every row of the global batch, per key. */
  values: Record<string, number>;
  /** Rows in the global batch. */
  rows: number;
  /**
   * Multiply this rank's (mean) loss by it before backward: with gradients then averaged over ranks, the result
   * is the gradient of the global batch mean, also when ranks hold different numbers of rows.
   */
  weight: number;
}

export class DataParallel {
  readonly pg: ProcessGroup;
  readonly bucketBytes: number;
  /** Launch bucket all-reduces during backward (else all after it). */
  readonly overlap: boolean;
  #sync: { params: Tensor[]; sync: GradSync } | null = null;
  /** Buckets whose all-reduce started while backward was still running, at the last step. */
  overlappedBuckets = 0;

  constructor(pg: ProcessGroup, opts: { bucketBytes?: number; overlap?: boolean } = {}) {
    this.pg = pg;
    this.bucketBytes = opts.bucketBytes ?? 25 << 20;
    this.overlap = opts.overlap ?? true;
  }

  /** Join the group described by the settings (blocks until every rank is there, or the timeout). */
  static join(s: DdpSettings): DataParallel {
    return new DataParallel(ProcessGroup.init({ host: s.host, port: s.port, worldSize: s.worldSize, rank: s.rank, timeoutMs: s.timeoutMs }));
  }

  get rank(): number {
    return this.pg.rank;
  }
  get worldSize(): number {
    return this.pg.worldSize;
  }
  /** Rank 0 writes the run folder; the others only compute. */
  get isMain(): boolean {
    return this.pg.rank === 0;
  }

  /** Rank 0's parameters and buffers to every rank (after creating or resuming the model). */
  broadcastModel(model: Module): void {
    this.pg.broadcast([...model.stateDict().values()], { root: 0, bucketBytes: this.bucketBytes });
  }

  /** Rank 0's buffers (batch-norm running stats, EMA codebooks) to every rank, as DDP does before each forward. */
  broadcastBuffers(model: Module): void {
    const bufs = model.namedBuffers().map(([, t]) => t);
    if (bufs.length) this.pg.broadcast(bufs, { root: 0, bucketBytes: this.bucketBytes });
  }

  /**
   * Backward of this rank's loss (times `weight`, see globalMeans), then gradients averaged over ranks, bucket
   * by bucket while backward runs. A gradient missing on some ranks counts as zeros there.
   */
  backward(loss: Tensor, params: Tensor[], weight = 1): void {
    if (!this.overlap) {
      (weight === 1 ? loss : loss.mul(weight)).backward();
      this.syncGradients(params);
      return;
    }
    if (this.#sync?.params !== params) {
      this.#sync?.sync.dispose();
      this.#sync = { params, sync: this.pg.gradSync(params, { bucketBytes: this.bucketBytes }) };
    }
    this.#sync.sync.arm();
    // Dividing the loss by the world size makes the summed gradients the average: no pass over the buckets.
    backwardWithCollectives(() => loss.mul(weight / this.worldSize).backward());
    this.overlappedBuckets = this.#sync.sync.finish({ average: false });
  }

  /** Average gradients over ranks after backward (bucketed, no overlap). */
  syncGradients(params: Tensor[]): void {
    this.pg.allReduceGrads(params, { bucketBytes: this.bucketBytes });
  }

  /**
   * This rank's means over its `rows` → means over the global batch, in one small all-reduce. `step` (the
   * position in the epoch's plan) must be the same on every rank; a rank that is out of step is an error here
   * rather than a silent mix of different batches.
   */
  globalMeans(local: Record<string, number>, rows: number, step: number): GlobalMeans {
    const keys = Object.keys(local).sort();
    const sums = this.pg.reduceNumbers([rows, step, step * step, ...keys.map((k) => local[k] * rows)]);
    const [total, s1, s2] = sums;
    if (Math.abs(this.worldSize * s2 - s1 * s1) > 0.5)
      throw new DistributedError(`distributed: ranks are out of step (rank ${this.rank} is at batch ${step}, the mean over ranks is ${s1 / this.worldSize}); a rank probably skipped a batch whose images were all unreadable`);
    const values: Record<string, number> = {};
    keys.forEach((k, i) => (values[k] = total > 0 ? sums[3 + i] / total : NaN));
    return { values, rows: total, weight: total > 0 ? (rows * this.worldSize) / total : 0 };
  }

  /** Sums over ranks of named numbers (validation loss sums and row counts). */
  sumOverRanks(local: Record<string, number>): Record<string, number> {
    const keys = Object.keys(local).sort();
    const sums = this.pg.reduceNumbers(keys.map((k) => local[k]));
    return Object.fromEntries(keys.map((k, i) => [k, sums[i]]));
  }

  /** Fail unless every rank holds the same value (e.g. the step a resumed checkpoint is at). */
  agree(value: number, what: string): void {
    const [max, negMin] = this.pg.reduceNumbers([value, -value], "max");
    if (max !== -negMin)
      throw new DistributedError(`distributed: ranks disagree on ${what} (from ${-negMin} to ${max}; this rank has ${value}). Every rank must see the same run folder (a shared file system).`);
  }

  /** This rank's contiguous slice of a global batch: rows [rank·n/W, (rank+1)·n/W). */
  shard<T>(items: readonly T[]): T[] {
    return shardOf(items, this.rank, this.worldSize);
  }

  /** Leave the group; the barrier first lets rank 0 keep serving the store until everyone is done. */
  close(): void {
    this.#sync?.sync.dispose();
    this.#sync = null;
    try {
      this.pg.barrier();
    } finally {
      this.pg.destroy();
    }
  }
}

export function shardOf<T>(items: readonly T[], rank: number, worldSize: number): T[] {
  const n = items.length;
  return items.slice(Math.floor((rank * n) / worldSize), Math.floor(((rank + 1) * n) / worldSize));
}
