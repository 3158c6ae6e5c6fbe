// What an ATen → ONNX mapping sees: the graph being built, the traced arguments and results of one call, and
// helpers for the parts that need care (constants in the operand's dtype, shapes that are dynamic in the batch).
import type { DType } from "../engine/index.ts";
import { OnnxGraph } from "./onnx-graph.ts";
import { batchFactors, TraceError, type Trace, type TracedArg, type TracedValue } from "./trace.ts";

export interface Lowering {
  g: OnnxGraph;
  /** ONNX name of a tensor argument (its initializer is added on first use). */
  v(a: TracedArg): string;
  /** Traced facts (dtype, shapes) of a tensor argument. */
  info(a: TracedArg): TracedValue;
  /** The call's i-th result, and how many results it has. */
  out(i?: number): TracedValue;
  readonly outCount: number;
  /** Name the i-th result: emit a node writing to the returned name, or alias an existing value. */
  outName(i?: number): string;
  alias(name: string, i?: number): void;
  /** int64 [rank] shape of a traced value; batch-dependent dims are computed from the input at run time. */
  shapeTensor(v: TracedValue, opts?: { reshape?: boolean }): string;
  /** Batch multiplier per dim of a value (0 = static). */
  factors(v: TracedValue): number[];
  /** A scalar constant in the dtype of a tensor argument. */
  scalarLike(value: number, like: TracedArg): string;
  /** The ATen op name being lowered (for error messages). */
  readonly opName: string;
}

export type Lower = (L: Lowering, args: TracedArg[]) => void;

/** Normalise a possibly negative dim against a rank. */
export function axis(d: number, rank: number): number {
  const a = d < 0 ? d + rank : d;
  if (a < 0 || a >= rank) throw new TraceError(`dim ${d} is out of range for rank ${rank}`);
  return a;
}
export const isTensorArg = (a: TracedArg): a is { value: number } => typeof a === "object" && a !== null && !Array.isArray(a) && "value" in a;
export const num = (a: TracedArg): number => {
  if (typeof a === "number") return a;
  if (typeof a === "boolean") return a ? 1 : 0;
  throw new TraceError(`expected a number, got ${JSON.stringify(a)}`);
};
export const nums = (a: TracedArg): number[] => (Array.isArray(a) ? a.map(num) : [num(a)]);

/** The lowering context for a whole trace; `at(callIndex)` gives the per-call view. */
export class LoweringContext {
  readonly names = new Map<number, string>();
  #batch: string | null = null;
  constructor(readonly g: OnnxGraph, readonly trace: Trace, readonly inputName: string) {
    this.names.set(trace.input, inputName);
  }

  nameOf(id: number): string {
    const known = this.names.get(id);
    if (known) return known;
    const v = this.trace.values[id];
    if (!v.constant) throw new TraceError(`value ${id} is used before any traced op produced it`);
    const name = this.g.initializer(v.constant.name ?? `const_${id}`, v.dtype, v.shape, v.constant.data);
    this.names.set(id, name);
    return name;
  }

  /** int64 [1]: the batch size of the graph input, computed once. */
  batch(): string {
    return (this.#batch ??= this.g.op("Shape", [this.inputName], { start: { int: 0 }, end: { int: 1 } }, this.g.fresh("batch_size")));
  }

  shapeTensor(v: TracedValue, reshape: boolean): string {
    const f = batchFactors(v, this.trace.batches);
    const dynamic = f.filter((k) => k !== 0).length;
    if (dynamic === 0) return this.g.int64s(v.shape, "shape");
    if (reshape && dynamic === 1) return this.g.int64s(v.shape.map((d, i) => (f[i] ? -1 : d)), "shape");
    const parts = v.shape.map((d, i) => {
      if (!f[i]) return this.g.int64s([d], "dim");
      return f[i] === 1 ? this.batch() : this.g.op("Mul", [this.batch(), this.g.int64s([f[i]], "factor")]);
    });
    return this.g.op("Concat", parts, { axis: { int: 0 } });
  }

  at(callIndex: number): Lowering {
    const call = this.trace.calls[callIndex];
    const ctx = this;
    const valueOf = (a: TracedArg): TracedValue => {
      if (!isTensorArg(a)) throw new TraceError(`${call.name}: expected a tensor argument, got ${JSON.stringify(a)}`);
      return ctx.trace.values[a.value];
    };
    return {
      g: ctx.g,
      opName: call.name,
      v: (a) => ctx.nameOf(valueOf(a).id),
      info: valueOf,
      out: (i = 0) => ctx.trace.values[call.outputs[i]],
      outCount: call.outputs.length,
      outName: (i = 0) => {
        const id = call.outputs[i];
        const name = ctx.g.fresh(`v${id}`);
        ctx.names.set(id, name);
        return name;
      },
      alias: (name, i = 0) => void ctx.names.set(call.outputs[i], name),
      shapeTensor: (v, o = {}) => ctx.shapeTensor(v, !!o.reshape),
      factors: (v) => batchFactors(v, ctx.trace.batches),
      scalarLike: (value, like) => ctx.g.scalar(value, valueOf(like).dtype as DType),
    };
  }
}
