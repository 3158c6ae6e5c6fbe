// Public face of the data layer, plus the one-call setup the trainer and embedder use.
import type { Config } from "../config/schema.ts";
import { Dataset } from "./dataset.ts";
import { Loader, type LoaderOptions, type Shard } from "./loader.ts";
import { splitItems, type Split } from "./split.ts";

export { Dataset, openDataset, writeSkippedList } from "./dataset.ts";
export { Loader, shardSlice, type Batch, type LoaderOptions, type Shard } from "./loader.ts";
export { listItems, IMAGE_EXTENSIONS, type Item, type ItemList, type SkippedItem } from "./items.ts";
export { splitItems, type Split } from "./split.ts";
export { dihedralCount, dihedralTransform } from "./dihedral.ts";
export { prepareItem, prepareTaskItem, prepareBatch, readItemPixels, type PrepOptions, type AugmentSeed, type TaskItem } from "./prepare.ts";
export { regionFor, type ItemRegion, type TileSpec } from "./tile-spec.ts";
export { tileModeOf, type TileMode } from "./tile-items.ts";
export { parseCsv } from "./csv.ts";
export { Rng, hash32 } from "./rng.ts";

export type Part = keyof Split | "all";

export interface DataBundle {
  dataset: Dataset;
  split: Split;
  /**
   * A loader for one part. train: shuffled, augmented, last partial batch dropped (a batch of one breaks batch
   * norm); val/test/all: dataset order, no augmentation, every item.
   */
  loader(part: Part, opts?: { epoch?: number; startBatch?: number; batchSize?: number; shard?: Shard; batches?: LoaderOptions["batches"] }): Loader;
  close(): Promise<void>;
}

export async function dataForConfig(cfg: Config): Promise<DataBundle> {
  const dataset = await Dataset.open(cfg.data, { seed: cfg.seed });
  const split = splitItems(dataset.items, cfg.data.split);
  const all = dataset.items.map((_, i) => i);
  return {
    dataset,
    split,
    loader(part, opts = {}) {
      const train = part === "train";
      const lo: LoaderOptions = {
        batchSize: opts.batchSize ?? cfg.batch_size,
        shuffle: train,
        augment: train,
        dropLast: train && split.train.length > cfg.batch_size,
        seed: cfg.seed,
        epoch: opts.epoch ?? 0,
        startBatch: opts.startBatch ?? 0,
        shard: opts.shard,
        batches: opts.batches,
        workers: cfg.data.workers,
        prefetch: cfg.data.prefetch,
      };
      return new Loader(dataset, part === "all" ? all : split[part], lo);
    },
    close: () => dataset.close(),
  };
}
