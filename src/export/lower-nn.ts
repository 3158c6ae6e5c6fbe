// ATen → ONNX for the neural-network operators: convolutions, linear layers, normalisation, pooling, activations,
// resizing and padding. Each entry reproduces PyTorch's semantics with opset-17 operators.
import { A, type Attr } from "./onnx-graph.ts";
import { axis, num, nums, type Lower, type Lowering } from "./lowering.ts";
import { TraceError, type TracedArg } from "./trace.ts";

const same = (a: number[], n: number) => (a.length === 1 ? Array(n).fill(a[0]) : a);

function conv(L: Lowering, a: TracedArg[], spatial: number): void {
  const [x, w, b, stride, padding, dilation, groups] = a;
  if (typeof padding === "string") throw new TraceError(`${L.opName} with padding='${padding}' is not mapped; give explicit padding`);
  const wv = L.info(w);
  const p = same(nums(padding), spatial);
  const inputs = [L.v(x), L.v(w), ...(b ? [L.v(b)] : [])];
  L.g.op("Conv", inputs, {
    kernel_shape: A.ints(wv.shape.slice(2)),
    strides: A.ints(same(nums(stride), spatial)),
    pads: A.ints([...p, ...p]),
    dilations: A.ints(same(nums(dilation), spatial)),
    group: A.int(num(groups)),
  }, L.outName());
}

function unary(opType: string): Lower {
  return (L, [x]) => void L.g.op(opType, [L.v(x)], {}, L.outName());
}

/** Weight/bias of a normalisation, or ones/zeros when the layer has none. */
function affine(L: Lowering, t: TracedArg, size: number, fill: number, like: TracedArg): string {
  if (t) return L.v(t);
  return L.g.op("Expand", [L.scalarLike(fill, like), L.g.int64s([size])]);
}

function gelu(L: Lowering, [x, approximate]: TracedArg[]): void {
  const g = L.g, xv = L.v(x);
  const half = g.op("Mul", [xv, L.scalarLike(0.5, x)]);
  let inner: string;
  if (approximate === "tanh") {
    const cube = g.op("Mul", [g.op("Mul", [xv, xv]), xv]);
    const arg = g.op("Mul", [g.op("Add", [xv, g.op("Mul", [cube, L.scalarLike(0.044715, x)])]), L.scalarLike(Math.sqrt(2 / Math.PI), x)]);
    inner = g.op("Tanh", [arg]);
  } else inner = g.op("Erf", [g.op("Div", [xv, L.scalarLike(Math.SQRT2, x)])]);
  g.op("Mul", [half, g.op("Add", [inner, L.scalarLike(1, x)])], {}, L.outName());
}

/** Pooling to an output grid: global when 1×1, a fixed window when the input divides evenly. */
function adaptivePool(L: Lowering, [x, size]: TracedArg[], kind: "Average" | "Max"): void {
  const [oh, ow] = same(nums(size), 2);
  const [, , h, w] = L.info(x).shape;
  if (oh === 1 && ow === 1) return void L.g.op(`Global${kind}Pool`, [L.v(x)], {}, L.outName());
  if (h % oh || w % ow) throw new TraceError(`${L.opName} from ${h}×${w} to ${oh}×${ow} has uneven windows, which ONNX pooling cannot express`);
  const k = [h / oh, w / ow];
  L.g.op(`${kind}Pool`, [L.v(x)], { kernel_shape: A.ints(k), strides: A.ints(k) }, L.outName());
}

function resize(L: Lowering, x: TracedArg, mode: "nearest" | "linear", alignCorners: boolean): void {
  const inShape = L.info(x).shape, outShape = L.out().shape;
  const scales = new Float32Array(inShape.map((d, i) => (i < 2 ? 1 : outShape[i] / d)));
  const attrs: Record<string, Attr> = mode === "nearest"
    ? { mode: A.str("nearest"), coordinate_transformation_mode: A.str("asymmetric"), nearest_mode: A.str("floor") }
    : { mode: A.str("linear"), coordinate_transformation_mode: A.str(alignCorners ? "align_corners" : "pytorch_half_pixel") };
  L.g.op("Resize", [L.v(x), "", L.g.initializer("scales", "float32", [scales.length], scales)], attrs, L.outName());
}

