// The model resource description (rdf.yaml, bioimage.io model format 0.5.7) of an exported embedding model:
// axes, data descriptions, preprocessing that reproduces our normalisation, weights and test tensors.
import type { DataConfig } from "../config/index.ts";
import type { ProcessingStep } from "./processing.ts";
import type { CiteEntry } from "./cite.ts";

export const FORMAT_VERSION = "0.5.7";

/** Our per-image, per-channel normalisation (data.normalise) as bioimage.io preprocessing of the raw input. */
export function preprocessingFor(data: Pick<DataConfig, "normalise" | "percentile_low" | "percentile_high">): ProcessingStep[] {
  const [lo, hi] = data.normalise === "minmax" ? [0, 100] : [data.percentile_low, data.percentile_high];
  return [
    { id: "scale_range", kwargs: { axes: ["y", "x"], min_percentile: lo, max_percentile: hi, eps: 1e-6 } },
    { id: "clip", kwargs: { min: 0, max: 1 } },
    { id: "ensure_dtype", kwargs: { dtype: "float32" } },
  ];
}

/** Value range of raw images of this pixel type ([null, null]: unbounded floats). */
export function rawRange(dtype: string): [number | null, number | null] {
  const bits: Record<string, [number, number]> = { uint8: [0, 255], uint16: [0, 65535], uint32: [0, 4294967295], int8: [-128, 127], int16: [-32768, 32767], int32: [-2147483648, 2147483647] };
  return bits[dtype] ?? [null, null];
}

export interface RdfInput {
  name: string;
  description: string;
  authors: { name: string }[];
  cite: CiteEntry[];
  license: string;
  tags: string[];
  covers: string[];
  channelNames: string[];
  size: [number, number];
  rawRange: [number | null, number | null];
  preprocessing: ProcessingStep[];
  latentDim: number;
  weights: { source: string; sha256: string; opset: number; comment: string };
  tests: { input: { source: string; sha256: string }; output: { source: string; sha256: string } };
  config: Record<string, unknown>;
  timestamp: string;
}

/** A name the spec accepts: 5-128 chars of letters, digits, _ - ( ) and spaces. */
export function rdfName(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9_\-() ]+/g, " ").replace(/\s+/g, " ").trim().slice(0, 128);
  return clean.length >= 5 ? clean : `${clean} model`.trim();
}

export function buildRdf(r: RdfInput): Record<string, unknown> {
  return {
    format_version: FORMAT_VERSION,
    type: "model",
    name: rdfName(r.name),
    description: r.description.slice(0, 1024),
    authors: r.authors,
    cite: r.cite.map((c) => ({ text: c.text, ...(c.doi ? { doi: c.doi } : {}), ...(c.url ? { url: c.url } : {}) })),
    license: r.license,
    tags: r.tags,
    documentation: "README.md",
    covers: r.covers,
    timestamp: r.timestamp,
    inputs: [
      {
        id: "input",
        description: "raw image, channels first; preprocessing scales each channel to [0, 1]",
        axes: [
          { type: "batch" },
          { type: "channel", channel_names: r.channelNames },
          { type: "space", id: "y", size: r.size[0] },
          { type: "space", id: "x", size: r.size[1] },
        ],
        test_tensor: r.tests.input,
        data: { type: "float32", range: r.rawRange, unit: "arbitrary unit", scale: 1.0, offset: null },
        preprocessing: r.preprocessing,
      },
    ],
    outputs: [
      {
        id: "embedding",
        description: "the embedding (latent vector) of each image",
        axes: [{ type: "batch" }, { type: "index", id: "latent", size: r.latentDim, description: "embedding dimension" }],
        test_tensor: r.tests.output,
        data: { type: "float32", range: [null, null], unit: "arbitrary unit", scale: 1.0, offset: null },
      },
    ],
    weights: {
      onnx: { source: r.weights.source, sha256: r.weights.sha256, opset_version: r.weights.opset, comment: r.weights.comment },
    },
    config: r.config,
  };
}
