// ATen → ONNX for tensor maths: elementwise arithmetic (tensor and scalar forms), casts, shape operators
// (reshape/expand dynamic in the batch), slicing, joining, reductions and matrix products.
import type { DType } from "../engine/index.ts";
import { A, ONNX_DTYPE } from "./onnx-graph.ts";
import { axis, num, nums, type Lower, type Lowering } from "./lowering.ts";
import { TraceError, type TracedArg } from "./trace.ts";

function unary(opType: string): Lower {
  return (L, [x]) => void L.g.op(opType, [L.v(x)], {}, L.outName());
}
const identity: Lower = (L, [x]) => L.alias(L.v(x));

/** a ∘ (alpha · b) for add/sub with torch's alpha. */
function binary(opType: string, scalarB: boolean, withAlpha = false): Lower {
  return (L, [a, b, alpha]) => {
    const al = withAlpha && alpha != null ? num(alpha) : 1;
    let rhs = scalarB ? L.scalarLike(num(b) * al, a) : L.v(b);
    if (!scalarB && al !== 1) rhs = L.g.op("Mul", [rhs, L.scalarLike(al, b)]);
    L.g.op(opType, [L.v(a), rhs], {}, L.outName());
  };
}

function reduceAxes(L: Lowering, x: TracedArg, dims: TracedArg): number[] | null {
  if (dims == null || (Array.isArray(dims) && dims.length === 0)) return null;
  const rank = L.info(x).shape.length;
  return nums(dims).map((d) => axis(d, rank));
}

/** Opset 17: ReduceSum takes axes as an input, ReduceMean/Max/Min/L1/L2 as an attribute. */
function reduce(L: Lowering, opType: string, x: string, axes: number[] | null, keep: boolean, out?: string): string {
  const keepdims = { keepdims: A.int(keep ? 1 : 0) };
  if (opType === "ReduceSum") return L.g.op(opType, axes ? [x, L.g.int64s(axes)] : [x], keepdims, out);
  return L.g.op(opType, [x], axes ? { ...keepdims, axes: A.ints(axes) } : keepdims, out);
}

function reduction(opType: string): Lower {
  return (L, [x, dims, keep]) => void reduce(L, opType, L.v(x), reduceAxes(L, x, dims), !!keep, L.outName());
}

function variance(L: Lowering, [x, dims, unbiased, keep]: TracedArg[], out?: string): string {
  const g = L.g, xv = L.info(x), axes = reduceAxes(L, x, dims) ?? xv.shape.map((_, i) => i);
  const f = L.factors(xv);
  if (axes.some((a) => f[a])) throw new TraceError(`${L.opName} over the batch dimension is not mapped`);
  const n = axes.reduce((p, a) => p * xv.shape[a], 1);
  const centred = g.op("Sub", [L.v(x), reduce(L, "ReduceMean", L.v(x), axes, true)]);
  const ss = reduce(L, "ReduceSum", g.op("Mul", [centred, centred]), axes, !!keep);
  return g.op("Div", [ss, L.scalarLike(n - (unbiased === false ? 0 : 1), x)], {}, out);
}

/** Slice one axis; the batch axis may only be taken whole. */
function sliceAxis(L: Lowering, x: TracedArg, dim: number, start: number, end: number, step = 1): void {
  const xv = L.info(x), d = axis(dim, xv.shape.length), size = xv.shape[d];
  const s = Math.max(0, Math.min(size, start < 0 ? start + size : start));
  const e = Math.max(0, Math.min(size, end < 0 ? end + size : end));
  if (L.factors(xv)[d]) {
    if (s === 0 && e >= size && step === 1) return L.alias(L.v(x));
    throw new TraceError(`${L.opName} cuts the batch dimension, which a graph with a dynamic batch cannot do`);
  }
  const g = L.g;
  g.op("Slice", [L.v(x), g.int64s([s]), g.int64s([e]), g.int64s([d]), g.int64s([step])], {}, L.outName());
}

const reshapeTo: Lower = (L, [x]) => void L.g.op("Reshape", [L.v(x), L.shapeTensor(L.out(), { reshape: true })], {}, L.outName());

function split(L: Lowering, x: TracedArg, dim: number, sizes: number[], squeeze: boolean): void {
  const g = L.g, d = axis(dim, L.info(x).shape.length);
  if (L.factors(L.info(x))[d]) throw new TraceError(`${L.opName} along the batch dimension is not mapped`);
  const outs = sizes.map((_, i) => (squeeze ? g.fresh("part") : L.outName(i)));
  g.node("Split", [L.v(x), g.int64s(sizes)], { axis: A.int(d) }, outs);
  if (squeeze) outs.forEach((o, i) => g.op("Squeeze", [o, g.int64s([d])], {}, L.outName(i)));
}

