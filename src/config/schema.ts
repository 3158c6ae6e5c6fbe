// The one schema every run is described by. Defaults, validation, `bie config --print` and the CLI help all
// come from here, so a field documented in .describe() is the field the code reads.
import { z } from "zod";

const posInt = () => z.number().int().positive();
const unit = () => z.number().min(0).max(1);

const augmentSchema = z
  .strictObject({
    hflip: z.boolean().default(true).describe("random horizontal flip (p=0.5)"),
    vflip: z.boolean().default(true).describe("random vertical flip (p=0.5)"),
    rot90: z.boolean().default(true).describe("random rotation by k·90° (only 0/180° when image_size is not square)"),
    rotate_deg: z.number().min(0).max(180).default(0).describe("free rotation, angle uniform in ±rotate_deg degrees (0 = off)"),
    crop_scale: z
      .tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)])
      .nullable()
      .default(null)
      .describe("random resized crop: [min,max] area fraction kept, aspect 3/4..4/3 (null = off)"),
    elastic_alpha: z.number().min(0).default(0).describe("elastic deformation strength in pixels (Simard 2003; 0 = off)"),
    elastic_sigma: z.number().positive().default(4).describe("elastic deformation smoothness (Gaussian sigma, pixels)"),
    noise_std: z.number().min(0).default(0).describe("additive Gaussian noise sd, on the [0,1] normalised image (0 = off)"),
    brightness: z.number().min(0).default(0).describe("random brightness shift, uniform in ±brightness (0 = off)"),
    contrast: z.number().min(0).max(1).default(0).describe("random contrast factor, uniform in 1±contrast around the channel mean (0 = off)"),
  })
  .describe("training-time augmentations, seeded per (seed, epoch, item)");

const splitSchema = z
  .strictObject({
    train: unit().default(0.8).describe("fraction of items for training"),
    val: unit().default(0.1).describe("fraction for validation (early stopping)"),
    test: unit().default(0.1).describe("fraction held out for evaluation"),
    seed: z.number().int().default(42).describe("seed of the split (independent of the training seed)"),
  })
  .refine((s) => Math.abs(s.train + s.val + s.test - 1) < 1e-6, { message: "train + val + test must sum to 1" })
  .describe("train/val/test split, stratified by label, never splitting a group");

const imageSize = z.union([posInt(), z.tuple([posInt(), posInt()])]);

const tilesSchema = z
  .strictObject({
    mode: z
      .enum(["auto", "none", "whole", "random", "grid", "objects"])
      .default("auto")
      .describe(
        "how files become items. none: one item per file, read whole (PNG/TIFF folders); whole: one item per file, time point (and z plane with z_stack=planes), a whole plane at tiles.level; " +
          "random: per_image seeded random tiles per file, redrawn every training epoch (validation and embedding use the epoch-0 draw); grid: tiles on a regular grid; " +
          "objects: one crop centred on each object of a label image; auto: random when the data holds OME-Zarr (.zarr) or OME-TIFF (.ome.tif) images, else none. " +
          "Tiles of one file always land in the same split part (the file is their group)",
      ),
    size: imageSize.nullable().default(null).describe("tile size in pixels at tiles.level: N or [height,width] (null = data.image_size)"),
    per_image: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("random: tiles per file per epoch (0 = about one cover of the image: its area / tile area); grid, objects: at most this many per file, a seeded subset (0 = all)"),
    level: z.number().int().min(0).default(0).describe("pyramid level tiles are cut from (0 = full resolution); a file without that level is a bad input"),
    stride: imageSize.nullable().default(null).describe("grid: step between tile origins, N or [y,x] (null = the tile size, no overlap)"),
    label: z.string().min(1).nullable().default(null).describe("objects: label image to centre crops on, e.g. nuclei (null = the file's first label image)"),
    min_area: z.number().int().min(0).default(0).describe("objects: leave out objects smaller than this many pixels (measured at the label level used)"),
    normalise: z
      .enum(["image", "tile"])
      .default("image")
      .describe("intensity scaling of tiles: image = each channel's percentiles (data.normalise) over the whole file, measured once on its coarsest level; tile = each tile's own"),
  })
  .describe("datasets over big images (OME-Zarr, OME-TIFF): which regions become training items");

