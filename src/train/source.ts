// What the trainer and embedder read batches from: images (data layer) or shapes (mask → distance matrix).
// Both give NCHW float batches in dataset order or in a seeded shuffled order per epoch.
import type { Config } from "../config/index.ts";
import { imageSizeHW } from "../config/index.ts";
import { dataForConfig, Loader, type Batch, type Item, type Part, type Shard } from "../data/index.ts";

export interface BatchSource {
  items: Item[];
  split: { train: number[]; val: number[]; test: number[] };
  inputChannels: number;
  imageSize: [number, number];
  /** Channels folded into the batch: each row of a batch is one channel of an item. */
  channelsPerItem: number;
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
  return {
    items: ds.items,
    split: bundle.split,
    inputChannels: ds.inputChannels,
    imageSize: imageSizeHW(cfg.data.image_size),
    channelsPerItem: ds.channelMode === "batch" ? ds.prep.channels : 1,
    loader: (part, opts) => bundle.loader(part, opts),
    loaderFor: (indices, batchSize) => new Loader(ds, indices, { batchSize, workers: cfg.data.workers, prefetch: cfg.data.prefetch }),
    skipped: () => ds.skipped,
    close: () => bundle.close(),
  };
}
