// 2-D projections for plots: PCA (exact, from the covariance eigenvectors, signs fixed like sklearn's
// svd_flip) and UMAP (umap-js, seeded; fitted on at most `maxFit` rows, the rest transformed).
import { EigenvalueDecomposition, Matrix as MlMatrix } from "ml-matrix";
import { UMAP } from "umap-js";
import { SparseMatrix } from "umap-js/dist/matrix.js";
import type { Matrix } from "./forest/forest.ts";
import { MersenneTwister } from "./random.ts";

export interface PcaResult { coords: Float64Array; components: Float64Array; explainedVarianceRatio: number[]; mean: Float64Array }

export function pca(X: Matrix, d: number, nComponents = 2): PcaResult {
  const n = X.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) mean[f] += X[i * d + f];
  for (let f = 0; f < d; f++) mean[f] /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < d; f++) row[f] = X[i * d + f] - mean[f];
    for (let a = 0; a < d; a++) { const ra = row[a]; if (ra === 0) continue; for (let b = a; b < d; b++) cov[a * d + b] += ra * row[b]; }
  }
  const C = new MlMatrix(d, d);
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) { const v = cov[a * d + b] / Math.max(1, n - 1); C.set(a, b, v); C.set(b, a, v); }
  const evd = new EigenvalueDecomposition(C, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  const total = values.reduce((s, v) => s + Math.max(0, v), 0);
  const m = Math.min(nComponents, d);
  const components = new Float64Array(m * d);
  const coords = new Float64Array(n * m);
  for (let c = 0; c < m; c++) {
    const j = order[c];
    for (let f = 0; f < d; f++) components[c * d + f] = vectors.get(f, j);
    let maxAbs = -1, sign = 1;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let f = 0; f < d; f++) s += (X[i * d + f] - mean[f]) * components[c * d + f];
      coords[i * m + c] = s;
      if (Math.abs(s) > maxAbs) { maxAbs = Math.abs(s); sign = s < 0 ? -1 : 1; }
    }
    // sklearn's svd_flip: the score of largest magnitude is positive
    if (sign < 0) {
      for (let f = 0; f < d; f++) components[c * d + f] *= -1;
      for (let i = 0; i < n; i++) coords[i * m + c] *= -1;
    }
  }
  return { coords, components, mean, explainedVarianceRatio: order.slice(0, m).map((j) => (total > 0 ? Math.max(0, values[j]) / total : 0)) };
}

export interface UmapOptions { seed?: number; maxFit?: number; nNeighbors?: number; minDist?: number; nEpochs?: number }
export interface UmapResult { coords: Float64Array; fitRows: number; seconds: number }

export function umap2d(X: Matrix, d: number, opts: UmapOptions = {}): UmapResult {
  const t0 = performance.now();
  const n = X.length / d;
  const rng = new MersenneTwister(opts.seed ?? 42);
  const maxFit = opts.maxFit ?? 10000;
  const rows = (idx: ArrayLike<number>) => Array.from(idx, (i) => Array.from(X.subarray(i * d, i * d + d)));
  const coords = new Float64Array(n * 2);
  if (n < 3) return { coords, fitRows: n, seconds: 0 };
  const all = Int32Array.from({ length: n }, (_, i) => i);
  let fitIdx = all;
  if (n > maxFit) { rng.shuffle(all); fitIdx = all.slice(0, maxFit).sort(); }
  const um = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(opts.nNeighbors ?? 15, fitIdx.length - 1),
    minDist: opts.minDist ?? 0.1,
    // umap-learn uses 200 epochs above 10k rows and 500 below; 200 from 5k rows keeps 10k×64 well under 30 s.
    nEpochs: opts.nEpochs ?? (fitIdx.length > 5000 ? 200 : 500),
    random: () => rng.random(),
  });
  // umap-js builds the neighbour graph; its SGD loop (arrays of arrays) is the slow part, so this instance
  // runs the same loop over typed arrays instead — for fit and for transform.
  (um as unknown as { optimizeLayout: () => number[][] }).optimizeLayout = function (this: unknown) {
    return optimizeLayoutTyped((this as { optimizationState: LayoutState }).optimizationState, () => rng.nextUint32() / 4294967296);
  };
  (um as unknown as { fuzzySimplicialSet: unknown }).fuzzySimplicialSet = fuzzyUnion;
  um.initializeFit(rows(fitIdx));
  const fitted = (um as unknown as { optimizeLayout: () => number[][] }).optimizeLayout.call(um);
  fitIdx.forEach((i, r) => { coords[i * 2] = fitted[r][0]; coords[i * 2 + 1] = fitted[r][1]; });
  if (n > maxFit) {
    const rest = all.slice(maxFit).sort();
    // transform in blocks to bound memory
    for (let s = 0; s < rest.length; s += 5000) {
      const blk = rest.subarray(s, s + 5000);
      const t = um.transform(rows(blk));
      blk.forEach((i, r) => { coords[i * 2] = t[r][0]; coords[i * 2 + 1] = t[r][1]; });
    }
  }
  return { coords, fitRows: fitIdx.length, seconds: (performance.now() - t0) / 1000 };
}

/** The fields of umap-js's OptimizationState that the layout loop uses. */
interface LayoutState {
  head: number[]; tail: number[]; headEmbedding: number[][]; tailEmbedding: number[][];
  epochsPerSample: number[]; epochOfNextSample: number[]; epochOfNextNegativeSample: number[]; epochsPerNegativeSample: number[];
  moveOther: boolean; initialAlpha: number; alpha: number; gamma: number; a: number; b: number; dim: number;
  nEpochs: number; nVertices: number; currentEpoch: number;
}