/** torch pads list the last dim first ([left, right, top, bottom, ...]); ONNX wants all begins then all ends. */
function onnxPads(rank: number, torchPads: number[]): number[] {
  const begins = Array(rank).fill(0), ends = Array(rank).fill(0);
  for (let i = 0; i < torchPads.length / 2; i++) {
    begins[rank - 1 - i] = torchPads[2 * i];
    ends[rank - 1 - i] = torchPads[2 * i + 1];
  }
  return [...begins, ...ends];
}

function pad(mode: "reflect" | "edge"): Lower {
  return (L, [x, p]) => void L.g.op("Pad", [L.v(x), L.g.int64s(onnxPads(L.info(x).shape.length, nums(p)))], { mode: A.str(mode) }, L.outName());
}

export const NN_OPS: Record<string, Lower> = {
  conv1d: (L, a) => conv(L, a, 1),
  conv2d: (L, a) => conv(L, a, 2),
  "conv_transpose2d.input": (L, [x, w, b, stride, padding, outputPadding, groups, dilation]) => {
    const p = same(nums(padding), 2);
    L.g.op("ConvTranspose", [L.v(x), L.v(w), ...(b ? [L.v(b)] : [])], {
      kernel_shape: A.ints(L.info(w).shape.slice(2)),
      strides: A.ints(same(nums(stride), 2)),
      pads: A.ints([...p, ...p]),
      output_padding: A.ints(same(nums(outputPadding), 2)),
      dilations: A.ints(same(nums(dilation), 2)),
      group: A.int(num(groups)),
    }, L.outName());
  },
  linear: (L, [x, w, b]) => {
    if (L.info(x).shape.length === 2) return void L.g.op("Gemm", [L.v(x), L.v(w), ...(b ? [L.v(b)] : [])], { transB: A.int(1) }, L.outName());
    const wt = L.g.op("Transpose", [L.v(w)], { perm: A.ints([1, 0]) });
    if (!b) return void L.g.op("MatMul", [L.v(x), wt], {}, L.outName());
    L.g.op("Add", [L.g.op("MatMul", [L.v(x), wt]), L.v(b)], {}, L.outName());
  },
  batch_norm: (L, [x, w, b, mean, variance, training, , eps]) => {
    if (training) throw new TraceError("batch_norm in training mode: put the model in eval() before exporting");
    if (!mean || !variance) throw new TraceError("batch_norm without running statistics cannot be exported");
    const c = L.info(x).shape[1];
    L.g.op("BatchNormalization", [L.v(x), affine(L, w, c, 1, x), affine(L, b, c, 0, x), L.v(mean), L.v(variance)], { epsilon: A.float(num(eps)) }, L.outName());
  },
  layer_norm: (L, [x, shape, w, b, eps]) => {
    const dims = nums(shape);
    const size = dims.reduce((p, d) => p * d, 1);
    if (!w || !b) {
      const flat = (t: TracedArg, fill: number) => L.g.op("Reshape", [affine(L, t, size, fill, x), L.g.int64s(dims)]);
      return void L.g.op("LayerNormalization", [L.v(x), flat(w, 1), flat(b, 0)], { axis: A.int(-dims.length), epsilon: A.float(num(eps)) }, L.outName());
    }
    L.g.op("LayerNormalization", [L.v(x), L.v(w), L.v(b)], { axis: A.int(-dims.length), epsilon: A.float(num(eps)) }, L.outName());
  },
  group_norm: (L, [x, groups, w, b, eps]) => {
    // (x - mean) / sqrt(var + eps) per (sample, group), then the per-channel affine: GroupNormalization is opset 18+.
    const g = L.g, xs = L.info(x).shape, c = xs[1];
    const grouped = g.op("Reshape", [L.v(x), g.int64s([0, num(groups), -1])]);
    const mean = g.op("ReduceMean", [grouped], { axes: A.ints([2]) });
    const centred = g.op("Sub", [grouped, mean]);
    const variance = g.op("ReduceMean", [g.op("Mul", [centred, centred])], { axes: A.ints([2]) });
    const normed = g.op("Div", [centred, g.op("Sqrt", [g.op("Add", [variance, L.scalarLike(num(eps), x)])])]);
    const back = g.op("Reshape", [normed, g.op("Shape", [L.v(x)])]);
    const bshape = g.int64s([c, ...xs.slice(2).map(() => 1)]);
    const scaled = g.op("Mul", [back, g.op("Reshape", [affine(L, w, c, 1, x), bshape])]);
    g.op("Add", [scaled, g.op("Reshape", [affine(L, b, c, 0, x), bshape])], {}, L.outName());
  },
  max_pool2d: (L, [x, k, s, p, d, ceil]) => {
    const kernel = same(nums(k), 2), stride = nums(s ?? []).length ? same(nums(s), 2) : kernel, pp = same(nums(p), 2);
    L.g.op("MaxPool", [L.v(x)], { kernel_shape: A.ints(kernel), strides: A.ints(stride), pads: A.ints([...pp, ...pp]), dilations: A.ints(same(nums(d), 2)), ceil_mode: A.int(ceil ? 1 : 0) }, L.outName());
  },
  avg_pool2d: (L, [x, k, s, p, ceil, countIncludePad, divisor]) => {
    if (divisor != null) throw new TraceError("avg_pool2d with divisor_override is not mapped");
    const kernel = same(nums(k), 2), stride = nums(s ?? []).length ? same(nums(s), 2) : kernel, pp = same(nums(p), 2);
    L.g.op("AveragePool", [L.v(x)], { kernel_shape: A.ints(kernel), strides: A.ints(stride), pads: A.ints([...pp, ...pp]), ceil_mode: A.int(ceil ? 1 : 0), count_include_pad: A.int(countIncludePad ? 1 : 0) }, L.outName());
  },
  adaptive_avg_pool2d: (L, a) => adaptivePool(L, a, "Average"),
  adaptive_max_pool2d: (L, a) => adaptivePool(L, a, "Max"), // the indices (second result) are not exported
  relu: unary("Relu"),
  sigmoid: unary("Sigmoid"),
  tanh: unary("Tanh"),
  gelu,
  silu: (L, [x]) => void L.g.op("Mul", [L.v(x), L.g.op("Sigmoid", [L.v(x)])], {}, L.outName()),
  leaky_relu: (L, [x, slope]) => void L.g.op("LeakyRelu", [L.v(x)], { alpha: A.float(num(slope)) }, L.outName()),
  elu: (L, [x, alpha, scale, inputScale]) => {
    if (num(scale) !== 1 || num(inputScale) !== 1) throw new TraceError("elu with scale ≠ 1 is not mapped");
    L.g.op("Elu", [L.v(x)], { alpha: A.float(num(alpha)) }, L.outName());
  },
  softplus: (L, [x, beta]) => {
    // ONNX Softplus has no threshold; above torch's threshold (20) the two differ by < 3e-9.
    const bt = num(beta);
    if (bt === 1) return void L.g.op("Softplus", [L.v(x)], {}, L.outName());
    L.g.op("Div", [L.g.op("Softplus", [L.g.op("Mul", [L.v(x), L.scalarLike(bt, x)])]), L.scalarLike(bt, x)], {}, L.outName());
  },
  "softmax.int": (L, [x, dim]) => void L.g.op("Softmax", [L.v(x)], { axis: A.int(axis(num(dim), L.info(x).shape.length)) }, L.outName()),
  "log_softmax.int": (L, [x, dim]) => void L.g.op("LogSoftmax", [L.v(x)], { axis: A.int(axis(num(dim), L.info(x).shape.length)) }, L.outName()),
  "upsample_nearest2d.vec": (L, [x]) => resize(L, x, "nearest", false),
  "upsample_bilinear2d.vec": (L, [x, , alignCorners]) => resize(L, x, "linear", !!alignCorners),
  constant_pad_nd: (L, [x, p, value]) => {
    const pads = L.g.int64s(onnxPads(L.info(x).shape.length, nums(p)));
    L.g.op("Pad", [L.v(x), pads, L.scalarLike(value == null ? 0 : num(value), x)], { mode: A.str("constant") }, L.outName());
  },
  reflection_pad2d: pad("reflect"),
  reflection_pad1d: pad("reflect"),
  replication_pad2d: pad("edge"),
  replication_pad1d: pad("edge"),
  pixel_shuffle: (L, [x, r]) => void L.g.op("DepthToSpace", [L.v(x)], { blocksize: A.int(num(r)), mode: A.str("CRD") }, L.outName()),
  embedding: (L, [w, idx]) => void L.g.op("Gather", [L.v(w), L.v(idx)], { axis: A.int(0) }, L.outName()),
  dropout: (L, [x, , training]) => {
    if (training) throw new TraceError("dropout in training mode: put the model in eval() before exporting");
    L.alias(L.v(x));
  },
};
