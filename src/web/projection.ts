// The 2-D maps: UMAP (computed once, cached as <run>/explore/umap.npy) and PCA (on first request, cached too).
// New vectors are placed exactly by PCA, and on the UMAP map the way umap-learn's transform starts: at the
// similarity-weighted mean of their nearest fitted neighbours (without its refinement epochs).
import { existsSync } from "node:fs";
import { pca, umap2d } from "../eval/index.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { cachePath, readSidecar, writeSidecar } from "./cache.ts";
import type { Neighbour } from "./knn.ts";
import type { RunData } from "./run-data.ts";

export type ProjectionKind = "umap" | "pca";
export const PROJECTIONS: ProjectionKind[] = ["umap", "pca"];

export interface Projection {
  kind: ProjectionKind;
  /** n × 2, row-major. */
  coords: Float32Array;
  /** Where a new vector lands, given the vector and its nearest neighbours in the full embedding. */
  place(vector: ArrayLike<number>, neighbours: Neighbour[]): [number, number];
  info: Record<string, unknown>;
}

const UMAP_SEED = 42;

export async function umapProjection(run: RunData, maxFit: number, rebuild: boolean, log: (s: string) => void): Promise<Projection> {
  const want = { key: run.key, n: run.table.n, seed: UMAP_SEED, max_fit: maxFit };
  let meta = rebuild ? null : readSidecar(run.dir, "umap", want);
  let coords: Float32Array | null = meta && existsSync(cachePath(run.dir, "umap.npy")) ? await readCoords(cachePath(run.dir, "umap.npy"), run.table.n) : null;
  if (!coords) {
    log(`computing UMAP of ${run.table.n} items × ${run.table.d} dims (once; cached in ${cachePath(run.dir, "umap.npy")})`);
    const r = umap2d(run.table.X, run.table.d, { seed: UMAP_SEED, maxFit });
    coords = Float32Array.from(r.coords);
    meta = await writeUmapCache(run.dir, run.key, maxFit, coords, { fit_rows: r.fitRows, seconds: Math.round(r.seconds * 100) / 100 });
  }
  const xy = coords;
  return { kind: "umap", coords: xy, info: meta ?? want, place: (_v, nb) => weightedPlacement(xy, nb) };
}

/** Store a map as the UMAP cache of the embedding with sha256 `key` (the bench seeds synthetic maps this way). */
export async function writeUmapCache(runDir: string, key: string, maxFit: number, coords: Float32Array, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const n = coords.length / 2;
  await writeNpy(cachePath(runDir, "umap.npy"), coords, [n, 2]);
  const meta = { key, n, seed: UMAP_SEED, max_fit: maxFit, ...extra };
  await writeSidecar(runDir, "umap", meta);
  return meta;
}

export async function pcaProjection(run: RunData, rebuild: boolean): Promise<Projection> {
  const { n, d, X } = run.table;
  const want = { key: run.key, n };
  let meta = rebuild ? null : readSidecar<{ mean: number[]; components: number[]; explained: number[] }>(run.dir, "pca", want);
  let coords = meta && existsSync(cachePath(run.dir, "pca.npy")) ? await readCoords(cachePath(run.dir, "pca.npy"), n) : null;
  if (!meta || !coords) {
    const r = pca(X, d, 2);
    coords = Float32Array.from(r.coords);
    // A 1-D embedding has one component: the map's y is then 0.
    if (r.components.length < 2 * d) coords = Float32Array.from({ length: n * 2 }, (_, j) => (j % 2 ? 0 : r.coords[j >> 1]));
    meta = { ...want, mean: Array.from(r.mean), components: Array.from(r.components), explained: r.explainedVarianceRatio };
    await writeNpy(cachePath(run.dir, "pca.npy"), coords, [n, 2]);
    await writeSidecar(run.dir, "pca", meta);
  }
  const { mean, components } = meta;
  const place = (v: ArrayLike<number>): [number, number] => {
    const out: [number, number] = [0, 0];
    for (let c = 0; c < Math.min(2, components.length / d); c++) {
      let s = 0;
      for (let f = 0; f < d; f++) s += (v[f] - mean[f]) * components[c * d + f];
      out[c] = s;
    }
    return out;
  };
  return { kind: "pca", coords, info: { explained: meta.explained }, place };
}

/**
 * umap-learn's transform start: membership weights exp(-(d - rho) / sigma), rho the nearest distance and sigma
 * calibrated so the weights sum to log2(k) (its smooth_knn_dist), then the weighted mean of the neighbours' spots.
 */
export function weightedPlacement(coords: Float32Array, nb: Neighbour[]): [number, number] {
  if (nb.length === 0) return [0, 0];
  const dist = nb.map((x) => 1 - x.similarity);
  const rho = Math.min(...dist);
  const mean = dist.reduce((a, v) => a + v, 0) / dist.length;
  const sigma = Math.max(smoothKnnSigma(dist, rho), 1e-3 * mean, 1e-12);
  let wx = 0, wy = 0, ws = 0;
  nb.forEach((x, j) => {
    const w = Math.exp(-Math.max(0, dist[j] - rho) / sigma);
    wx += w * coords[x.index * 2];
    wy += w * coords[x.index * 2 + 1];
    ws += w;
  });
  return [wx / ws, wy / ws];
}

/** Binary search for sigma with sum_j exp(-(d_j - rho)/sigma) = log2(k), as umap-learn does. */
function smoothKnnSigma(dist: number[], rho: number): number {
  const target = Math.log2(Math.max(dist.length, 2));
  let lo = 0, hi = Infinity, mid = 1;
  for (let it = 0; it < 64; it++) {
    let sum = 0;
    for (const d of dist) sum += d - rho > 0 ? Math.exp(-(d - rho) / mid) : 1;
    if (Math.abs(sum - target) < 1e-5) break;
    if (sum > target) (hi = mid), (mid = (lo + hi) / 2);
    else (lo = mid), (mid = hi === Infinity ? mid * 2 : (lo + hi) / 2);
  }
  return mid;
}

async function readCoords(file: string, n: number): Promise<Float32Array | null> {
  try {
    const { data, shape } = await readNpy(file);
    return shape[0] === n && shape[1] === 2 && data instanceof Float32Array ? data : null;
  } catch {
    return null;
  }
}
