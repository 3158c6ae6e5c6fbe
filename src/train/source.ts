// What the trainer and embedder read batches from: images (data layer) or shapes (mask → distance matrix).
// Both give NCHW float batches in dataset order or in a seeded shuffled order per epoch.
import type { Config } from "../config/index.ts";
import { imageSizeHW } from "../config/index.ts";
import { dataForConfig, Loader, type Batch, type Item, type LoaderOptions, type Part, type Shard } from "../data/index.ts";
import { relatedViews } from "./related.ts";
import { groupBatchPlan } from "./related-sampler.ts";

export interface BatchSource {
  items: Item[];
  split: { train: number[]; val: number[]; test: number[] };
  inputChannels: number;
  imageSize: [number, number];
  /** Channels folded into the batch: each row of a batch is one channel of an item (the first image's count). */
  channelsPerItem: number;
  /** Distinct channel counts of the items as known before loading (more than one: channel_mode=batch over mixed images). */
  channelCounts?: readonly number[];
  /** Embedding batches from loaderFor hold this many variants per item (symmetries), averaged by the embedder. */
  variantsPerItem?: number;
  /** shard: data-parallel training, only this rank's slice of every batch of the global plan. */
  loader(part: Part, opts?: { epoch?: number; startBatch?: number; batchSize?: number; shard?: Shard }): AsyncIterable<Batch> & { length: number; stats: { waitMs: number } };
  /** Items in the given order, no augmentation (embedding, shards). */
  loaderFor(indices: number[], batchSize: number): AsyncIterable<Batch>;
  skipped(): { path: string; reason: string }[];
  close(): Promise<void>;
}

export async function sourceForConfig(cfg: Config): Promise<BatchSource> {
  if (cfg.task === "shapes") {
    const { shapeSourceForConfig } = await import("./shape-source.ts");
    return shapeSourceForConfig(cfg);
  }
  const bundle = await dataForConfig(cfg);
  const ds = bundle.dataset;
  const channelsPerItem = ds.channelMode === "batch" ? ds.prep.channels : 1;
  const grouped = groupSampler(cfg, ds.items, channelsPerItem);
  return {
    items: ds.items,
    split: bundle.split,
    inputChannels: ds.inputChannels,
    imageSize: imageSizeHW(cfg.data.image_size),
    channelsPerItem,
    channelCounts: [...ds.channelCounts],
    loader: (part, opts) => bundle.loader(part, grouped && (part === "train" || part === "val") ? { ...opts, batches: grouped[part] } : opts),
    loaderFor: (indices, batchSize) => new Loader(ds, indices, { batchSize, workers: cfg.data.workers, prefetch: cfg.data.prefetch }),
    skipped: () => ds.skipped,
    close: () => bundle.close(),
  };
}

/**
 * Batch plans that keep groups together when the contrastive term groups items by manifest columns
 * (contrastive.per_group > 0): training draws a new plan per epoch, validation always uses epoch 0's.
 */
function groupSampler(cfg: Config, items: Item[], channelsPerItem: number): { train: LoaderOptions["batches"]; val: LoaderOptions["batches"] } | null {
  const keys = relatedViews(cfg, items, channelsPerItem)?.itemKeys;
  const k = cfg.contrastive.per_group;
  if (!keys || k === 0) return null;
  return {
    train: (indices, seed, epoch, batchSize) => groupBatchPlan(indices, keys, k, batchSize, seed, epoch),
    val: (indices, seed, _epoch, batchSize) => groupBatchPlan(indices, keys, k, batchSize, seed, 0),
  };
}