/**
 * umap-js's optimizeLayout (same updates, same random draws, same learning-rate schedule) on typed arrays.
 * Writes the result back into the state's headEmbedding arrays and returns them.
 */
export function optimizeLayoutTyped(st: LayoutState, random: () => number): number[][] {
  const dim = st.dim, nHead = st.headEmbedding.length, nTail = st.tailEmbedding.length;
  const H = new Float64Array(nHead * dim);
  st.headEmbedding.forEach((v, i) => { for (let d = 0; d < dim; d++) H[i * dim + d] = v[d]; });
  const same = st.headEmbedding === st.tailEmbedding;
  const T = same ? H : new Float64Array(nTail * dim);
  if (!same) st.tailEmbedding.forEach((v, i) => { for (let d = 0; d < dim; d++) T[i * dim + d] = v[d]; });
  const head = Int32Array.from(st.head), tail = Int32Array.from(st.tail);
  const eps = Float64Array.from(st.epochsPerSample), next = Float64Array.from(st.epochOfNextSample);
  const epsNeg = Float64Array.from(st.epochsPerNegativeSample), nextNeg = Float64Array.from(st.epochOfNextNegativeSample);
  const { a, b, gamma, initialAlpha, nEpochs, nVertices, moveOther } = st;
  const clip = (v: number) => (v > 4 ? 4 : v < -4 ? -4 : v);
  if (dim !== 2) throw new RangeError(`layout loop is written for 2-D output, got ${dim}`);
  let alpha = st.alpha;
  for (let n = st.currentEpoch; n < nEpochs; n++) {
    for (let i = 0; i < eps.length; i++) {
      if (next[i] > n) continue;
      const j = head[i], jo = 2 * j, ko = 2 * tail[i];
      // attraction along the edge
      let dx = H[jo] - T[ko], dy = H[jo + 1] - T[ko + 1];
      const d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const pb = Math.pow(d2, b), g = (-2 * a * b * (pb / d2)) / (a * pb + 1); // d2^(b-1) = d2^b / d2
        const gx = clip(g * dx) * alpha, gy = clip(g * dy) * alpha;
        H[jo] += gx; H[jo + 1] += gy;
        if (moveOther) { T[ko] -= gx; T[ko + 1] -= gy; }
      }
      next[i] += eps[i];
      // repulsion from random vertices
      const nNeg = Math.floor((n - nextNeg[i]) / epsNeg[i]);
      for (let p = 0; p < nNeg; p++) {
        const kk = Math.floor(random() * nVertices), ro = 2 * kk;
        dx = H[jo] - T[ro]; dy = H[jo + 1] - T[ro + 1];
        const dn = dx * dx + dy * dy;
        if (dn > 0) {
          const gn = (2 * gamma * b) / ((0.001 + dn) * (a * Math.pow(dn, b) + 1));
          if (gn > 0) { H[jo] += clip(gn * dx) * alpha; H[jo + 1] += clip(gn * dy) * alpha; }
          else { H[jo] += 4 * alpha; H[jo + 1] += 4 * alpha; }
        } else if (j !== kk) { H[jo] += 4 * alpha; H[jo + 1] += 4 * alpha; }
      }
      nextNeg[i] += nNeg * epsNeg[i];
    }
    alpha = initialAlpha * (1 - n / nEpochs);
  }
  st.alpha = alpha;
  st.currentEpoch = nEpochs;
  st.headEmbedding.forEach((v, i) => { for (let d = 0; d < dim; d++) v[d] = H[i * dim + d]; });
  if (!same) st.tailEmbedding.forEach((v, i) => { for (let d = 0; d < dim; d++) v[d] = T[i * dim + d]; });
  return st.headEmbedding;
}

interface FuzzyHost {
  knnIndices: number[][]; knnDistances: number[][]; localConnectivity: number;
  smoothKNNDistance(d: number[][], k: number, localConnectivity: number): { sigmas: number[]; rhos: number[] };
  computeMembershipStrengths(i: number[][], d: number[][], sigmas: number[], rhos: number[]): { rows: number[]; cols: number[]; vals: number[] };
}

/**
 * umap-js's fuzzySimplicialSet (fuzzy union A + Aᵀ − A∘Aᵀ of the k-NN membership strengths) with numeric keys
 * instead of seven passes over "row:col"-string maps; same values, one SparseMatrix at the end.
 */
function fuzzyUnion(this: FuzzyHost, X: unknown[], nNeighbors: number, setOpMixRatio = 1): SparseMatrix {
  const { sigmas, rhos } = this.smoothKNNDistance(this.knnDistances, nNeighbors, this.localConnectivity);
  const { rows, cols, vals } = this.computeMembershipStrengths(this.knnIndices, this.knnDistances, sigmas, rhos);
  const n = X.length;
  const w = new Map<number, number>();
  for (let e = 0; e < vals.length; e++) w.set(rows[e] * n + cols[e], vals[e]);
  const r: number[] = [], c: number[] = [], v: number[] = [];
  const emit = (i: number, j: number) => {
    const a = w.get(i * n + j) ?? 0, b = w.get(j * n + i) ?? 0, ab = a * b;
    r.push(i); c.push(j); v.push(setOpMixRatio * (a + b - ab) + (1 - setOpMixRatio) * ab);
  };
  for (const key of w.keys()) {
    const i = Math.floor(key / n), j = key - i * n;
    emit(i, j);
    if (!w.has(j * n + i)) emit(j, i); // the transposed entry exists only through Aᵀ
  }
  return new SparseMatrix(r, c, v, [n, n]);
}
