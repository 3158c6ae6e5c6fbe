// safetensors: an 8-byte little-endian header length, a JSON header (dtype, shape, byte offsets per tensor,
// optional string metadata), then raw little-endian bytes. Portable to PyTorch, timm, transformers.
import { readFile } from "node:fs/promises";
import { Tensor, tensor, type DType } from "./tensor.ts";
import { writeChunksAtomic } from "../io/atomic.ts";
import { BadInputError } from "../errors.ts";

const TO_ST: Record<string, string> = { float32: "F32", float64: "F64", bfloat16: "BF16", float16: "F16", int64: "I64", int32: "I32", int16: "I16", int8: "I8", uint8: "U8", bool: "BOOL" };
const FROM_ST: Record<string, DType> = Object.fromEntries(Object.entries(TO_ST).map(([k, v]) => [v, k as DType]));

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

export function encodeSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const bytes = t.bytes();
    header[name] = { dtype: TO_ST[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // align data to 8 bytes
  const jsonBytes = new TextEncoder().encode(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  return [len, jsonBytes, ...blobs];
}

export async function saveSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Promise<void> {
  await writeChunksAtomic(path, encodeSafetensors(tensors, metadata));
}

export function decodeSafetensors(buf: Uint8Array, file = "(buffer)"): SafetensorsFile {
  if (buf.length < 8) throw new BadInputError(file, "not a safetensors file (shorter than its 8-byte header length)");
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (n <= 0 || 8 + n > buf.length) throw new BadInputError(file, `safetensors header length ${n} does not fit in ${buf.length} bytes`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    throw new BadInputError(file, `safetensors header is not valid JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [name, spec] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = spec as unknown as Record<string, string>;
      continue;
    }
    const dtype = FROM_ST[spec.dtype];
    if (!dtype) throw new BadInputError(file, `tensor '${name}' has unsupported dtype ${spec.dtype}`);
    const [b, e] = spec.data_offsets;
    if (!(b >= 0 && e >= b && base + e <= buf.length)) throw new BadInputError(file, `tensor '${name}' data offsets [${b}, ${e}] lie outside the file`);
    const bytes = buf.slice(base + b, base + e); // copy: aligned and owned
    tensors.set(name, tensor(viewAs(bytes, dtype), spec.shape, dtype));
  }
  return { tensors, metadata };
}

function viewAs(bytes: Uint8Array, dtype: DType) {
  const b = bytes.buffer;
  switch (dtype) {
    case "float32": return new Float32Array(b);
    case "float64": return new Float64Array(b);
    case "int64": return new BigInt64Array(b);
    case "int32": return new Int32Array(b);
    case "int16": return new Int16Array(b);
    case "int8": return new Int8Array(b);
    case "bfloat16": case "float16": return new Uint16Array(b);
    default: return new Uint8Array(b);
  }
}

export async function loadSafetensors(path: string): Promise<SafetensorsFile> {
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new BadInputError(path, `cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return decodeSafetensors(buf, path);
}
