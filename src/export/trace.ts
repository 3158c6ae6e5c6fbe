// Record one forward pass as a list of ATen calls (name, arguments, results) through the engine's op observer.
// The pass runs twice, at two unusual batch sizes: a dimension that differs between the runs is the batch (or a
// multiple of it), which is how reshape/expand targets become dynamic in the exported graph.
import { noGrad, rand, setOpObserver, Tensor, tidy, type DType, type TypedArray } from "../engine/index.ts";
import { BieError } from "../errors.ts";

/** One tensor seen during the trace. */
export interface TracedValue {
  id: number;
  dtype: DType;
  /** Shape at the first trace batch size. */
  shape: number[];
  /** Shape at the second trace batch size (same rank). */
  shape2: number[];
  /** Set for tensors that no traced op produced and that are not the input: parameters, buffers, constants. */
  constant?: { name: string | null; data: TypedArray };
}

/** An argument as recorded: tensors become {value: id}; lists keep their structure. */
export type TracedArg = { value: number } | number | boolean | string | null | undefined | TracedArg[];

export interface TracedCall {
  name: string;
  args: TracedArg[];
  /** Ids of the results (one for a tensor result, several for a list or tuple). */
  outputs: number[];
}

export interface Trace {
  batches: [number, number];
  input: number;
  output: number;
  values: TracedValue[];
  calls: TracedCall[];
}

export class TraceError extends BieError {
  constructor(reason: string) {
    super("EXPORT", reason);
    this.name = "TraceError";
  }
}

interface Recording {
  values: { tensor: Tensor | null; dtype: DType; shape: number[]; constant?: TracedValue["constant"] }[];
  calls: TracedCall[];
  ids: Map<Tensor, number>;
  input: number;
  output: number;
}

function record(fn: (x: Tensor) => Tensor, inputShape: number[], names: Map<Tensor, string>, captureData: boolean): Recording {
  const rec: Recording = { values: [], calls: [], ids: new Map(), input: 0, output: -1 };
  let busy = false; // reading constants' data must not be recorded
  const idOf = (t: Tensor, asResult: boolean): number => {
    let id = rec.ids.get(t);
    if (id !== undefined) return id;
    id = rec.values.length;
    rec.ids.set(t, id);
    const entry: Recording["values"][number] = { tensor: t, dtype: t.dtype, shape: t.shape };
    if (!asResult && captureData) {
      busy = true;
      try {
        entry.constant = { name: names.get(t) ?? null, data: t.toArray() };
      } finally {
        busy = false;
      }
    } else if (!asResult) entry.constant = { name: names.get(t) ?? null, data: new Float32Array(0) };
    rec.values.push(entry);
    return id;
  };
  const arg = (a: unknown): TracedArg => {
    if (a instanceof Tensor) return { value: idOf(a, false) };
    if (Array.isArray(a)) return a.map(arg);
    if (a === null || a === undefined || typeof a === "number" || typeof a === "boolean" || typeof a === "string") return a;
    throw new TraceError(`cannot record an argument of type ${typeof a}`);
  };
  const results = (r: unknown): number[] => {
    if (r instanceof Tensor) return [idOf(r, true)];
    if (Array.isArray(r)) return r.flatMap(results);
    return [];
  };
  noGrad(() =>
    tidy(() => {
      const x = rand(inputShape);
      idOf(x, true);
      const prev = setOpObserver((name, args, result) => {
        if (busy) return;
        const a = args.map(arg);
        rec.calls.push({ name, args: a, outputs: results(result) });
      });
      let y: Tensor;
      try {
        y = fn(x);
      } finally {
        setOpObserver(prev);
      }
      const out = rec.ids.get(y);
      if (out === undefined) throw new TraceError("the traced function returned a tensor that no traced op produced");
      rec.output = out;
      for (const v of rec.values) v.tensor = null; // do not hold tensors past the trace
      return undefined;
    }),
  );
  return rec;
}

/**
 * Trace fn on random inputs of shape [b, ...sampleShape] for two batch sizes (default 3 and 5).
 * names: readable names for parameters (state-dict keys), used as initializer names.
 */
export function traceForward(fn: (x: Tensor) => Tensor, sampleShape: number[], opts: { batches?: [number, number]; names?: Map<Tensor, string> } = {}): Trace {
  const [b1, b2] = opts.batches ?? [3, 5];
  const names = opts.names ?? new Map();
  const r1 = record(fn, [b1, ...sampleShape], names, true);
  const r2 = record(fn, [b2, ...sampleShape], names, false);
  if (r1.calls.length !== r2.calls.length || r1.values.length !== r2.values.length)
    throw new TraceError(`the forward pass runs different operators at batch ${b1} and ${b2} (${r1.calls.length} vs ${r2.calls.length} calls): it branches on the batch size, which a static graph cannot express`);
  r1.calls.forEach((c, i) => {
    if (c.name !== r2.calls[i].name) throw new TraceError(`call ${i} is ${c.name} at batch ${b1} but ${r2.calls[i].name} at batch ${b2}`);
  });
  const values: TracedValue[] = r1.values.map((v, id) => {
    const shape2 = r2.values[id].shape;
    if (shape2.length !== v.shape.length) throw new TraceError(`value ${id} has rank ${v.shape.length} at batch ${b1} but ${shape2.length} at batch ${b2}`);
    const out: TracedValue = { id, dtype: v.dtype, shape: v.shape, shape2 };
    if (v.constant) {
      if (shape2.join() !== v.shape.join())
        throw new TraceError(`a constant tensor [${v.shape}] made inside the forward pass depends on the batch size (${v.constant.name ?? `value ${id}`}); compute it from the input instead`);
      out.constant = v.constant;
    }
    return out;
  });
  return { batches: [b1, b2], input: r1.input, output: r1.output, values, calls: r1.calls };
}

/** Per-dimension batch multiplier: 0 for a static dim, k when the dim is k × batch. */
export function batchFactors(v: TracedValue, batches: [number, number]): number[] {
  const [b1, b2] = batches;
  return v.shape.map((d, i) => {
    const d2 = v.shape2[i];
    if (d === d2) return 0;
    const k = d / b1;
    if (!Number.isInteger(k) || k * b2 !== d2) throw new TraceError(`dimension ${i} of a [${v.shape}] tensor changes with the batch size but not as a multiple of it (${d} at batch ${b1}, ${d2} at batch ${b2})`);
    return k;
  });
}
