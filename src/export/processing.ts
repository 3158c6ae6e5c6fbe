// The bioimage.io pre/postprocessing operations (model RDF 0.5) on a float32 tensor with named axes:
// scale_range, clip, zero_mean_unit_variance, fixed_zero_mean_unit_variance, scale_linear, sigmoid, binarize,
// ensure_dtype. Statistics are taken over the `axes` a step names (all axes when it names none), separately for
// every index of the other axes, with numpy's default (linear) percentiles.
import { BadInputError } from "../errors.ts";

export interface NamedTensor {
  data: Float32Array;
  shape: number[];
  /** Axis ids, one per dimension (e.g. batch, channel, y, x). */
  axes: string[];
}

export interface ProcessingStep {
  id: string;
  kwargs?: Record<string, unknown>;
}

/** Index groups: for every combination of the kept axes, the flat indices of the reduced axes. */
function groups(shape: number[], axes: string[], reduce: string[] | null): Int32Array[] {
  const red = shape.map((_, i) => (reduce === null ? true : reduce.includes(axes[i])));
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const keptDims = shape.map((_, i) => i).filter((i) => !red[i]);
  const redDims = shape.map((_, i) => i).filter((i) => red[i]);
  const keptCount = keptDims.reduce((p, d) => p * shape[d], 1);
  const redCount = redDims.reduce((p, d) => p * shape[d], 1);
  const offsets = (dims: number[], count: number) => {
    const out = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      let rem = k, off = 0;
      for (let j = dims.length - 1; j >= 0; j--) {
        const d = dims[j];
        off += (rem % shape[d]) * strides[d];
        rem = Math.floor(rem / shape[d]);
      }
      out[k] = off;
    }
    return out;
  };
  const base = offsets(keptDims, keptCount), inner = offsets(redDims, redCount);
  return Array.from(base, (b) => inner.map((o) => o + b));
}

/** numpy.percentile(values, p) with the default linear interpolation. */
export function percentile(sorted: Float64Array, p: number): number {
  const r = (p / 100) * (sorted.length - 1);
  const k = Math.floor(r), f = r - k;
  return f > 0 && k + 1 < sorted.length ? sorted[k] + f * (sorted[k + 1] - sorted[k]) : sorted[k];
}

function axesArg(t: NamedTensor, kw: Record<string, unknown>, step: string): string[] | null {
  const a = kw.axes;
  if (a == null) return null;
  if (!Array.isArray(a)) throw new BadInputError("rdf.yaml", `${step}: axes must be a list of axis ids`);
  for (const id of a) if (!t.axes.includes(String(id))) throw new BadInputError("rdf.yaml", `${step}: axis '${id}' is not one of the tensor's axes [${t.axes.join(", ")}]`);
  return a.map(String);
}

/** Per-index values along one named axis (scale_linear / fixed mean-std "along axis" forms). */
function alongAxis(t: NamedTensor, axis: string, values: number[] | number, step: string): (i: number) => number {
  if (!Array.isArray(values)) return () => values;
  const d = t.axes.indexOf(axis);
  if (d < 0) throw new BadInputError("rdf.yaml", `${step}: axis '${axis}' is not one of [${t.axes.join(", ")}]`);
  if (values.length !== t.shape[d]) throw new BadInputError("rdf.yaml", `${step}: ${values.length} values for axis '${axis}' of size ${t.shape[d]}`);
  const stride = t.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  return (i) => values[Math.floor(i / stride) % t.shape[d]];
}

function applyStep(t: NamedTensor, step: ProcessingStep): void {
  const kw = step.kwargs ?? {};
  const x = t.data;
  const num = (k: string, d: number) => (kw[k] == null ? d : Number(kw[k]));
  switch (step.id) {
    case "scale_range": {
      if (kw.reference_tensor != null) throw new BadInputError("rdf.yaml", "scale_range with a reference_tensor is not supported");
      const lo = num("min_percentile", 0), hi = num("max_percentile", 100), eps = num("eps", 1e-6);
      for (const g of groups(t.shape, t.axes, axesArg(t, kw, step.id))) {
        const vals = Float64Array.from(g, (i) => x[i]).sort();
        const vlo = percentile(vals, lo), vhi = percentile(vals, hi);
        for (const i of g) x[i] = (x[i] - vlo) / (vhi - vlo + eps);
      }
      return;
    }
    case "clip": {
      if (kw.min_percentile != null || kw.max_percentile != null) {
        for (const g of groups(t.shape, t.axes, axesArg(t, kw, step.id))) {
          const vals = Float64Array.from(g, (i) => x[i]).sort();
          const lo = kw.min_percentile != null ? percentile(vals, Number(kw.min_percentile)) : -Infinity;
          const hi = kw.max_percentile != null ? percentile(vals, Number(kw.max_percentile)) : Infinity;
          for (const i of g) x[i] = Math.min(hi, Math.max(lo, x[i]));
        }
        return;
      }
      const lo = num("min", -Infinity), hi = num("max", Infinity);
      for (let i = 0; i < x.length; i++) x[i] = Math.min(hi, Math.max(lo, x[i]));
      return;
    }
    case "zero_mean_unit_variance": {
      const eps = num("eps", 1e-6);
      for (const g of groups(t.shape, t.axes, axesArg(t, kw, step.id))) {
        let m = 0;
        for (const i of g) m += x[i];
        m /= g.length;
        let v = 0;
        for (const i of g) v += (x[i] - m) ** 2;
        const sd = Math.sqrt(v / g.length); // numpy std (ddof 0)
        for (const i of g) x[i] = (x[i] - m) / (sd + eps);
      }
      return;
    }
    case "fixed_zero_mean_unit_variance": {
      const mean = alongAxis(t, String(kw.axis ?? ""), kw.mean as number | number[], step.id);
      const std = alongAxis(t, String(kw.axis ?? ""), kw.std as number | number[], step.id);
      for (let i = 0; i < x.length; i++) x[i] = (x[i] - mean(i)) / std(i);
      return;
    }
    case "scale_linear": {
      const gain = alongAxis(t, String(kw.axis ?? ""), (kw.gain ?? 1) as number | number[], step.id);
      const offset = alongAxis(t, String(kw.axis ?? ""), (kw.offset ?? 0) as number | number[], step.id);
      for (let i = 0; i < x.length; i++) x[i] = x[i] * gain(i) + offset(i);
      return;
    }
    case "sigmoid":
      for (let i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-x[i]));
      return;
    case "binarize": {
      const th = alongAxis(t, String(kw.axis ?? ""), kw.threshold as number | number[], step.id);
      for (let i = 0; i < x.length; i++) x[i] = x[i] > th(i) ? 1 : 0;
      return;
    }
    case "ensure_dtype": {
      const dt = String(kw.dtype ?? "float32");
      if (dt.startsWith("float")) return;
      for (let i = 0; i < x.length; i++) x[i] = dt === "bool" ? (x[i] ? 1 : 0) : Math.trunc(x[i]); // numpy astype truncates
      return;
    }
    default:
      throw new BadInputError("rdf.yaml", `processing step '${step.id}' is not supported (supported: scale_range, clip, zero_mean_unit_variance, fixed_zero_mean_unit_variance, scale_linear, sigmoid, binarize, ensure_dtype)`);
  }
}

/** Apply the steps in order, in place; returns the same tensor. */
export function applyProcessing(t: NamedTensor, steps: ProcessingStep[] | undefined): NamedTensor {
  for (const s of steps ?? []) applyStep(t, s);
  return t;
}
