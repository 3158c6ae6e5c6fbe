// The page's calls to the explorer server, typed. Every failure becomes an Error carrying the server's message.
import type { ColumnInfo, ModelInput } from "../run-data.ts";

export interface Meta {
  name: string; n: number; d: number; source: string;
  columns: ColumnInfo[]; colourBy: string | null; projections: ("umap" | "pca")[]; k: number;
  thumbSize: number; thumbsMissing: number;
  input: ModelInput | null; inputProblem: string | null;
}
export type ColumnData =
  | (ColumnInfo & { kind: "category"; categories: string[]; counts: number[]; codes: number[] })
  | (ColumnInfo & { kind: "number"; values: (number | null)[]; min: number; max: number })
  | (ColumnInfo & { kind: "text"; values: (string | null)[] });
export interface Item { index: number; id: string; path: string | null; values: Record<string, string | null>; hasThumb: boolean }
export interface Neighbour { index: number; id: string; similarity: number }
export interface Placed { neighbours: Neighbour[]; at: Record<"umap" | "pca", [number, number]> }

async function ok(r: Response): Promise<Response> {
  if (r.ok) return r;
  let message = `${r.status} ${r.statusText}`;
  try {
    message = ((await r.json()) as { error?: string }).error ?? message;
  } catch {
    // not JSON: keep the status line
  }
  throw new Error(message);
}

const json = async <T>(url: string, init?: RequestInit): Promise<T> => (await ok(await fetch(url, init))).json() as Promise<T>;

export const getMeta = () => json<Meta>("/api/meta");
export const getColumn = (name: string) => json<ColumnData>(`/api/columns/${encodeURIComponent(name)}`);
export const getItem = (i: number) => json<Item>(`/api/items/${i}`);
export const getIds = () => json<string[]>("/api/ids");
export const getNeighbours = (i: number, k: number) => json<{ neighbours: Neighbour[] }>(`/api/neighbours/${i}?k=${k}`).then((r) => r.neighbours);
export const place = (vector: Float32Array, k: number) =>
  json<Placed>(`/api/place?k=${k}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ vector: Array.from(vector) }) });

export async function getPoints(kind: string): Promise<Float32Array> {
  return new Float32Array(await (await ok(await fetch(`/api/points/${kind}`))).arrayBuffer());
}

export async function getEncoder(): Promise<Uint8Array> {
  return new Uint8Array(await (await ok(await fetch("/api/encoder.onnx"))).arrayBuffer());
}

export const thumbUrl = (i: number) => `/api/thumbs/${i}.png`;
export const imageUrl = (i: number) => `/api/images/${i}.png`;