const dataSchema = z
  .strictObject({
    path: z.string().min(1).optional().describe("folder of images (PNG/TIFF/OME-TIFF files and .zarr stores, searched recursively), one image file or OME-Zarr store, or a CSV manifest"),
    manifest: z.string().min(1).optional().describe("CSV manifest (columns: path, optional label/group, extra = metadata); overrides a folder scan"),
    path_column: z.string().min(1).default("path").describe("manifest column holding image paths (relative ones resolve against the CSV's folder)"),
    label_column: z.string().nullable().default("label").describe("manifest column holding the class label (null = no labels)"),
    group_column: z.string().optional().describe("manifest column whose values are never split across train/val/test (e.g. well, patient)"),
    missing_labels: z
      .enum(["error", "drop", "keep"])
      .default("error")
      .describe("rows with an empty label: error (default), drop them, or keep them unlabelled"),
    image_size: imageSize.default(64).describe("model input size: N or [height,width]"),
    fit: z
      .enum(["resize", "pad", "letterbox"])
      .default("resize")
      .describe("how images reach image_size: resize (bilinear, stretch), pad (centre pad/crop, no scaling), letterbox (keep aspect, pad)"),
    channels: posInt().optional().describe("expected channel count; an image with another count is an error"),
    channel_mode: z
      .enum(["stack", "batch"])
      .default("stack")
      .describe("stack: channels are the model's input channels; batch: each channel is its own 1-channel image (then images may have different channel counts unless data.channels is set)"),
    z_stack: z
      .enum(["max", "planes"])
      .default("max")
      .describe("images with z planes (tiles.mode other than none): max = max-projection over z; planes = each z plane its own item (random tiles draw z). 3-D crops are not supported. Time points are always separate items"),
    tiles: tilesSchema.prefault({}),
    normalise: z.enum(["percentile", "minmax"]).default("percentile").describe("per-image, per-channel scaling to [0,1]"),
    percentile_low: z.number().min(0).max(100).default(1).describe("lower clip percentile (normalise=percentile)"),
    percentile_high: z.number().min(0).max(100).default(99.8).describe("upper clip percentile (normalise=percentile)"),
    split: splitSchema.prefault({}),
    skip_bad: z.boolean().default(false).describe("skip unreadable images (listed in the run folder) instead of stopping"),
    workers: z.number().int().min(0).max(64).default(2).describe("decoding/augmentation worker threads (0 = in-process)"),
    prefetch: z.number().int().min(1).max(256).default(4).describe("batches prepared ahead of the trainer"),
    augment: augmentSchema.prefault({}),
    limit: posInt().optional().describe("use at most this many items (seeded random subset), for quick runs"),
  })
  .refine((d) => d.percentile_low < d.percentile_high, { message: "percentile_low must be below percentile_high", path: ["percentile_low"] })
  .describe("where images come from and how they are prepared");

const optimSchema = z
  .strictObject({
    name: z.enum(["adam", "adamw", "lamb", "sgd"]).default("adamw").describe("optimizer"),
    lr: z.number().positive().default(1e-3).describe("peak learning rate"),
    weight_decay: z.number().min(0).optional().describe("weight decay (default 1e-4 for adamw/lamb, 0 for adam/sgd)"),
    betas: z.tuple([unit(), unit()]).default([0.9, 0.999]).describe("Adam-family betas"),
    momentum: z.number().min(0).max(1).default(0.9).describe("SGD momentum"),
    warmup_epochs: z.number().min(0).default(1).describe("linear warm-up length in epochs (fractions allowed)"),
    schedule: z.enum(["cosine", "constant"]).default("cosine").describe("learning-rate schedule after warm-up"),
    min_lr: z.number().min(0).default(0).describe("floor of the cosine schedule"),
    grad_clip: z.number().positive().nullable().default(1.0).describe("clip the global gradient norm to this (null = off)"),
  })
  .describe("optimizer and learning-rate schedule");

const lossSchema = z
  .strictObject({
    beta: z.number().min(0).default(1).describe("VAE: weight of the KL term"),
    vq_commitment: z.number().min(0).default(0.25).describe("VQ-VAE: commitment loss weight"),
    vq_codebook_size: posInt().default(512).describe("VQ-VAE: number of codebook vectors"),
    vq_decay: z.number().min(0).max(1).default(0.99).describe("VQ-VAE: EMA decay of the codebook"),
  })
  .describe("loss weights");

