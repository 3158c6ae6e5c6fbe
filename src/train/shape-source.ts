// Batches for task=shapes: each mask becomes its N×N contour distance matrix (computed once, in worker
// threads), served as 1-channel N×N images. Training batches get a random symmetry per item (start point,
// direction, or one of the 4 tip-anchored matrices with shapes.start=tip), seeded by (seed, epoch, item);
// embedding batches carry every symmetry variant so the embedding can be averaged over them (what helped most
// in the reference study).
import type { Config } from "../config/index.ts";
import { listItems, splitItems, shardSlice, Rng, hash32, type Batch, type Shard } from "../data/index.ts";
import { masksToDistanceMatrices } from "../shapes/pipeline.ts";
import { diameterEnds, randomSymmetry, symmetryVariants, tipVariant, tipVariants } from "../shapes/distance.ts";
import { BieError } from "../errors.ts";
import type { BatchSource } from "./source.ts";

const AUGMENT_STREAM = 0x5ba9e;
/** Start points × 2 directions averaged at embedding time. */
export const SHAPE_EMBED_SHIFTS = 8;

export async function shapeSourceForConfig(cfg: Config): Promise<BatchSource> {
  const list = listItems(cfg.data);
  if (list.items.length === 0) throw new BieError("NO_DATA", `no masks found in ${cfg.data.path ?? cfg.data.manifest}`);
  const n = cfg.shapes.n_points;
  const pixels = cfg.shapes.normalise === "pixels";
  const matrices = await masksToDistanceMatrices(list.items.map((it) => it.path), { n, normalise: pixels ? "none" : (cfg.shapes.normalise as "frobenius" | "max") });
  if (pixels) for (const m of matrices) for (let i = 0; i < m.length; i++) m[i] /= cfg.shapes.pixel_scale;
  const items = list.items;
  const split = splitItems(items, cfg.data.split);
  const size = n * n;
  // start=tip: each outline is one of its 4 tip-anchored matrices, made when served (like start=any's views) from
  // the tips found once; start=any: any start point and direction.
  const ends = cfg.shapes.start === "tip" ? matrices.map(diameterEnds) : null;
  const variantCount = ends ? 4 : 2 * SHAPE_EMBED_SHIFTS;
  const variants = (i: number) => (ends ? tipVariants(matrices[i], ends[i]) : symmetryVariants(matrices[i], SHAPE_EMBED_SHIFTS));
  const canonical = (i: number) => (ends ? tipVariant(matrices[i], 0, ends[i]) : matrices[i]);
  const randomView = (i: number, random: () => number) => (ends ? tipVariant(matrices[i], Math.floor(random() * 4), ends[i]) : randomSymmetry(matrices[i], random));

  function makeLoader(indices: readonly number[], o: { batchSize: number; shuffle: boolean; epoch: number; startBatch: number; augment: boolean; dropLast: boolean; variants: boolean; views: number; shard?: Shard }) {
    const order = [...indices];
    if (o.shuffle) new Rng(hash32(cfg.seed, o.epoch, 0x5eed5)).shuffle(order);
    const plan: number[][] = [];
    for (let i = 0; i < order.length; i += o.batchSize) plan.push(order.slice(i, i + o.batchSize));
    if (o.dropLast && plan.length && plan[plan.length - 1].length < o.batchSize) plan.pop();
    if (o.shard && o.shard.count > 1) plan.forEach((b, i) => (plan[i] = shardSlice(b, o.shard!)));
    const stats = { waitMs: 0 };
    return {
      length: plan.length,
      stats,
      async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
        for (let b = Math.max(0, o.startBatch); b < plan.length; b++) {
          const idx = plan[b];
          const per = o.variants ? variantCount : o.views;
          const x = new Float32Array(idx.length * per * size);
          idx.forEach((i, r) => {
            if (o.variants) variants(i).forEach((v, k) => x.set(v, (r * per + k) * size));
            else {
              // Training: every view a random symmetry. Validation: the shape as it is, then seeded random views.
              const rng = new Rng(hash32(cfg.seed, o.augment ? o.epoch : -1, i, AUGMENT_STREAM));
              for (let k = 0; k < per; k++) x.set(o.augment || k > 0 ? randomView(i, () => rng.next()) : canonical(i), (r * per + k) * size);
            }
          });
          yield { x, shape: [idx.length * per, 1, n, n], indices: idx, batch: b, ...(per > 1 && !o.variants ? { itemRows: idx.map(() => per) } : {}) };
        }
      },
    };
  }

  return {
    items,
    split,
    inputChannels: 1,
    imageSize: [n, n],
    channelsPerItem: 1,
    variantsPerItem: variantCount,
    loader(part, opts = {}) {
      const train = part === "train";
      const indices = part === "all" ? items.map((_, i) => i) : split[part];
      const bs = opts.batchSize ?? cfg.batch_size;
      // Several views per shape only where the loss is computed (train, val); test and all give each shape once.
      const views = part === "train" || part === "val" ? cfg.shapes.views : 1;
      return makeLoader(indices, { batchSize: bs, shuffle: train, epoch: opts.epoch ?? 0, startBatch: opts.startBatch ?? 0, augment: train, dropLast: train && indices.length > bs, variants: false, views, shard: opts.shard });
    },
    loaderFor(indices, batchSize) {
      // Each outline brings variantCount variants. Batches divide batchSize (one shard block, see shardItems).
      let per = Math.max(1, Math.floor(batchSize / variantCount));
      while (batchSize % per !== 0) per--;
      return makeLoader(indices, { batchSize: per, shuffle: false, epoch: 0, startBatch: 0, augment: false, dropLast: false, variants: true, views: 1 });
    },
    skipped: () => list.excluded ?? [],
    close: async () => {},
  };
}
