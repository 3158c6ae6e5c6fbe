// Tensor axes of a model RDF 0.5: their ids (with the spec's defaults) and whether a concrete shape fits them.
export interface AxisDescr {
  type: string;
  id?: string;
  size?: unknown;
  channel_names?: string[];
  scale?: number;
}
export interface TensorDescr {
  id?: string;
  axes: AxisDescr[];
  test_tensor?: { source: string; sha256?: string | null } | null;
  sample_tensor?: { source: string; sha256?: string | null } | null;
  preprocessing?: { id: string; kwargs?: Record<string, unknown> }[];
  postprocessing?: { id: string; kwargs?: Record<string, unknown> }[];
}

const DEFAULT_IDS: Record<string, string> = { batch: "batch", channel: "channel", index: "index", space: "x", time: "time" };

export const axisId = (a: AxisDescr): string => a.id ?? DEFAULT_IDS[a.type] ?? a.type;
export const tensorId = (t: TensorDescr, fallback: string): string => t.id ?? fallback;

/**
 * Problems with `shape` as a realisation of `axes` (empty = fits). sizeOf resolves a SizeReference to the size
 * of the referenced tensor's axis (and its scale) in the same test case.
 */
export function shapeProblems(axes: AxisDescr[], shape: number[], sizeOf: (tensor: string, axis: string) => { size: number; scale: number } | null): string[] {
  if (shape.length !== axes.length) return [`has ${shape.length} dimensions but ${axes.length} axes are described`];
  const out: string[] = [];
  axes.forEach((a, i) => {
    const s = shape[i], id = axisId(a);
    const bad = (want: string) => out.push(`axis '${id}' has size ${s}, expected ${want}`);
    if (a.type === "batch") {
      if (a.size === 1 && s !== 1) bad("1");
      return;
    }
    if (a.type === "channel") {
      const n = a.channel_names?.length ?? 0;
      if (s !== n) bad(`${n} (one per channel name)`);
      return;
    }
    const size = a.size as unknown;
    if (typeof size === "number") {
      if (s !== size) bad(String(size));
    } else if (size && typeof size === "object") {
      const o = size as Record<string, number | string>;
      if ("step" in o) {
        const min = Number(o.min), step = Number(o.step);
        if (s < min || (s - min) % step !== 0) bad(`${min} + n·${step}`);
      } else if ("axis_id" in o) {
        const ref = sizeOf(String(o.tensor_id), String(o.axis_id));
        if (!ref) out.push(`axis '${id}' refers to ${o.tensor_id}.${o.axis_id}, which does not exist`);
        else {
          const want = Math.floor((ref.size * ref.scale) / (a.scale ?? 1) + Number(o.offset ?? 0));
          if (s !== want) bad(`${want} (from ${o.tensor_id}.${o.axis_id})`);
        }
      } else if ("min" in o || "max" in o) {
        if (s < Number(o.min ?? 1) || (o.max != null && s > Number(o.max))) bad(`within [${o.min ?? 1}, ${o.max ?? "∞"}]`);
      }
    }
  });
  return out;
}
