// Embedding with onnxruntime: a run's own encoder exported on the fly (runtime=onnx), or a model made elsewhere
// (a bioimage.io package or a bare .onnx) applied to a dataset with the preprocessing its rdf.yaml describes.
import { mkdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { availableParallelism } from "node:os";
import { resolveConfig, imageSizeHW, type Config } from "../config/index.ts";
import { listItems } from "../data/index.ts";
import { render, type PrepOptions } from "../data/prepare.ts";
import { readImage } from "../io/image.ts";
import { BadInputError } from "../errors.ts";
import { embedRun, writeEmbeddingTables, type BatchEmbedder, type EmbedOptions, type EmbedResult } from "../train/embed.ts";
import type { EmbeddingModel } from "../models/index.ts";
import { axisId, type TensorDescr } from "./axes.ts";
import { describeOnnx } from "./onnx-graph.ts";
import { exportModel } from "./onnx-export.ts";
import { onnxRunner, type OnnxRunner } from "./ort.ts";
import { packageFile, readPackage } from "./package-read.ts";
import { applyProcessing, type ProcessingStep } from "./processing.ts";
import { preprocessingFor } from "./rdf.ts";
import { assertValid, validatePackage } from "./validate.ts";

const threadsFor = (cfg: Config) => (cfg.engine.threads > 0 ? cfg.engine.threads : availableParallelism());

/** EmbedOptions.embedder for runtime=onnx: export the loaded (folded, eval) model and run it in onnxruntime. */
export async function onnxEmbedder(model: EmbeddingModel, cfg: Config): Promise<BatchEmbedder> {
  const onnx = exportModel(model, { path: "embed", imageSize: imageSizeHW(cfg.data.image_size) });
  const runner = await onnxRunner(onnx.bytes, { threads: threadsFor(cfg) });
  return { name: "onnx", embed: async (x, shape) => (await runner.run(x, shape)).data, close: () => runner.release() };
}

/** `bie embed RUN runtime=onnx`: the run's embeddings through onnxruntime (same files as the native path). */
export function embedRunOnnx(runDir: string, overrides: string[], opts: EmbedOptions = {}): Promise<EmbedResult> {
  return embedRun(runDir, overrides, { ...opts, embedder: onnxEmbedder });
}

/** What the importer needs of a model: its runner, input layout and the preprocessing to apply. */
interface ImportedModel {
  runner: OnnxRunner;
  /** Axis ids of the input in order, and where batch/channel/y/x sit. */
  axes: string[];
  pos: { batch: number; channel: number; y: number; x: number };
  channels: number;
  size: [number, number];
  preprocessing: ProcessingStep[];
  fit?: PrepOptions["fit"];
  name: string;
}

function layout(axes: { type: string; id: string }[], where: string) {
  const find = (pred: (a: { type: string; id: string }) => boolean, what: string) => {
    const i = axes.findIndex(pred);
    if (i < 0) throw new BadInputError(where, `the input has no ${what} axis (axes: ${axes.map((a) => a.id).join(", ")}); bie embed takes 2-D images [batch, channel, y, x] in any order`);
    return i;
  };
  if (axes.length !== 4) throw new BadInputError(where, `the input has ${axes.length} axes; bie embed takes 2-D images [batch, channel, y, x]`);
  if (axes[0].type !== "batch") throw new BadInputError(where, "the input's first axis must be the batch axis");
  return { batch: find((a) => a.type === "batch", "batch"), channel: find((a) => a.type === "channel", "channel"), y: find((a) => a.id === "y", "y"), x: find((a) => a.id === "x", "x") };
}

/** A fixed size, or the smallest valid parameterised size ≥ the requested one. */
function axisSize(size: unknown, want: number, where: string): number {
  if (typeof size === "number") return size;
  const o = size as { min?: number; step?: number } | null;
  if (o && o.min != null && o.step != null) return o.min + Math.max(0, Math.ceil((want - o.min) / o.step)) * o.step;
  throw new BadInputError(where, `input axis size ${JSON.stringify(size)} is not supported (a number or {min, step})`);
}

async function openPackage(path: string, cfg: Config): Promise<ImportedModel> {
  const pkg = readPackage(path);
  assertValid(await validatePackage(pkg, { schema: "warn", reproduce: false }), path);
  const rdf = pkg.rdf as Record<string, any>;
  if (!rdf.weights?.onnx) throw new BadInputError(path, `has no onnx weights (it has ${Object.keys(rdf.weights ?? {}).join(", ") || "none"}); bie embed runs ONNX models`);
  const inputs = rdf.inputs as TensorDescr[];
  if (inputs.length !== 1) throw new BadInputError(path, `has ${inputs.length} inputs; bie embed takes single-input models`);
  const axes = inputs[0].axes.map((a) => ({ type: a.type, id: axisId(a) }));
  const pos = layout(axes, `${path}:rdf.yaml`);
  const [h, w] = imageSizeHW(cfg.data.image_size);
  const ax = inputs[0].axes;
  return {
    runner: await onnxRunner(packageFile(pkg, rdf.weights.onnx.source, "weights.onnx"), { threads: threadsFor(cfg), source: path }),
    axes: axes.map((a) => a.id),
    pos,
    channels: ax[pos.channel].channel_names?.length ?? 0,
    size: [axisSize(ax[pos.y].size, h, path), axisSize(ax[pos.x].size, w, path)],
    preprocessing: inputs[0].preprocessing ?? [],
    fit: rdf.config?.bioimage_embed?.fit,
    name: basename(path).replace(/\.(bioimageio\.)?zip$/i, ""),
  };
}

async function openOnnx(path: string, cfg: Config): Promise<ImportedModel> {
  const bytes = new Uint8Array(await import("node:fs/promises").then((f) => f.readFile(path)));
  const info = describeOnnx(bytes);
  if (info.inputs.length !== 1) throw new BadInputError(path, `has ${info.inputs.length} graph inputs; bie embed takes single-input models`);
  const dims = info.inputs[0].dims;
  if (dims.length !== 4) throw new BadInputError(path, `input '${info.inputs[0].name}' has ${dims.length} dimensions; bie embed takes [batch, channel, y, x]`);
  const [h, w] = imageSizeHW(cfg.data.image_size);
  const fixed = (d: number | string, dflt: number) => (typeof d === "number" && d > 0 ? d : dflt);
  return {
    runner: await onnxRunner(bytes, { threads: threadsFor(cfg), source: path }),
    axes: ["batch", "channel", "y", "x"],
    pos: { batch: 0, channel: 1, y: 2, x: 3 },
    channels: typeof dims[1] === "number" ? dims[1] : 0,
    size: [fixed(dims[2], h), fixed(dims[3], w)],
    preprocessing: preprocessingFor(cfg.data), // a bare ONNX says nothing about inputs: our data.* normalisation
    name: basename(path).replace(/\.onnx$/i, ""),
  };
}

/** One image → the model's input layout (preprocessing on the raw image, then fitted to the input size). */
async function prepareImage(m: ImportedModel, path: string, prep: PrepOptions, out: Float32Array, offset: number): Promise<void> {
  const img = await readImage(path);
  if (m.channels && img.channels !== m.channels) throw new BadInputError(path, `has ${img.channels} channel(s) but the model takes ${m.channels}`);
  const raw = Float32Array.from(img.data as ArrayLike<number>, Number);
  const canon = ["batch", "channel", "y", "x"].map((k) => m.axes[m.pos[k as keyof ImportedModel["pos"]]]);
  applyProcessing({ data: raw, shape: [1, img.channels, img.height, img.width], axes: canon }, m.preprocessing);
  const [H, W] = m.size;
  const chw = new Float32Array(img.channels * H * W);
  render(raw, img.channels, img.width, img.height, prep, null, chw, 0);
  // scatter C×H×W into the model's axis order (batch index 0 within this item's slot)
  const shape: number[] = [];
  shape[m.pos.batch] = 1, shape[m.pos.channel] = img.channels, shape[m.pos.y] = H, shape[m.pos.x] = W;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let c = 0; c < img.channels; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) out[offset + c * strides[m.pos.channel] + y * strides[m.pos.y] + x * strides[m.pos.x]] = chw[(c * H + y) * W + x];
}