const earlyStoppingSchema = z
  .strictObject({
    patience: z.number().int().min(0).default(10).describe("epochs without val-loss improvement before stopping (0 = off)"),
    min_delta: z.number().min(0).default(0).describe("smallest val-loss decrease that counts as improvement"),
  })
  .describe("early stopping on validation loss");

const engineSchema = z
  .strictObject({
    threads: z.number().int().min(0).default(0).describe("libtorch intra-op threads (0 = all cores)"),
    precision: z.enum(["fp32", "bf16"]).default("fp32").describe("compute precision"),
    memory_format: z.enum(["contiguous", "channels_last"]).default("channels_last").describe("tensor memory layout (channels_last: faster oneDNN convolutions, same fp32 math)"),
  })
  .describe("native engine settings");

const shapesSchema = z
  .strictObject({
    // The reference Python pipeline used 64 points; 128 resolves thin worm ends better, at 4x the matrix size.
    n_points: z.number().int().min(8).default(128).describe("contour points per shape (reference used 64; our default 128)"),
    normalise: z
      .enum(["pixels", "frobenius", "max"])
      .default("pixels")
      .describe("distance-matrix scaling: pixels = distances / pixel_scale (keeps size, which tells apart e.g. shrunken cells); frobenius or max = per shape (size-invariant)"),
    pixel_scale: z.number().positive().default(400).describe("with normalise=pixels: the distance (px) that maps to 1; pick about the largest object length"),
    start: z
      .enum(["any", "tip"])
      .default("any")
      .describe("start point of the outline: any = random in training, embeddings averaged over 8 start points × 2 directions; tip = anchored at either end of the outline's diameter (2 ends × 2 directions, for elongated shapes such as worms)"),
    views: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe("symmetry views per shape in a training batch (random start point and direction each; with start=tip, one of its 4 tip-anchored matrices); with 2+, contrastive.groups=[view] pulls the views of one outline together, teaching the encoder the invariance"),
    penalties: z
      .strictObject({
        diagonal: z.number().min(0).default(1e-3).describe("penalty weight: zero diagonal"),
        symmetry: z.number().min(0).default(1e-3).describe("penalty weight: symmetric matrix"),
        nonneg: z.number().min(0).default(1e-3).describe("penalty weight: non-negative entries"),
        triangle: z.number().min(0).default(1e-3).describe("penalty weight: triangle inequality"),
      })
      .prefault({})
      .describe("distance-matrix validity penalties in the shapes loss"),
  })
  .describe("shape (mask → distance matrix) task");

const distributedSchema = z
  .strictObject({
    world_size: posInt().default(1).describe("ranks in the data-parallel group (env WORLD_SIZE wins); 1 = no group"),
    rank: z.number().int().min(0).default(0).describe("this process's rank, 0 = the one that writes the run folder (env RANK wins)"),
    master: z.string().regex(/^\[?[^\s\]]+\]?:\d+$/, "use host:port").default("127.0.0.1:29500").describe("host:port of rank 0's rendezvous store (env MASTER_ADDR/MASTER_PORT win)"),
    procs: z.number().int().min(0).default(0).describe("spawn this many local ranks on this machine, each with its share of engine.threads (0 = off)"),
    timeout_s: z.number().positive().default(60).describe("seconds before a rendezvous or collective gives up (a dead or hung rank fails the others)"),
    sync_bn: z.boolean().default(false).describe("batch norm with statistics over the global batch (else per rank, as PyTorch's DDP)"),
  })
  .describe("data-parallel training over processes/machines (libtorch c10d, Gloo); batch_size is the global batch");

const embedSchema = z
  .strictObject({
    average: z
      .enum(["none", "dihedral"])
      .default("none")
      .describe("image tasks: dihedral = average each embedding over the image's 8 flips and quarter turns (4 if not square), so it no longer depends on how the cell lay; 8× the embedding time. Shape runs always average over start points and directions"),
    runtime: z.enum(["native", "onnx"]).default("native").describe("bie embed: run the forward pass on the libtorch engine (native) or export the run's encoder and run it with onnxruntime (onnx)"),
    model: z.string().min(1).optional().describe("bie embed: embed with a model made elsewhere, a bioimage.io package (.zip) or an .onnx file, instead of a run"),
    channel_pool: z
      .enum(["auto", "concat", "mean"])
      .default("auto")
      .describe("data.channel_mode=batch: an item's embedding from its per-channel embeddings: concat (C·latent_dim values; every item needs the same channel count), mean (latent_dim), auto = concat unless the dataset's images have different channel counts"),
  })
  .describe("embedding (bie embed) settings");

