// NumPy .npy (format 1.0) for float32/float64/int arrays: what numpy users load with np.load.
import { readFile } from "node:fs/promises";
import { writeChunksAtomic } from "./atomic.ts";
import { BadInputError } from "../errors.ts";

type NpyArray = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;
const DESCR: [new (...a: never[]) => NpyArray, string][] = [
  [Float32Array, "<f4"], [Float64Array, "<f8"], [Int32Array, "<i4"], [Uint8Array, "|u1"], [BigInt64Array, "<i8"],
];

export function encodeNpy(data: NpyArray, shape: number[]): Uint8Array[] {
  const descr = DESCR.find(([C]) => data instanceof C)?.[1];
  if (!descr) throw new Error("npy: unsupported array type");
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const pre = new Uint8Array(10);
  pre.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(pre.buffer).setUint16(8, header.length, true);
  return [pre, new TextEncoder().encode(header), new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
}

export async function writeNpy(path: string, data: NpyArray, shape: number[]): Promise<void> {
  await writeChunksAtomic(path, encodeNpy(data, shape));
}

export function decodeNpy(buf: Uint8Array, file = "(npy)"): { data: NpyArray; shape: number[] } {
  if (buf.length < 10 || buf[0] !== 0x93 || String.fromCharCode(...buf.subarray(1, 6)) !== "NUMPY") throw new BadInputError(file, "not a .npy file");
  const major = buf[6];
  const hlen = major === 1 ? new DataView(buf.buffer, buf.byteOffset).getUint16(8, true) : new DataView(buf.buffer, buf.byteOffset).getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(buf.subarray(start, start + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new BadInputError(file, "Fortran-ordered .npy is not supported");
  const entry = DESCR.find(([, d]) => d === descr);
  if (!entry) throw new BadInputError(file, `unsupported .npy dtype ${descr}`);
  const body = buf.slice(start + hlen);
  const C = entry[0] as unknown as new (b: ArrayBuffer) => NpyArray;
  const data = new C(body.buffer);
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new BadInputError(file, `.npy holds ${data.length} values, its shape [${shape}] needs ${n}`);
  return { data, shape };
}

export async function readNpy(path: string) {
  return decodeNpy(new Uint8Array(await readFile(path)), path);
}