export interface ImportEmbedOptions extends EmbedOptions {
  /** Overrides the user gave explicitly (data.fit given there wins over the package's recorded fit). */
  explicit?: string[];
}

/** `bie embed model=<package.zip | model.onnx> data.path=...`: embeddings of a dataset with an outside model. */
export async function embedImported(modelPath: string, overrides: string[], opts: ImportEmbedOptions = {}): Promise<EmbedResult> {
  const cfg = resolveConfig({ overrides, uniqueName: false });
  const path = resolve(modelPath);
  const m = /\.onnx$/i.test(path) ? await openOnnx(path, cfg) : await openPackage(path, cfg);
  try {
    const list = listItems(cfg.data);
    const items = list.items;
    if (!items.length) throw new BadInputError(list.source, "no images to embed");
    const fitGiven = overrides.some((o) => o.startsWith("data.fit="));
    const prep: PrepOptions = {
      height: m.size[0], width: m.size[1], fit: fitGiven ? cfg.data.fit : (m.fit ?? cfg.data.fit),
      normalise: cfg.data.normalise, pLow: cfg.data.percentile_low, pHigh: cfg.data.percentile_high,
      channels: m.channels, channelsFrom: "the model's input", augment: cfg.data.augment, skipBad: false,
    };
    const per = (m.channels || 1) * m.size[0] * m.size[1];
    const bs = cfg.batch_size;
    const rows: Float32Array[] = [];
    let dim = 0;
    const t0 = performance.now();
    for (let i = 0; i < items.length; i += bs) {
      const chunk = items.slice(i, i + bs);
      const x = new Float32Array(chunk.length * per);
      for (const [k, it] of chunk.entries()) await prepareImage(m, it.path, prep, x, k * per);
      const shape: number[] = [];
      shape[m.pos.batch] = chunk.length, shape[m.pos.channel] = m.channels, shape[m.pos.y] = m.size[0], shape[m.pos.x] = m.size[1];
      const y = await m.runner.run(x, shape);
      dim = y.data.length / chunk.length;
      rows.push(y.data.slice());
      opts.onProgress?.(Math.min(items.length, i + bs), items.length, (i + chunk.length) / ((performance.now() - t0) / 1000));
    }
    const imgPerSec = items.length / Math.max(1e-9, (performance.now() - t0) / 1000);
    const X = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
    let o = 0;
    for (const r of rows) (X.set(r, o), (o += r.length));
    const dataKey = cfg.data.path ?? cfg.data.manifest ?? "data";
    const outDir = resolve(opts.outDir ?? join(process.cwd(), `embed_${m.name}_${basename(dataKey).replace(/[^A-Za-z0-9._-]/g, "_")}`));
    await mkdir(outDir, { recursive: true });
    await writeEmbeddingTables(outDir, { items }, items.map((_, k) => k), X, dim);
    opts.onLog?.(`embedded ${items.length} items with ${basename(path)} → ${outDir} (dim ${dim}, ${Math.round(imgPerSec)} img/s)`);
    return { outDir, rows: items.length, dim, imgPerSec, skippedParts: 0 };
  } finally {
    await m.runner.release();
  }
}
