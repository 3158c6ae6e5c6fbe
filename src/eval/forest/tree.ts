// One CART classification tree grown the way scikit-learn's RandomForestClassifier grows its trees:
// bootstrap sample as integer weights, gini criterion, best split over a random subset of features at each
// node, unlimited depth, min_samples_leaf 1, float32 feature values, thresholds halfway between neighbours.
// Instead of sorting at every node (sklearn), each feature's rows are sorted once per fit and the sorted
// lists are stably partitioned as the tree splits, so every node sees every feature already in order.
import { MersenneTwister } from "../random.ts";

/** Training data shared by all trees of one fit (buffers may be SharedArrayBuffer-backed). */
export interface TrainingSet {
  n: number; // rows
  d: number; // features
  k: number; // classes
  xcol: Float32Array; // column-major values: xcol[f * n + i]
  y: Int32Array; // class code of each row, 0..k-1
  order: Int32Array; // order[f * n + r]: the row of rank r in feature f (ascending)
}

/** A fitted tree; leaves have feature -1 and a class-probability row in `value`. */
export interface Tree {
  nodeCount: number;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array; // nodeCount × k, normalised class weights at leaves
}

// Values closer than this count as equal (sklearn's FEATURE_THRESHOLD, a float32 constant).
const FEATURE_THRESHOLD = Math.fround(1e-7);
const EPSILON = 2.220446049250313e-16;

/** Rows sorted by each feature; computed once per fit and shared by all trees. */
export function presort(xcol: Float32Array, n: number, d: number): Int32Array {
  const order = new Int32Array(n * d);
  if (n > INDEX_SPAN) {
    const idx = new Int32Array(n);
    for (let f = 0; f < d; f++) {
      const col = xcol.subarray(f * n, (f + 1) * n);
      for (let i = 0; i < n; i++) idx[i] = i;
      idx.sort((a, b) => col[a] - col[b] || a - b);
      order.set(idx, f * n);
    }
    return order;
  }
  // Native numeric sort of packed keys: order-preserving uint32 image of the float32 value, times 2^21,
  // plus the row index (exact below 2^53).
  const bits = new Uint32Array(xcol.buffer, xcol.byteOffset, xcol.length);
  const keys = new Float64Array(n);
  for (let f = 0; f < d; f++) {
    const off = f * n;
    for (let i = 0; i < n; i++) {
      const b = bits[off + i];
      const key = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
      keys[i] = key * INDEX_SPAN + i;
    }
    keys.sort();
    for (let r = 0; r < n; r++) order[off + r] = keys[r] % INDEX_SPAN;
  }
  return order;
}
const INDEX_SPAN = 2 ** 21;

/** max_features="sqrt": max(1, floor(sqrt(d))). */
export function sqrtFeatures(d: number): number {
  return Math.max(1, Math.floor(Math.sqrt(d)));
}

export function buildTree(ts: TrainingSet, seed: number, maxFeatures: number): Tree {
  const { n, d, k, xcol, y, order } = ts;
  const rng = new MersenneTwister(seed);
  // Bootstrap: n draws with replacement, kept as per-row counts (weights), like sklearn.
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[rng.below(n)]++;
  const inBag = new Uint8Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) { inBag[i] = w[i] > 0 ? 1 : 0; m += inBag[i]; }
  // Per feature, the in-bag rows in ascending order: lists[f * m + j]. Two buffers: a node's rows are in
  // one of them and its split writes the children's rows into the other (no copying back).
  const bufA = new Int32Array(d * m + 1), bufB = new Int32Array(d * m + 1);
  for (let f = 0; f < d; f++) {
    let j = f * m;
    const base = f * n;
    for (let r = 0; r < n; r++) { const i = order[base + r]; bufA[j] = i; j += inBag[i]; } // branch-free filter
  }

  const cap = 2 * m;
  const feature = new Int32Array(cap).fill(-1);
  const threshold = new Float64Array(cap);
  const left = new Int32Array(cap).fill(-1);
  const right = new Int32Array(cap).fill(-1);
  const value = new Float64Array(cap * k);
  let nodeCount = 0;

  const goLeft = new Uint8Array(n);
  const feats = new Int32Array(d);
  for (let f = 0; f < d; f++) feats[f] = f;
  const cnt = new Float64Array(k), lc = new Float64Array(k), rc = new Float64Array(k);
  const best = new Float64Array(3); // proxy, position, threshold of the best split of the current node

  // Depth-first with an explicit stack of (start, end, node id, buffer) — the node id is reserved by the parent.
  const stack = new Int32Array(4 * cap);
  let sp = 0;
  stack[sp++] = 0; stack[sp++] = m; stack[sp++] = nodeCount++; stack[sp++] = 0;

  while (sp > 0) {
    const inB = stack[--sp], node = stack[--sp], end = stack[--sp], start = stack[--sp];
    const S = inB ? bufB : bufA, D = inB ? bufA : bufB;
    const wNode = classWeights(S, start, end, y, w, cnt);
    let sq = 0;
    for (let c = 0; c < k; c++) sq += cnt[c] * cnt[c];
    const impurity = 1 - sq / (wNode * wNode);

    let bestF = -1;
    best[0] = -Infinity;
    if (end - start >= 2 && impurity > EPSILON) {
      // Draw features without replacement; every draw counts toward maxFeatures, constant ones included,
      // but keep drawing until at least one non-constant feature was seen (sklearn's rule).
      let visited = 0, nonConstant = 0;
      for (let j = 0; j < d && (visited < maxFeatures || nonConstant === 0); j++) {
        const r = j + rng.below(d - j);
        const f = feats[r]; feats[r] = feats[j]; feats[j] = f;
        visited++;
        const off = f * m, xo = f * n;
        if (xcol[xo + S[off + end - 1]] <= Math.fround(xcol[xo + S[off + start]] + FEATURE_THRESHOLD)) continue;
        nonConstant++;
        if (scanFeature(S, off, start, end, xcol, xo, y, w, cnt, wNode, sq, lc, rc, best)) bestF = f;
      }
    }

    if (bestF < 0) {
      const vo = node * k;
      for (let c = 0; c < k; c++) value[vo + c] = cnt[c] / wNode;
      continue;
    }

    // Left child = the rows before bestPos in bestF's order; stably partition every other feature's list.
    const bestPos = best[1];
    const bo = bestF * m;
    for (let p = start; p < end; p++) goLeft[S[bo + p]] = p < bestPos ? 1 : 0;
    for (let f = 0; f < d; f++) {
      if (f === bestF) D.set(S.subarray(bo + start, bo + end), bo + start);
      else partition(S, D, f * m + start, f * m + end, bestPos - start, goLeft);
    }
    feature[node] = bestF;
    threshold[node] = best[2];
    const l = nodeCount++, r = nodeCount++;
    left[node] = l; right[node] = r;
    stack[sp++] = bestPos; stack[sp++] = end; stack[sp++] = r; stack[sp++] = 1 - inB;
    stack[sp++] = start; stack[sp++] = bestPos; stack[sp++] = l; stack[sp++] = 1 - inB;
  }

  return {
    nodeCount,
    feature: feature.slice(0, nodeCount),
    threshold: threshold.slice(0, nodeCount),
    left: left.slice(0, nodeCount),
    right: right.slice(0, nodeCount),
    value: value.slice(0, nodeCount * k),
  };
}

