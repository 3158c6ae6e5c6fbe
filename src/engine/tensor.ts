// The typed tensor API over libtorch. Each method maps to one ATen operator by schema name, so gradients,
// autocast and kernels are libtorch's own. Tensors are released by tidy()/dispose(), or by GC as a last resort.
import { types } from "node:util";
import { native } from "./native.ts";
import { track, keep as keepTensor } from "./scope.ts";
import { EngineError } from "../errors.ts";

export type DType = "float32" | "float64" | "bfloat16" | "float16" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";
export type TypedArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | BigInt64Array;
type Handle = unknown;
type Arg = Tensor | number | boolean | string | null | undefined | Arg[];

const opIds = new Map<string, number>();
function opId(name: string): number {
  let id = opIds.get(name);
  if (id === undefined) {
    id = native().opId(name);
    opIds.set(name, id);
  }
  return id;
}

function unwrap(a: Arg): unknown {
  if (a instanceof Tensor) return a.handle;
  if (Array.isArray(a)) return a.map(unwrap);
  return a;
}
function rewrap(v: unknown): unknown {
  if (types.isExternal(v)) return new Tensor(v);
  if (Array.isArray(v)) return v.map(rewrap);
  return v;
}

/**
 * Sees every operator call with its arguments and result (graph export traces a forward pass this way).
 * Ops that bypass op() (reshape, expand, memory format, creation) report under the names "reshape",
 * "expand", "contiguous" and "tensor".
 */
export type OpObserver = (name: string, args: readonly unknown[], result: unknown) => void;
let observer: OpObserver | null = null;
export function setOpObserver(o: OpObserver | null): OpObserver | null {
  const prev = observer;
  observer = o;
  return prev;
}
function observed<T>(name: string, args: readonly unknown[], result: T): T {
  observer?.(name, args, result);
  return result;
}

/** Call any ATen operator by schema name, e.g. op("conv2d", x, w, b, [1,1], [1,1], [1,1], 1). */
export function op<R = Tensor>(name: string, ...args: Arg[]): R {
  const r = rewrap(native().call(opId(name), args.map(unwrap))) as R;
  return observer ? observed(name, args, r) : r;
}
/** Call an in-place operator and keep no new handle. */
function opInPlace(name: string, ...args: Arg[]): void {
  native().call(opId(name), args.map(unwrap), true);
}

const REDUCTION = { none: 0, mean: 1, sum: 2 } as const;
export type Reduction = keyof typeof REDUCTION;