const contrastiveSchema = z
  .strictObject({
    weight: z.number().min(0).default(0).describe("weight of the group contrastive term on the latent, added to the model's loss (0 = off)"),
    temperature: z.number().positive().default(0.1).describe("NT-Xent temperature (kind=ntxent)"),
    kind: z.enum(["ntxent", "pull"]).default("ntxent").describe("ntxent: supervised NT-Xent on cosine similarity; pull: the original's Euclidean pull of each latent to its group mean"),
    groups: z
      .array(z.string().min(1))
      .default(["channel"])
      .describe("what makes views related: manifest columns (rows agreeing on all of them are positives; label, group and id work too), 'channel' = the channels of one image (data.channel_mode=batch), or 'view' = the symmetry views of one outline (task=shapes, shapes.views ≥ 2)"),
    per_group: z.number().int().min(0).default(4).describe("group sampler: this many members of a group are drawn together into a batch (batch_size/per_group groups per batch); 0 = plain shuffled batches"),
  })
  .describe("contrastive term pulling related views (channels, z, t, wells, plates, replicates) together; see notes/issue-13.md");

const finetuneSchema = z
  .strictObject({
    from: z.string().min(1).nullable().default(null).describe("start from the weights of this run folder (its best checkpoint) or checkpoint file; `bie finetune` sets it"),
    freeze: z
      .string()
      .regex(/^(none|encoder|stages:\d+)$/, "use none, encoder or stages:N")
      .default("none")
      .describe("parameters kept fixed: none, encoder (the whole backbone), or stages:N (the stem and the first N ResNet stages / ViT blocks); batch-norm statistics still adapt"),
  })
  .describe("fine-tuning: continue from trained weights, optionally with part of the encoder frozen");

export const configSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, "use letters, digits, . _ -").optional().describe("run name (default: <data>_<model>, made unique in runs_dir)"),
    task: z.enum(["image", "shapes"]).default("image").describe("image: embed pixels; shapes: embed mask outlines"),
    model: z.string().min(1).default("resnet18_ae").describe("model registry name, e.g. resnet18_ae, resnet18_vae"),
    latent_dim: posInt().default(64).describe("embedding size"),
    seed: z.number().int().default(42).describe("seed for weights, data order and augmentation"),
    epochs: posInt().default(20).describe("training epochs"),
    max_minutes: z.number().min(0).default(0).describe("time budget: stop after the last epoch that fits in this many minutes of training (the learning-rate schedule still spans `epochs`); 0 = no limit"),
    batch_size: posInt().default(16).describe("images per step"),
    runs_dir: z.string().min(1).default("runs").describe("folder holding run folders"),
    checkpoint_every: posInt().default(1).describe("save a checkpoint every N epochs"),
    log_every: posInt().default(10).describe("log metrics every N steps"),
    recon_every: posInt().default(1).describe("write the input-vs-reconstruction grid every N epochs"),
    data: dataSchema.prefault({}),
    optim: optimSchema.prefault({}),
    loss: lossSchema.prefault({}),
    early_stopping: earlyStoppingSchema.prefault({}),
    engine: engineSchema.prefault({}),
    shapes: shapesSchema.prefault({}),
    distributed: distributedSchema.prefault({}),
    contrastive: contrastiveSchema.prefault({}),
    finetune: finetuneSchema.prefault({}),
    pretrained: z.string().min(1).nullable().default(null).describe("backbone weights to start from: a .safetensors file with torchvision/timm ResNet (or timm ViT) names, loaded into the encoder"),
    embed: embedSchema.prefault({}),
  })
  .describe("bioimage-embed run configuration");

type Parsed = z.output<typeof configSchema>;
/** The resolved config: every default filled in (weight_decay and name included). */
export type Config = Omit<Parsed, "name" | "optim"> & {
  name: string;
  optim: Parsed["optim"] & { weight_decay: number };
};
export type DataConfig = Config["data"];
export type AugmentConfig = DataConfig["augment"];
export type SplitConfig = DataConfig["split"];

/** [height, width] from data.image_size. */
export function imageSizeHW(size: DataConfig["image_size"]): [number, number] {
  return typeof size === "number" ? [size, size] : [size[0], size[1]];
}
export type TilesConfig = DataConfig["tiles"];