/** Weighted class counts of rows S[start..end) into cnt; returns their total weight. */
function classWeights(S: Int32Array, start: number, end: number, y: Int32Array, w: Float64Array, cnt: Float64Array): number {
  cnt.fill(0);
  let total = 0;
  for (let p = start; p < end; p++) { const i = S[p]; cnt[y[i]] += w[i]; total += w[i]; }
  return total;
}

/**
 * Scans one feature's sorted rows for the split maximising sklearn's gini proxy
 * (Σ left² / w_left + Σ right² / w_right); updates `best` and returns true if it found a better one.
 */
function scanFeature(S: Int32Array, off: number, start: number, end: number, xcol: Float32Array, xo: number, y: Int32Array, w: Float64Array,
  cnt: Float64Array, wNode: number, sq: number, lc: Float64Array, rc: Float64Array, best: Float64Array): boolean {
  lc.fill(0); rc.set(cnt);
  let wl = 0, wr = wNode, sql = 0, sqr = sq;
  let bestProxy = best[0], found = false;
  let xv = xcol[xo + S[off + start]];
  for (let p = off + start, last = off + end - 1; p < last; p++) {
    const i = S[p], c = y[i], wi = w[i];
    sql += wi * (2 * lc[c] + wi); lc[c] += wi; wl += wi;
    sqr -= wi * (2 * rc[c] - wi); rc[c] -= wi; wr -= wi;
    const xn = xcol[xo + S[p + 1]];
    // Cheap multiply test first (no division); the exact proxy decides.
    if (xn > Math.fround(xv + FEATURE_THRESHOLD) && sql * wr + sqr * wl >= bestProxy * wl * wr) {
      const proxy = sql / wl + sqr / wr;
      if (proxy > bestProxy) {
        bestProxy = proxy; found = true;
        let t = xv / 2 + xn / 2;
        if (t === xn || t === Infinity || t === -Infinity) t = xv;
        best[1] = p + 1 - off; best[2] = t;
      }
    }
    xv = xn;
  }
  best[0] = bestProxy;
  return found;
}

/** Stable partition of S[a..b) into D[a..b): the nLeft rows marked in goLeft first, then the others. */
function partition(S: Int32Array, D: Int32Array, a: number, b: number, nLeft: number, goLeft: Uint8Array): void {
  let l = a, r = a + nLeft;
  for (let p = a; p < b; p++) {
    // Branch-free: each row goes left or right with probability ~1/2, a branch would mispredict often.
    const i = S[p], g = goLeft[i];
    D[r + ((l - r) & -g)] = i; // g ? l : r without a branch
    l += g; r += 1 - g;
  }
}

/** Adds this tree's class probabilities for each row of X (row-major n × d, float32) into acc (n × k). */
export function accumulateProba(tree: Tree, X: Float32Array, n: number, d: number, k: number, acc: Float64Array): void {
  const { feature, threshold, left, right, value } = tree;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    let node = 0;
    while (feature[node] >= 0) node = X[xo + feature[node]] <= threshold[node] ? left[node] : right[node];
    const vo = node * k, ao = i * k;
    for (let c = 0; c < k; c++) acc[ao + c] += value[vo + c];
  }
}
