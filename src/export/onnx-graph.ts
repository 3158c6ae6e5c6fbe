// Building an ONNX graph: nodes with typed attributes, initializers from raw tensor bytes, and the model proto
// (opset 17, IR 8) serialised with onnx-proto's compiled protobuf classes.
import onnxProto from "onnx-proto";
import type { onnx as P } from "onnx-proto";
import type { DType, TypedArray } from "../engine/index.ts";
import { BieError } from "../errors.ts";

const { onnx } = onnxProto;
export { onnx };

export const OPSET = 17;
const IR_VERSION = 8; // the IR that opset 17 belongs to (ONNX 1.12)

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<DType, number> = {
  float32: 1, uint8: 2, int8: 3, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16,
};
export const DTYPE_OF_ONNX: Record<number, DType> = Object.fromEntries(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as DType]));

export type Attr = { ints: number[] } | { int: number } | { float: number } | { floats: number[] } | { str: string };
export const A = {
  ints: (v: number[]): Attr => ({ ints: v }),
  int: (v: number): Attr => ({ int: v }),
  float: (v: number): Attr => ({ float: v }),
  floats: (v: number[]): Attr => ({ floats: v }),
  str: (v: string): Attr => ({ str: v }),
};

function attribute(name: string, a: Attr): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ("ints" in a) return { name, type: T.INTS, ints: a.ints };
  if ("int" in a) return { name, type: T.INT, i: a.int };
  if ("float" in a) return { name, type: T.FLOAT, f: a.float };
  if ("floats" in a) return { name, type: T.FLOATS, floats: a.floats };
  return { name, type: T.STRING, s: new TextEncoder().encode(a.str) };
}

function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export interface ValueSpec {
  name: string;
  dtype: DType;
  /** Sizes; a string is a symbolic dimension (e.g. "batch"). */
  dims: (number | string)[];
}

export class OnnxGraph {
  readonly nodes: P.INodeProto[] = [];
  readonly initializers: P.ITensorProto[] = [];
  readonly #names = new Set<string>();
  #counter = 0;

  /** A fresh value name starting with prefix. */
  fresh(prefix: string): string {
    let n = prefix.replace(/[^A-Za-z0-9_.:/-]/g, "_");
    while (this.#names.has(n)) n = `${prefix}_${++this.#counter}`;
    this.#names.add(n);
    return n;
  }
  /** Reserve an exact name (graph inputs and outputs). */
  reserve(name: string): string {
    if (this.#names.has(name)) throw new BieError("EXPORT", `ONNX value name '${name}' is used twice`);
    this.#names.add(name);
    return name;
  }

  /** Add a node; returns its output names (fresh ones unless given). */
  node(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs: string[] | number = 1): string[] {
    const outs = typeof outputs === "number" ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : outputs;
    this.nodes.push({
      opType,
      name: `${opType}_${this.nodes.length}`,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }
  /** One-output node. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    return this.node(opType, inputs, attrs, output ? [output] : 1)[0];
  }

  initializer(prefix: string, dtype: DType, dims: number[], data: TypedArray): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, dataType: ONNX_DTYPE[dtype], dims, rawData: bytesOf(data) });
    return name;
  }
  int64s(values: number[], prefix = "ints"): string {
    return this.initializer(prefix, "int64", [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
  }
  /** A rank-0 constant of the given dtype. */
  scalar(value: number, dtype: DType = "float32"): string {
    const arr = dtype === "float64" ? new Float64Array([value]) : dtype === "int64" ? new BigInt64Array([BigInt(Math.trunc(value))]) : dtype === "int32" ? new Int32Array([value]) : dtype === "bool" || dtype === "uint8" ? new Uint8Array([value]) : new Float32Array([value]);
    if (!["float32", "float64", "int64", "int32", "bool", "uint8"].includes(dtype)) throw new BieError("EXPORT", `no scalar constants of dtype ${dtype}`);
    return this.initializer("scalar", dtype, [], arr);
  }

  /** The serialised model. */
  model(inputs: ValueSpec[], outputs: ValueSpec[], meta: { name: string; doc?: string; props?: Record<string, string> }): Uint8Array {
    const info = (v: ValueSpec): P.IValueInfoProto => ({
      name: v.name,
      type: { tensorType: { elemType: ONNX_DTYPE[v.dtype], shape: { dim: v.dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) } } },
    });
    const m = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: "", version: OPSET }],
      producerName: "bioimage-embed",
      producerVersion: "0.1.0",
      docString: meta.doc ?? "",
      metadataProps: Object.entries(meta.props ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: meta.name,
        node: this.nodes,
        initializer: this.initializers,
        input: inputs.map(info),
        output: outputs.map(info),
      },
    });
    return onnx.ModelProto.encode(m).finish();
  }
}

/** Read a model's graph inputs/outputs (name, dtype, dims with symbolic names kept) and opset. */
export function describeOnnx(bytes: Uint8Array): { inputs: ValueSpec[]; outputs: ValueSpec[]; opset: number; initializerNames: Set<string> } {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph;
  if (!g) throw new BieError("EXPORT", "the ONNX file has no graph");
  const init = new Set((g.initializer ?? []).map((t) => t.name ?? ""));
  const spec = (v: P.IValueInfoProto): ValueSpec => {
    const tt = v.type?.tensorType;
    return {
      name: v.name ?? "",
      dtype: DTYPE_OF_ONNX[tt?.elemType ?? 1] ?? "float32",
      dims: (tt?.shape?.dim ?? []).map((d: P.TensorShapeProto.IDimension) => (d.dimParam ? d.dimParam : d.dimValue != null ? Number(d.dimValue) : "?")),
    };
  };
  const opset = (m.opsetImport ?? []).find((o) => !o.domain)?.version;
  return { inputs: (g.input ?? []).filter((v) => !init.has(v.name ?? "")).map(spec), outputs: (g.output ?? []).map(spec), opset: Number(opset ?? 0), initializerNames: init };
}
