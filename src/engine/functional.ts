// Neural-network functions (stateless), each one ATen operator or a short composition of them.
import { op, Tensor, REDUCTION, type Reduction } from "./tensor.ts";

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (Array.isArray(v) ? v : [v, v]);

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1, groups = 1): Tensor {
  return op("conv2d", x, w, b, pair(stride), pair(padding), pair(dilation), groups);
}
export function conv1d(x: Tensor, w: Tensor, b: Tensor | null, stride = 1, padding = 0, dilation = 1, groups = 1): Tensor {
  return op("conv1d", x, w, b, [stride], [padding], [dilation], groups);
}
export function convTranspose2d(x: Tensor, w: Tensor, b: Tensor | null, stride: Pair = 1, padding: Pair = 0, outputPadding: Pair = 0, groups = 1, dilation: Pair = 1): Tensor {
  return op("conv_transpose2d.input", x, w, b, pair(stride), pair(padding), pair(outputPadding), groups, pair(dilation));
}
export function linear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  return op("linear", x, w, b);
}
export function batchNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, runningMean: Tensor | null, runningVar: Tensor | null, training: boolean, momentum = 0.1, eps = 1e-5): Tensor {
  return op("batch_norm", x, weight, bias, runningMean, runningVar, training, momentum, eps, true);
}
export function groupNorm(x: Tensor, groups: number, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  return op("group_norm", x, groups, weight, bias, eps, true);
}
export function layerNorm(x: Tensor, shape: number[], weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  return op("layer_norm", x, shape, weight, bias, eps, true);
}
export function maxPool2d(x: Tensor, kernel: Pair, stride: Pair = kernel, padding: Pair = 0, dilation: Pair = 1, ceilMode = false): Tensor {
  return op("max_pool2d", x, pair(kernel), pair(stride), pair(padding), pair(dilation), ceilMode);
}
export function avgPool2d(x: Tensor, kernel: Pair, stride: Pair = kernel, padding: Pair = 0, ceilMode = false, countIncludePad = true): Tensor {
  return op("avg_pool2d", x, pair(kernel), pair(stride), pair(padding), ceilMode, countIncludePad, null);
}
export function adaptiveAvgPool2d(x: Tensor, size: Pair): Tensor {
  return op("adaptive_avg_pool2d", x, pair(size));
}
export function adaptiveMaxPool2d(x: Tensor, size: Pair): Tensor {
  const [out, idx] = op<[Tensor, Tensor]>("adaptive_max_pool2d", x, pair(size));
  idx.dispose();
  return out;
}
/** Resize by nearest neighbour or bilinear, to a size or by a scale factor. */
export function interpolate(x: Tensor, opts: { size?: [number, number]; scale?: number; mode?: "nearest" | "bilinear"; alignCorners?: boolean }): Tensor {
  const mode = opts.mode ?? "nearest";
  const size = opts.size ?? null;
  const scales = opts.size ? null : [opts.scale ?? 2, opts.scale ?? 2];
  if (mode === "nearest") return op("upsample_nearest2d.vec", x, size, scales);
  return op("upsample_bilinear2d.vec", x, size, opts.alignCorners ?? false, scales);
}
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return op("dropout", x, p, training);
}
export function embedding(weight: Tensor, indices: Tensor): Tensor {
  return op("embedding", weight, indices, -1, false, false);
}
export function pixelShuffle(x: Tensor, factor: number): Tensor {
  return op("pixel_shuffle", x, factor);
}
/** Pad the last dims: pad = [left, right, top, bottom, ...] as torch.nn.functional.pad. */
export function pad(x: Tensor, p: number[], mode: "constant" | "reflect" | "replicate" | "circular" = "constant", value = 0): Tensor {
  if (mode === "constant") return op("constant_pad_nd", x, p, value);
  if (mode === "circular") return circularPad(x, p);
  if (x.rank === 4) return op(mode === "reflect" ? "reflection_pad2d" : "replication_pad2d", x, p);
  return op(mode === "reflect" ? "reflection_pad1d" : "replication_pad1d", x, p);
}
// Circular padding by concatenating wrapped slices (what torch does for mode="circular").
function circularPad(x: Tensor, p: number[]): Tensor {
  let out = x;
  for (let i = 0; i < p.length / 2; i++) {
    const dim = x.rank - 1 - i;
    const [before, after] = [p[2 * i], p[2 * i + 1]];
    const n = out.shape[dim];
    const parts: Tensor[] = [];
    if (before > 0) parts.push(out.narrow(dim, n - before, before));
    parts.push(out);
    if (after > 0) parts.push(out.narrow(dim, 0, after));
    out = parts.length > 1 ? op("cat", parts, dim) : out;
  }
  return out;
}

// --- losses ---
export function mseLoss(a: Tensor, b: Tensor, reduction: Reduction = "mean"): Tensor {
  return op("mse_loss", a, b, REDUCTION[reduction]);
}
export function l1Loss(a: Tensor, b: Tensor, reduction: Reduction = "mean"): Tensor {
  return op("l1_loss", a, b, REDUCTION[reduction]);
}
export function smoothL1Loss(a: Tensor, b: Tensor, beta = 1, reduction: Reduction = "mean"): Tensor {
  return op("smooth_l1_loss", a, b, REDUCTION[reduction], beta);
}
export function binaryCrossEntropy(p: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  return op("binary_cross_entropy", p, target, null, REDUCTION[reduction]);
}
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  return op("binary_cross_entropy_with_logits", logits, target, null, null, REDUCTION[reduction]);
}
export function crossEntropy(logits: Tensor, target: Tensor, reduction: Reduction = "mean", labelSmoothing = 0): Tensor {
  return op("cross_entropy_loss", logits, target, null, REDUCTION[reduction], -100, labelSmoothing);
}
export function nllLoss(logp: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  return op("nll_loss", logp, target, null, REDUCTION[reduction], -100);
}
/** KL(target || input) with input given as log-probabilities, as torch.nn.functional.kl_div. */
export function klDiv(logInput: Tensor, target: Tensor, reduction: Reduction = "mean", logTarget = false): Tensor {
  return op("kl_div", logInput, target, REDUCTION[reduction], logTarget);
}
/** KL(N(mu, exp(logvar)) || N(0, 1)) summed over latent dims, averaged over the batch. */
export function gaussianKl(mu: Tensor, logvar: Tensor): Tensor {
  // -0.5 * sum(1 + logvar - mu^2 - exp(logvar))
  const t = logvar.add(1).sub(mu.square()).sub(logvar.exp());
  return t.sum([1]).mean().mul(-0.5);
}
export function cdist(a: Tensor, b: Tensor, p = 2): Tensor {
  return op("cdist", a, b, p, null);
}
/** Attention softmax(q kᵀ / √d) v over the last two dims, composed (libtorch 1.13 has no public fused op). */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, mask?: Tensor): Tensor {
  const d = q.shape[q.rank - 1];
  let scores = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(d));
  if (mask) scores = scores.maskedFill(mask.logicalNot(), -Infinity);
  return scores.softmax(-1).matmul(v);
}
export function cosineSimilarity(a: Tensor, b: Tensor, dim = 1, eps = 1e-8): Tensor {
  return op("cosine_similarity", a, b, dim, eps);
}
export function normalize(x: Tensor, dim = 1, eps = 1e-12): Tensor {
  return x.div(x.norm(2, dim, true).clamp(eps));
}