export class Tensor {
  #h: Handle;
  #shape: number[] | undefined;
  constructor(handle: Handle) {
    this.#h = handle;
    track(this);
  }
  get handle(): Handle {
    return this.#h;
  }
  get shape(): number[] {
    return (this.#shape ??= native().shape(this.#h));
  }
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): DType {
    return native().info(this.#h).dtype as DType;
  }
  get device(): string {
    return native().info(this.#h).device;
  }
  get disposed(): boolean {
    return native().isDisposed(this.#h);
  }
  dispose(): void {
    native().dispose(this.#h);
  }
  /** Keep this tensor alive past enclosing tidy() scopes. */
  keep(): this {
    keepTensor(this);
    return this;
  }

  // --- data out ---
  toArray(): TypedArray {
    const dt = this.dtype;
    const buf = native().toBuffer(this.#h);
    switch (dt) {
      case "float32": return new Float32Array(buf);
      case "float64": return new Float64Array(buf);
      case "int64": return new BigInt64Array(buf);
      case "int32": return new Int32Array(buf);
      case "int16": return new Int16Array(buf);
      case "int8": return new Int8Array(buf);
      case "uint8": case "bool": return new Uint8Array(buf);
      case "bfloat16": case "float16": return new Uint16Array(buf);
    }
  }
  /** Values as float32 whatever the dtype (converts on the libtorch side). */
  toFloat32(): Float32Array {
    if (this.dtype === "float32") return this.toArray() as Float32Array;
    const t = this.to("float32");
    const out = t.toArray() as Float32Array;
    t.dispose();
    return out;
  }
  item(): number {
    return native().item(this.#h);
  }
  /** Raw little-endian bytes (for safetensors). */
  bytes(): Uint8Array {
    return new Uint8Array(native().toBuffer(this.#h));
  }

  // --- autograd ---
  get requiresGrad(): boolean {
    return native().info(this.#h).requiresGrad;
  }
  requireGrad(on = true): this {
    native().setRequiresGrad(this.#h, on);
    return this;
  }
  get grad(): Tensor | null {
    const g = native().grad(this.#h);
    return g == null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    native().setGrad(this.#h, g ? g.handle : null);
  }
  backward(grad?: Tensor): void {
    native().backward(this.#h, grad?.handle);
  }
  detach(): Tensor { return op("detach", this); }
  /** Replace this tensor's data in place, keeping its identity (parameters held by optimizers). */
  setData(src: Tensor): void {
    native().setData(this.#h, src.handle);
    this.#shape = undefined;
  }

  // --- conversion ---
  to(dtype: DType): Tensor { return op("to.dtype", this, dtype, false, false); }
  toDevice(device: string): Tensor { return new Tensor(native().toDevice(this.#h, device)); }
  clone(): Tensor { return op("clone", this); }
  contiguous(format: "contiguous" | "channels_last" = "contiguous"): Tensor {
    return observed("contiguous", [this, format], new Tensor(native().toMemoryFormat(this.#h, format)));
  }
  get isChannelsLast(): boolean { return native().isChannelsLast(this.#h); }

  // --- elementwise ---
  add(o: Tensor | number, alpha = 1): Tensor { return o instanceof Tensor ? op("add.Tensor", this, o, alpha) : op("add.Scalar", this, o, alpha); }
  sub(o: Tensor | number, alpha = 1): Tensor { return o instanceof Tensor ? op("sub.Tensor", this, o, alpha) : op("sub.Scalar", this, o, alpha); }
  mul(o: Tensor | number): Tensor { return o instanceof Tensor ? op("mul.Tensor", this, o) : op("mul.Scalar", this, o); }
  div(o: Tensor | number): Tensor { return o instanceof Tensor ? op("div.Tensor", this, o) : op("div.Scalar", this, o); }
  pow(e: Tensor | number): Tensor { return e instanceof Tensor ? op("pow.Tensor_Tensor", this, e) : op("pow.Tensor_Scalar", this, e); }
  rsub(o: number): Tensor { return op("rsub.Scalar", this, o, 1); }
  maximum(o: Tensor): Tensor { return op("maximum", this, o); }
  minimum(o: Tensor): Tensor { return op("minimum", this, o); }
  clamp(min: number | null, max: number | null = null): Tensor { return op("clamp", this, min, max); }
  neg(): Tensor { return op("neg", this); }
  exp(): Tensor { return op("exp", this); }
  log(): Tensor { return op("log", this); }
  log1p(): Tensor { return op("log1p", this); }
  sqrt(): Tensor { return op("sqrt", this); }
  rsqrt(): Tensor { return op("rsqrt", this); }
  abs(): Tensor { return op("abs", this); }
  sign(): Tensor { return op("sign", this); }
  square(): Tensor { return op("square", this); }
  reciprocal(): Tensor { return op("reciprocal", this); }
  floor(): Tensor { return op("floor", this); }
  round(): Tensor { return op("round", this); }
  sin(): Tensor { return op("sin", this); }
  cos(): Tensor { return op("cos", this); }
  relu(): Tensor { return op("relu", this); }
  sigmoid(): Tensor { return op("sigmoid", this); }
  tanh(): Tensor { return op("tanh", this); }
  gelu(approximate: "none" | "tanh" = "none"): Tensor { return op("gelu", this, approximate); }
  silu(): Tensor { return op("silu", this); }
  leakyRelu(slope = 0.01): Tensor { return op("leaky_relu", this, slope); }
  elu(alpha = 1): Tensor { return op("elu", this, alpha, 1, 1); }
  softplus(beta = 1, threshold = 20): Tensor { return op("softplus", this, beta, threshold); }
  isfinite(): Tensor { return op("isfinite", this); }
  eq(o: Tensor | number): Tensor { return o instanceof Tensor ? op("eq.Tensor", this, o) : op("eq.Scalar", this, o); }
  ne(o: Tensor | number): Tensor { return o instanceof Tensor ? op("ne.Tensor", this, o) : op("ne.Scalar", this, o); }
  gt(o: Tensor | number): Tensor { return o instanceof Tensor ? op("gt.Tensor", this, o) : op("gt.Scalar", this, o); }
  lt(o: Tensor | number): Tensor { return o instanceof Tensor ? op("lt.Tensor", this, o) : op("lt.Scalar", this, o); }
  ge(o: Tensor | number): Tensor { return o instanceof Tensor ? op("ge.Tensor", this, o) : op("ge.Scalar", this, o); }
  le(o: Tensor | number): Tensor { return o instanceof Tensor ? op("le.Tensor", this, o) : op("le.Scalar", this, o); }
  logicalNot(): Tensor { return op("logical_not", this); }
  /** Where mask is true take this, else other. */
  where(mask: Tensor, other: Tensor): Tensor { return op("where.self", mask, this, other); }
  maskedFill(mask: Tensor, value: number): Tensor { return op("masked_fill.Scalar", this, mask, value); }

  // --- in place (optimizers, EMA buffers); return this ---
  addInPlace(o: Tensor | number, alpha = 1): this { o instanceof Tensor ? opInPlace("add_.Tensor", this, o, alpha) : opInPlace("add_.Scalar", this, o, alpha); return this; }
  mulInPlace(o: Tensor | number): this { o instanceof Tensor ? opInPlace("mul_.Tensor", this, o) : opInPlace("mul_.Scalar", this, o); return this; }
  copyFrom(src: Tensor): this { opInPlace("copy_", this, src, false); return this; }
  fill(v: number): this { opInPlace("fill_.Scalar", this, v); return this; }
  zero(): this { opInPlace("zero_", this); return this; }

  // --- reductions ---
  sum(dims?: number | number[], keepdim = false): Tensor { return dims === undefined ? op("sum", this) : op("sum.dim_IntList", this, asList(dims), keepdim); }
  mean(dims?: number | number[], keepdim = false): Tensor { return dims === undefined ? op("mean", this) : op("mean.dim", this, asList(dims), keepdim); }
  max(): Tensor { return op("max", this); }
  min(): Tensor { return op("min", this); }
  maxDim(dim: number, keepdim = false): [Tensor, Tensor] { return op("max.dim", this, dim, keepdim); }
  minDim(dim: number, keepdim = false): [Tensor, Tensor] { return op("min.dim", this, dim, keepdim); }
  amax(dims: number | number[], keepdim = false): Tensor { return op("amax", this, asList(dims), keepdim); }
  amin(dims: number | number[], keepdim = false): Tensor { return op("amin", this, asList(dims), keepdim); }
  argmax(dim: number, keepdim = false): Tensor { return op("argmax", this, dim, keepdim); }
  argmin(dim: number, keepdim = false): Tensor { return op("argmin", this, dim, keepdim); }
  var(dims: number | number[], unbiased = true, keepdim = false): Tensor { return op("var.dim", this, asList(dims), unbiased, keepdim); }
  std(dims: number | number[], unbiased = true, keepdim = false): Tensor { return op("std.dim", this, asList(dims), unbiased, keepdim); }
  logsumexp(dims: number | number[], keepdim = false): Tensor { return op("logsumexp", this, asList(dims), keepdim); }
  norm(ord = 2, dims?: number | number[], keepdim = false): Tensor { return op("linalg_vector_norm", this, ord, dims === undefined ? null : asList(dims), keepdim); }
  cumsum(dim: number): Tensor { return op("cumsum", this, dim); }
  all(): Tensor { return op("all", this); }
  any(): Tensor { return op("any", this); }

  // --- shape ---
  reshape(shape: number[]): Tensor { return observed("reshape", [this, shape], new Tensor(native().reshape(this.#h, shape))); }
  view(shape: number[]): Tensor { return this.reshape(shape); }
  expand(shape: number[]): Tensor { return observed("expand", [this, shape], new Tensor(native().expand(this.#h, shape))); }
  flatten(start = 0, end = -1): Tensor { return op("flatten.using_ints", this, start, end); }
  permute(dims: number[]): Tensor { return op("permute", this, dims); }
  transpose(a: number, b: number): Tensor { return op("transpose.int", this, a, b); }
  squeeze(dim?: number): Tensor { return dim === undefined ? op("squeeze", this) : op("squeeze.dim", this, dim); }
  unsqueeze(dim: number): Tensor { return op("unsqueeze", this, dim); }
  narrow(dim: number, start: number, length: number): Tensor { return op("narrow", this, dim, start, length); }
  slice(dim: number, start: number, end: number, step = 1): Tensor { return op("slice.Tensor", this, dim, start, end, step); }
  select(dim: number, index: number): Tensor { return op("select.int", this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { return op("index_select", this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return op("gather", this, dim, index, false); }
  index(indices: (Tensor | null)[]): Tensor { return op("index.Tensor", this, indices); }
  repeat(times: number[]): Tensor { return op("repeat", this, times); }
  flip(dims: number[]): Tensor { return op("flip", this, dims); }
  roll(shifts: number[], dims: number[]): Tensor { return op("roll", this, shifts, dims); }
  split(size: number, dim = 0): Tensor[] { return op("split.Tensor", this, size, dim); }
  chunk(n: number, dim = 0): Tensor[] { return op("chunk", this, n, dim); }
  topk(k: number, dim = -1, largest = true): [Tensor, Tensor] { return op("topk", this, k, dim, largest, true); }
  sort(dim = -1, descending = false): [Tensor, Tensor] { return op("sort", this, dim, descending); }
  tril(diagonal = 0): Tensor { return op("tril", this, diagonal); }
  triu(diagonal = 0): Tensor { return op("triu", this, diagonal); }
  diagonal(offset = 0, d1 = 0, d2 = 1): Tensor { return op("diagonal", this, offset, d1, d2); }

  // --- linear algebra ---
  matmul(o: Tensor): Tensor { return op("matmul", this, o); }
  mm(o: Tensor): Tensor { return op("mm", this, o); }
  bmm(o: Tensor): Tensor { return op("bmm", this, o); }
  get T(): Tensor { return this.transpose(-2, -1); }

  // --- nn functional on this tensor ---
  softmax(dim: number): Tensor { return op("softmax.int", this, dim); }
  logSoftmax(dim: number): Tensor { return op("log_softmax.int", this, dim); }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(", ")}])`;
  }
}

function asList(d: number | number[]): number[] {
  return Array.isArray(d) ? d : [d];
}

// --- creation ---
function dtypeOfArray(a: TypedArray | number[]): DType {
  if (Array.isArray(a) || a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof BigInt64Array) return "int64";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Uint8Array) return "uint8";
  if (a instanceof Uint16Array) return "bfloat16"; // raw 16-bit floats (safetensors BF16)
  throw new EngineError("unsupported array type for a tensor");
}

/** A tensor from values (one copy). Shape defaults to 1-D. */
export function tensor(data: TypedArray | number[], shape?: number[], dtype?: DType): Tensor {
  const arr = Array.isArray(data) ? new Float32Array(data) : data;
  const dt = dtype ?? dtypeOfArray(arr);
  const sh = shape ?? [arr.length];
  if (dt !== dtypeOfArray(arr) && !(dt === "float16" && arr instanceof Uint16Array) && !(dt === "bool" && arr instanceof Uint8Array)) {
    // convert through the array's own dtype
    const t = new Tensor(native().fromBuffer(arr, sh, dtypeOfArray(arr)));
    const out = t.to(dt);
    t.dispose();
    return out;
  }
  return new Tensor(native().fromBuffer(arr, sh, dt));
}
export const scalar = (v: number, dtype: DType = "float32") => full([], v, dtype);
export const zeros = (shape: number[], dtype: DType = "float32") => new Tensor(native().zeros(shape, dtype));
export const ones = (shape: number[], dtype: DType = "float32") => full(shape, 1, dtype);
export const full = (shape: number[], value: number, dtype: DType = "float32") => new Tensor(native().full(shape, value, dtype));
export const randn = (shape: number[], dtype: DType = "float32") => new Tensor(native().randn(shape, dtype));
export const rand = (shape: number[], dtype: DType = "float32") => new Tensor(native().rand(shape, dtype));
export const randperm = (n: number) => new Tensor(native().randperm(n));
export const arange = (start: number, end: number, step = 1, dtype: DType = "int64") => new Tensor(native().arange(start, end, step, dtype));
export const zerosLike = (t: Tensor) => op<Tensor>("zeros_like", t);
export const onesLike = (t: Tensor) => op<Tensor>("ones_like", t);
export const randnLike = (t: Tensor) => op<Tensor>("randn_like", t);
export const eye = (n: number, dtype: DType = "float32") => op<Tensor>("eye", n, dtype);
export const cat = (ts: Tensor[], dim = 0) => op<Tensor>("cat", ts, dim);
export const stack = (ts: Tensor[], dim = 0) => op<Tensor>("stack", ts, dim);
export const where = (mask: Tensor, a: Tensor, b: Tensor) => op<Tensor>("where.self", mask, a, b);

export { REDUCTION };
