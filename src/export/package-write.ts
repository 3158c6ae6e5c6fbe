// `bie export RUN format=bioimageio`: the run's encoder as ONNX, a test input (a held-out image, raw intensities,
// fitted to the input size) and its test output, the latest reconstruction figure as cover, a README and rdf.yaml,
// all flat in one zip. Weights and tensors are stored, not deflated: float32 shrinks ~7% for 20× the time.
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { userInfo } from "node:os";
import { zipSync } from "fflate";
import YAML from "yaml";
import { noGrad, tensor, tidy } from "../engine/index.ts";
import { Dataset, splitItems } from "../data/index.ts";
import { render } from "../data/prepare.ts";
import { readImage } from "../io/image.ts";
import { encodeNpy } from "../io/npy.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { RunFolder } from "../train/index.ts";
import type { Config } from "../config/index.ts";
import type { EmbeddingModel } from "../models/index.ts";
import { BIOIMAGE_EMBED_CITATION, dataCitations, parseCite, type CiteEntry } from "./cite.ts";
import { exportModel, type ExportedOnnx } from "./onnx-export.ts";
import { onnxRunner } from "./ort.ts";
import { sha256 } from "./package-read.ts";
import { applyProcessing } from "./processing.ts";
import { buildRdf, preprocessingFor, rawRange, rdfName } from "./rdf.ts";
import { packageReadme } from "./readme.ts";

export interface PackageOptions {
  out?: string;
  name?: string;
  description?: string;
  authors?: string[];
  license?: string;
  channelNames?: string[];
  /** Extra or replacement citations of the training data ("text|doi-or-url"). */
  citeData?: string[];
}

export interface PackageResult {
  path: string;
  rdf: Record<string, unknown>;
  /** max |onnxruntime − native| on the test input (after preprocessing). */
  nativeMaxAbs: number;
  warnings: string[];
}

