// ONNX export of a traced forward pass: keep the calls the output depends on, lower each ATen call to ONNX nodes,
// and turn tensors no traced op produced (parameters, buffers, constants) into initializers.
import type { Tensor } from "../engine/index.ts";
import type { EmbeddingModel } from "../models/index.ts";
import { NN_OPS } from "./lower-nn.ts";
import { TENSOR_OPS } from "./lower-tensor.ts";
import { isTensorArg, LoweringContext, type Lower } from "./lowering.ts";
import { OnnxGraph, OPSET, type ValueSpec } from "./onnx-graph.ts";
import { batchFactors, traceForward, TraceError, type Trace, type TracedArg } from "./trace.ts";

export const ATEN_TO_ONNX: Record<string, Lower> = { ...NN_OPS, ...TENSOR_OPS };

export interface ExportedOnnx {
  bytes: Uint8Array;
  input: ValueSpec;
  output: ValueSpec;
  opset: number;
  /** Traced ATen calls that reach the output, by name. */
  atenOps: Record<string, number>;
  /** Nodes in the ONNX graph, by op type. */
  onnxOps: Record<string, number>;
}

export interface ExportOptions {
  inputName?: string;
  outputName?: string;
  graphName?: string;
  doc?: string;
  props?: Record<string, string>;
  /** The two batch sizes traced; dims that differ between them are the dynamic batch. Default [3, 5]. */
  batches?: [number, number];
  /** Initializer names for parameters (state-dict keys). */
  names?: Map<Tensor, string>;
}

const tensorIds = (a: TracedArg): number[] => (isTensorArg(a) ? [a.value] : Array.isArray(a) ? a.flatMap(tensorIds) : []);
const count = (xs: string[]) => xs.reduce<Record<string, number>>((m, k) => ((m[k] = (m[k] ?? 0) + 1), m), {});

/** Indices of the calls the output depends on, in call order. */
export function liveCalls(trace: Trace): number[] {
  const producer = new Map<number, number>();
  trace.calls.forEach((c, i) => c.outputs.forEach((o) => producer.set(o, i)));
  const live = new Set<number>();
  const stack = [trace.output];
  while (stack.length) {
    const i = producer.get(stack.pop()!);
    if (i === undefined || live.has(i)) continue;
    live.add(i);
    for (const a of trace.calls[i].args) stack.push(...tensorIds(a));
  }
  return [...live].sort((a, b) => a - b);
}

function dimsOf(shape: number[], factors: number[]): (number | string)[] {
  return shape.map((d, i) => (factors[i] === 0 ? d : factors[i] === 1 ? "batch" : `batch*${factors[i]}`));
}

export function lowerTrace(trace: Trace, opts: ExportOptions = {}): ExportedOnnx {
  const live = liveCalls(trace);
  const unmapped = count(live.map((i) => trace.calls[i].name).filter((n) => !ATEN_TO_ONNX[n]));
  if (Object.keys(unmapped).length)
    throw new TraceError(`cannot export to ONNX: no mapping for ATen operator${Object.keys(unmapped).length > 1 ? "s" : ""} ${Object.entries(unmapped).map(([n, k]) => `'${n}' (${k} call${k > 1 ? "s" : ""})`).join(", ")}`);
  const g = new OnnxGraph();
  const inputName = g.reserve(opts.inputName ?? "input");
  const outputName = g.reserve(opts.outputName ?? "output");
  const ctx = new LoweringContext(g, trace, inputName);
  for (const i of live) {
    try {
      ATEN_TO_ONNX[trace.calls[i].name](ctx.at(i), trace.calls[i].args);
    } catch (e) {
      if (e instanceof TraceError && !e.message.startsWith(trace.calls[i].name)) throw new TraceError(`${trace.calls[i].name} (call ${i}): ${e.message}`);
      throw e;
    }
  }
  g.op("Identity", [ctx.nameOf(trace.output)], {}, outputName);
  const inV = trace.values[trace.input], outV = trace.values[trace.output];
  const input: ValueSpec = { name: inputName, dtype: inV.dtype, dims: dimsOf(inV.shape, batchFactors(inV, trace.batches)) };
  const output: ValueSpec = { name: outputName, dtype: outV.dtype, dims: dimsOf(outV.shape, batchFactors(outV, trace.batches)) };
  const bytes = g.model([input], [output], { name: opts.graphName ?? "bioimage_embed", doc: opts.doc, props: opts.props });
  return { bytes, input, output, opset: OPSET, atenOps: count(live.map((i) => trace.calls[i].name)), onnxOps: count(g.nodes.map((n) => n.opType ?? "")) };
}

/** Trace fn on [batch, ...sampleShape] inputs and export it. */
export function exportFunction(fn: (x: Tensor) => Tensor, sampleShape: number[], opts: ExportOptions = {}): ExportedOnnx {
  return lowerTrace(traceForward(fn, sampleShape, { batches: opts.batches, names: opts.names }), opts);
}

export type ExportPath = "embed" | "reconstruct";

/**
 * Export a model's embed path (image → latent, VAE: the mean; VQ-VAE: the pre-quantisation latent) or its
 * reconstruct path (image → image). The model is put in eval mode; folded batch norms stay folded, unfolded ones
 * become BatchNormalization nodes.
 */
export function exportModel(model: EmbeddingModel, opts: ExportOptions & { path?: ExportPath; imageSize?: [number, number] } = {}): ExportedOnnx {
  const path = opts.path ?? "embed";
  const spec = model.spec;
  const [h, w] = opts.imageSize ?? spec.imageSize;
  model.eval();
  const names = new Map<Tensor, string>();
  for (const [k, t] of model.stateDict()) names.set(t, k);
  const fn = path === "embed" ? (x: Tensor) => model.embed(x) : (x: Tensor) => model.reconstruct(x);
  return exportFunction(fn, [spec.inChannels, h, w], {
    ...opts,
    inputName: opts.inputName ?? "input",
    outputName: opts.outputName ?? (path === "embed" ? "embedding" : "reconstruction"),
    graphName: opts.graphName ?? `${spec.name}_${path}`,
    doc: opts.doc ?? `bioimage-embed ${spec.name} (${spec.family}), ${path} path, input [batch, ${spec.inChannels}, ${h}, ${w}] in [0, 1]`,
    props: { "bie.model": spec.name, "bie.family": spec.family, "bie.path": path, "bie.latent_dim": String(spec.latentDim), ...opts.props },
    names,
  });
}