export const TENSOR_OPS: Record<string, Lower> = {
  "add.Tensor": binary("Add", false, true),
  "add.Scalar": binary("Add", true, true),
  "sub.Tensor": binary("Sub", false, true),
  "sub.Scalar": binary("Sub", true, true),
  "mul.Tensor": binary("Mul", false),
  "mul.Scalar": binary("Mul", true),
  "div.Tensor": binary("Div", false),
  "div.Scalar": binary("Div", true),
  "pow.Tensor_Scalar": binary("Pow", true),
  "pow.Tensor_Tensor": binary("Pow", false),
  "rsub.Scalar": (L, [x, o, alpha]) => {
    const scaled = alpha != null && num(alpha) !== 1 ? L.g.op("Mul", [L.v(x), L.scalarLike(num(alpha), x)]) : L.v(x);
    L.g.op("Sub", [L.scalarLike(num(o), x), scaled], {}, L.outName());
  },
  maximum: (L, [a, b]) => void L.g.op("Max", [L.v(a), L.v(b)], {}, L.outName()),
  minimum: (L, [a, b]) => void L.g.op("Min", [L.v(a), L.v(b)], {}, L.outName()),
  neg: unary("Neg"),
  exp: unary("Exp"),
  log: unary("Log"),
  sqrt: unary("Sqrt"),
  abs: unary("Abs"),
  sign: unary("Sign"),
  floor: unary("Floor"),
  round: unary("Round"),
  sin: unary("Sin"),
  cos: unary("Cos"),
  erf: unary("Erf"),
  reciprocal: unary("Reciprocal"),
  rsqrt: (L, [x]) => void L.g.op("Reciprocal", [L.g.op("Sqrt", [L.v(x)])], {}, L.outName()),
  square: (L, [x]) => void L.g.op("Mul", [L.v(x), L.v(x)], {}, L.outName()),
  log1p: (L, [x]) => void L.g.op("Log", [L.g.op("Add", [L.v(x), L.scalarLike(1, x)])], {}, L.outName()),
  clamp: (L, [x, lo, hi]) => {
    const bound = (b: TracedArg) => (b == null ? "" : L.scalarLike(num(b), x));
    L.g.op("Clip", [L.v(x), bound(lo), bound(hi)], {}, L.outName());
  },
  "where.self": (L, [c, a, b]) => void L.g.op("Where", [L.v(c), L.v(a), L.v(b)], {}, L.outName()),
  "masked_fill.Scalar": (L, [x, mask, value]) => void L.g.op("Where", [L.v(mask), L.scalarLike(num(value), x), L.v(x)], {}, L.outName()),
  "to.dtype": (L, [x, dtype]) => {
    const to = ONNX_DTYPE[dtype as DType];
    if (!to) throw new TraceError(`to.dtype: unknown dtype ${String(dtype)}`);
    if (L.info(x).dtype === dtype) return L.alias(L.v(x));
    L.g.op("Cast", [L.v(x)], { to: A.int(to) }, L.outName());
  },
  detach: identity,
  clone: identity,
  contiguous: identity,
  alias: identity,
  lift_fresh: identity,

  // --- shapes ---
  reshape: reshapeTo,
  view: reshapeTo,
  _unsafe_view: reshapeTo,
  "flatten.using_ints": (L, a) => {
    const [x, start, end] = a;
    const rank = L.info(x).shape.length;
    if (axis(num(start), rank) === 1 && axis(num(end), rank) === rank - 1) return void L.g.op("Flatten", [L.v(x)], { axis: A.int(1) }, L.outName());
    reshapeTo(L, a);
  },
  expand: (L, [x]) => void L.g.op("Expand", [L.v(x), L.shapeTensor(L.out())], {}, L.outName()),
  permute: (L, [x, dims]) => {
    const rank = L.info(x).shape.length;
    L.g.op("Transpose", [L.v(x)], { perm: A.ints(nums(dims).map((d) => axis(d, rank))) }, L.outName());
  },
  "transpose.int": (L, [x, d0, d1]) => {
    const rank = L.info(x).shape.length;
    const perm = [...Array(rank).keys()];
    const [a, b] = [axis(num(d0), rank), axis(num(d1), rank)];
    [perm[a], perm[b]] = [perm[b], perm[a]];
    L.g.op("Transpose", [L.v(x)], { perm: A.ints(perm) }, L.outName());
  },
  unsqueeze: (L, [x, dim]) => void L.g.op("Unsqueeze", [L.v(x), L.g.int64s([axis(num(dim), L.info(x).shape.length + 1)])], {}, L.outName()),
  "squeeze.dim": (L, [x, dim]) => {
    const xv = L.info(x), d = axis(num(dim), xv.shape.length);
    if (xv.shape[d] !== 1 || L.factors(xv)[d]) return L.alias(L.v(x)); // torch leaves a non-1 dim alone
    L.g.op("Squeeze", [L.v(x), L.g.int64s([d])], {}, L.outName());
  },
  squeeze: (L, [x]) => {
    const xv = L.info(x), f = L.factors(xv);
    const axes = xv.shape.flatMap((s, i) => (s === 1 && !f[i] ? [i] : []));
    if (!axes.length) return L.alias(L.v(x));
    L.g.op("Squeeze", [L.v(x), L.g.int64s(axes)], {}, L.outName());
  },
  narrow: (L, [x, dim, start, length]) => sliceAxis(L, x, num(dim), num(start), num(start) + num(length)),
  "slice.Tensor": (L, [x, dim, start, end, step]) => sliceAxis(L, x, num(dim), start == null ? 0 : num(start), end == null ? Number.MAX_SAFE_INTEGER : Math.min(num(end), Number.MAX_SAFE_INTEGER), step == null ? 1 : num(step)),
  "select.int": (L, [x, dim, index]) => {
    const xv = L.info(x), d = axis(num(dim), xv.shape.length);
    if (L.factors(xv)[d]) throw new TraceError("select along the batch dimension is not mapped");
    const i = num(index) < 0 ? num(index) + xv.shape[d] : num(index);
    L.g.op("Gather", [L.v(x), L.g.scalar(i, "int64")], { axis: A.int(d) }, L.outName());
  },
  index_select: (L, [x, dim, idx]) => void L.g.op("Gather", [L.v(x), L.v(idx)], { axis: A.int(axis(num(dim), L.info(x).shape.length)) }, L.outName()),
  gather: (L, [x, dim, idx]) => void L.g.op("GatherElements", [L.v(x), L.v(idx)], { axis: A.int(axis(num(dim), L.info(x).shape.length)) }, L.outName()),
  cat: (L, [list, dim]) => {
    const ts = list as TracedArg[];
    L.g.op("Concat", ts.map((t) => L.v(t)), { axis: A.int(axis(num(dim), L.info(ts[0]).shape.length)) }, L.outName());
  },
  stack: (L, [list, dim]) => {
    const ts = list as TracedArg[], d = axis(num(dim), L.info(ts[0]).shape.length + 1);
    const parts = ts.map((t) => L.g.op("Unsqueeze", [L.v(t), L.g.int64s([d])]));
    L.g.op("Concat", parts, { axis: A.int(d) }, L.outName());
  },
  "unbind.int": (L, [x, dim]) => {
    const xv = L.info(x), d = axis(num(dim), xv.shape.length);
    split(L, x, d, Array(xv.shape[d]).fill(1), true);
  },
  "split.Tensor": (L, [x, size, dim]) => {
    const xv = L.info(x), d = axis(num(dim), xv.shape.length), n = xv.shape[d], s = num(size);
    split(L, x, d, Array.from({ length: Math.ceil(n / s) }, (_, i) => Math.min(s, n - i * s)), false);
  },
  chunk: (L, [x, , dim]) => {
    const d = axis(num(dim), L.info(x).shape.length);
    split(L, x, d, Array.from({ length: L.outCount }, (_, i) => L.out(i).shape[d]), false);
  },
  repeat: (L, [x, times]) => {
    const t = nums(times);
    if (t.length !== L.info(x).shape.length) throw new TraceError("repeat with more repeats than dimensions is not mapped");
    L.g.op("Tile", [L.v(x), L.g.int64s(t)], {}, L.outName());
  },

  // --- reductions ---
  mean: (L, [x]) => void reduce(L, "ReduceMean", L.v(x), null, false, L.outName()),
  "mean.dim": reduction("ReduceMean"),
  sum: (L, [x]) => void reduce(L, "ReduceSum", L.v(x), null, false, L.outName()),
  "sum.dim_IntList": reduction("ReduceSum"),
  amax: reduction("ReduceMax"),
  amin: reduction("ReduceMin"),
  argmax: (L, [x, dim, keep]) => void L.g.op("ArgMax", [L.v(x)], { axis: A.int(axis(num(dim), L.info(x).shape.length)), keepdims: A.int(keep ? 1 : 0) }, L.outName()),
  argmin: (L, [x, dim, keep]) => void L.g.op("ArgMin", [L.v(x)], { axis: A.int(axis(num(dim), L.info(x).shape.length)), keepdims: A.int(keep ? 1 : 0) }, L.outName()),
  "var.dim": (L, a) => void variance(L, a, L.outName()),
  "std.dim": (L, a) => void L.g.op("Sqrt", [variance(L, a)], {}, L.outName()),
  linalg_vector_norm: (L, [x, ord, dims, keep]) => {
    const o = num(ord);
    if (o !== 1 && o !== 2) throw new TraceError(`linalg_vector_norm of order ${o} is not mapped (1 and 2 are)`);
    reduce(L, o === 2 ? "ReduceL2" : "ReduceL1", L.v(x), reduceAxes(L, x, dims), !!keep, L.outName());
  },
  one_hot: (L, [idx, n]) => {
    const g = L.g;
    g.op("OneHot", [L.v(idx), g.scalar(num(n), "int64"), g.int64s([0, 1])], { axis: A.int(-1) }, L.outName());
  },

  // --- matrix products ---
  matmul: (L, [a, b]) => void L.g.op("MatMul", [L.v(a), L.v(b)], {}, L.outName()),
  mm: (L, [a, b]) => void L.g.op("MatMul", [L.v(a), L.v(b)], {}, L.outName()),
  bmm: (L, [a, b]) => void L.g.op("MatMul", [L.v(a), L.v(b)], {}, L.outName()),
};