const npyBytes = (data: Float32Array, shape: number[]) => {
  const parts = encodeNpy(data, shape);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

/** A held-out image (test split first), raw intensities fitted to the model's input size: [1, C, H, W]. */
async function testInput(cfg: Config, size: [number, number]): Promise<{ data: Float32Array; shape: number[]; path: string; dtype: string }> {
  const ds = await Dataset.open(cfg.data);
  try {
    const split = splitItems(ds.items, cfg.data.split);
    const index = split.test[0] ?? split.val[0] ?? 0;
    const path = ds.items[index].path;
    const img = await readImage(path);
    const planes = Float32Array.from(img.data as ArrayLike<number>, Number);
    const out = new Float32Array(img.channels * size[0] * size[1]);
    render(planes, img.channels, img.width, img.height, { ...ds.prep, height: size[0], width: size[1] }, null, out, 0);
    return { data: out, shape: [1, img.channels, size[0], size[1]], path, dtype: img.dtype };
  } finally {
    await ds.close();
  }
}

export async function writePackage(runDir: string, cfg: Config, model: EmbeddingModel, opts: PackageOptions = {}): Promise<PackageResult> {
  const warnings: string[] = [];
  const spec = model.spec;
  const size = spec.imageSize;
  const onnx: ExportedOnnx = exportModel(model, { path: "embed" });
  const pre = preprocessingFor(cfg.data);
  const test = await testInput(cfg, size);

  // test output = what the packaged model gives for the test input; cross-checked against the native engine
  const x = applyProcessing({ data: test.data.slice(), shape: test.shape, axes: ["batch", "channel", "y", "x"] }, pre);
  const runner = await onnxRunner(onnx.bytes);
  const y = await runner.run(x.data, x.shape);
  await runner.release();
  const native = noGrad(() => tidy(() => model.embed(tensor(x.data, x.shape)).toFloat32()));
  const nativeMaxAbs = native.reduce((m, v, i) => Math.max(m, Math.abs(v - y.data[i])), 0);

  const files = new Map<string, Uint8Array>();
  files.set("model.onnx", onnx.bytes);
  files.set("test_input.npy", npyBytes(test.data, test.shape));
  files.set("test_output.npy", npyBytes(y.data, y.shape));
  const recon = (await new RunFolder(runDir).listRecon()).at(-1);
  if (recon) files.set("cover.png", new Uint8Array(readFileSync(join(runDir, "recon", recon))));
  else warnings.push("the run has no reconstruction figure (recon/*.png): the package has no cover");

  const dataPath = cfg.data.path ?? cfg.data.manifest ?? "";
  const found = dataCitations(dataPath, test.path);
  const dataCites: CiteEntry[] = opts.citeData?.length ? opts.citeData.map(parseCite) : found.cites;
  if (!dataCites.length) warnings.push(`no citation found for the training data (${dataPath}); pass cite_data='text|doi-or-url'`);
  const runName = basename(resolve(runDir));
  const channels = test.shape[1];
  const rdf = buildRdf({
    name: opts.name ?? `bioimage-embed ${spec.name} ${runName}`,
    description: opts.description ?? `Self-supervised ${spec.family.toUpperCase()} embedding model (${spec.name}, latent ${spec.latentDim}) trained with bioimage-embed on ${basename(dataPath)}: maps a ${channels}-channel ${size[0]}×${size[1]} image to a ${spec.latentDim}-dimensional embedding.`,
    authors: (opts.authors?.length ? opts.authors : [userInfo().username || "bioimage-embed user"]).map((name) => ({ name })),
    cite: [BIOIMAGE_EMBED_CITATION, ...dataCites],
    license: opts.license ?? "MIT",
    tags: ["bioimage-embed", "self-supervised", "embedding", "representation-learning", spec.family, spec.name, "2d", "onnx"],
    covers: recon ? ["cover.png"] : [],
    channelNames: opts.channelNames ?? Array.from({ length: channels }, (_, c) => `channel${c}`),
    size,
    rawRange: rawRange(test.dtype),
    preprocessing: pre,
    latentDim: y.shape[1],
    weights: { source: "model.onnx", sha256: sha256(onnx.bytes), opset: onnx.opset, comment: `exported by bioimage-embed from ${runName} (embed path${spec.family === "vqvae" ? ", pre-quantisation latent" : spec.family === "vae" ? ", posterior mean" : ""})` },
    tests: { input: { source: "test_input.npy", sha256: sha256(files.get("test_input.npy")!) }, output: { source: "test_output.npy", sha256: sha256(files.get("test_output.npy")!) } },
    config: { bioimage_embed: { model: spec.name, family: spec.family, latent_dim: spec.latentDim, image_size: size, fit: cfg.data.fit, normalise: cfg.data.normalise, percentile_low: cfg.data.percentile_low, percentile_high: cfg.data.percentile_high, run: runName, trained_on: dataPath } },
    timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  });
  if (Array.isArray(rdf.covers) && !rdf.covers.length) delete rdf.covers;
  files.set("README.md", new TextEncoder().encode(packageReadme({ rdf, cfg, runName, testImage: test.path, nativeMaxAbs, citationsFrom: found.from })));
  files.set("rdf.yaml", new TextEncoder().encode(YAML.stringify(rdf, { lineWidth: 0 })));

  const out = resolve(opts.out ?? join(runDir, `${rdfName(runName).replace(/\s+/g, "_")}.bioimageio.zip`));
  const zipped = zipSync(Object.fromEntries([...files].map(([k, v]) => [k, [v, { level: /\.(onnx|npy)$/.test(k) ? 0 : 6 }]])));
  await writeFileAtomic(out, zipped);
  return { path: out, rdf, nativeMaxAbs, warnings };
}

export const isPackagePath = (p: string) => /\.zip$/i.test(p) || (existsSync(p) && existsSync(join(p, "rdf.yaml")));
