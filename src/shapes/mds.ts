// Back from a (decoded) distance matrix to a shape: classical MDS → 2-D points, Procrustes alignment to
// a reference outline for display, and polygon → mask rasterisation.
import { Matrix, EigenvalueDecomposition } from "ml-matrix";
import { ConfigError } from "../errors.ts";
import { signedArea, type Contour } from "./contour.ts";
import { matrixSide } from "./distance.ts";

/**
 * Classical (Torgerson) MDS: B = -½ J D∘D J, points = top-`dims` eigenvectors × √eigenvalue. For a matrix of
 * planar distances this recovers the points up to a rigid motion. The matrix is symmetrised first (decoded
 * matrices are only nearly symmetric). For dims = 2 the result is made counter-clockwise (a reflection, which
 * distances cannot see), so outlines come back in the same orientation as resampleContour's.
 */
export function classicalMds(d: ArrayLike<number>, dims = 2): { points: Float64Array[]; eigenvalues: Float64Array } {
  const n = matrixSide(d);
  if (!Number.isInteger(dims) || dims < 1 || dims > n) throw new ConfigError("dims", `must be an integer in 1..${n}, got ${dims}`);
  const sq = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const v = 0.5 * (d[i * n + j] + d[j * n + i]);
      sq[i * n + j] = v * v;
    }
  const rowMean = new Float64Array(n);
  let grand = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += sq[i * n + j];
    rowMean[i] = s / n;
    grand += s;
  }
  grand /= n * n;
  const b = new Matrix(n, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) b.set(i, j, -0.5 * (sq[i * n + j] - rowMean[i] - rowMean[j] + grand));
  const evd = new EigenvalueDecomposition(b, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const order = values.map((_, i) => i).sort((p, q) => values[q] - values[p]);
  const points: Float64Array[] = [];
  const eigenvalues = new Float64Array(dims);
  for (let k = 0; k < dims; k++) {
    const col = order[k];
    eigenvalues[k] = values[col];
    const s = Math.sqrt(Math.max(values[col], 0));
    // Deterministic sign: the largest-magnitude entry of each eigenvector is made positive.
    let big = 0;
    for (let i = 0; i < n; i++) if (Math.abs(vectors.get(i, col)) > Math.abs(big)) big = vectors.get(i, col);
    const sign = big < 0 ? -1 : 1;
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) p[i] = sign * s * vectors.get(i, col);
    points.push(p);
  }
  if (dims === 2 && signedArea({ x: points[0], y: points[1] }) < 0) for (let i = 0; i < n; i++) points[1][i] = -points[1][i];
  return { points, eigenvalues };
}

/** Distance matrix → planar outline (n points), counter-clockwise, centred on the origin. */
export function mdsContour(d: ArrayLike<number>): Contour {
  const { points } = classicalMds(d, 2);
  return { x: points[0], y: points[1] };
}

export interface ProcrustesOptions {
  /** Allow a mirror image (default true: distance matrices cannot tell a shape from its reflection). */
  reflection?: boolean;
  /** Allow uniform scaling (default true: normalised matrices lose the size). */
  scaling?: boolean;
}

export interface ProcrustesResult {
  /** The source points moved onto the target. */
  aligned: Contour;
  /** 2×2 row-major [a, b, c, d]: aligned = scale · [[a, b], [c, d]] · source + translation. */
  rotation: [number, number, number, number];
  scale: number;
  translation: [number, number];
  /** Root-mean-square distance between aligned and target points, in target units. */
  rms: number;
}

/**
 * Least-squares similarity transform of `source` onto `target`, point i onto point i (orthogonal Procrustes
 * in 2-D has a closed form: the best angle is atan2(Σ cross, Σ dot) of the centred points).
 */
export function procrustes(source: Contour, target: Contour, opts: ProcrustesOptions = {}): ProcrustesResult {
  const n = source.x.length;
  if (target.x.length !== n) throw new ConfigError("target", `has ${target.x.length} points, source has ${n}`);
  const reflection = opts.reflection ?? true, scaling = opts.scaling ?? true;
  let sx = 0, sy = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) { sx += source.x[i]; sy += source.y[i]; tx += target.x[i]; ty += target.y[i]; }
  sx /= n; sy /= n; tx /= n; ty /= n;
  let dot = 0, cross = 0, dotR = 0, crossR = 0, ss = 0;
  for (let i = 0; i < n; i++) {
    const ax = source.x[i] - sx, ay = source.y[i] - sy, bx = target.x[i] - tx, by = target.y[i] - ty;
    dot += ax * bx + ay * by;
    cross += ax * by - ay * bx;
    // Same with the source mirrored (ay → -ay).
    dotR += ax * bx - ay * by;
    crossR += ax * by + ay * bx;
    ss += ax * ax + ay * ay;
  }
  if (!(ss > 0)) throw new ConfigError("source", "all points coincide");
  const mirrored = reflection && Math.hypot(dotR, crossR) > Math.hypot(dot, cross);
  const [pd, pc] = mirrored ? [dotR, crossR] : [dot, cross];
  const theta = Math.atan2(pc, pd), cos = Math.cos(theta), sin = Math.sin(theta);
  // Rotation after optional mirror of y: [[cos, -sin], [sin, cos]] · diag(1, ±1).
  const m = mirrored ? -1 : 1;
  const rot: [number, number, number, number] = [cos, -sin * m, sin, cos * m];
  const scale = scaling ? Math.hypot(pd, pc) / ss : 1;
  const trans: [number, number] = [tx - scale * (rot[0] * sx + rot[1] * sy), ty - scale * (rot[2] * sx + rot[3] * sy)];
  const x = new Float64Array(n), y = new Float64Array(n);
  let err = 0;
  for (let i = 0; i < n; i++) {
    x[i] = scale * (rot[0] * source.x[i] + rot[1] * source.y[i]) + trans[0];
    y[i] = scale * (rot[2] * source.x[i] + rot[3] * source.y[i]) + trans[1];
    err += (x[i] - target.x[i]) ** 2 + (y[i] - target.y[i]) ** 2;
  }
  return { aligned: { x, y }, rotation: rot, scale, translation: trans, rms: Math.sqrt(err / n) };
}

/**
 * Fills a closed polygon into a width×height 0/1 mask: pixel (r, c), centre (x = c, y = r), is set when it lies
 * inside (even-odd rule). For a marching-squares contour this gives back exactly the pixels of the object.
 */
export function rasterisePolygon(contour: Contour, width: number, height: number): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new ConfigError("size", `mask size must be positive integers, got ${width}×${height}`);
  const { x, y } = contour;
  const n = x.length;
  const out = new Uint8Array(width * height);
  // Crossings of every edge with every pixel-centre row y = r; an edge counts rows in the half-open span
  // (min, max] — the usual rule, so a vertex lying exactly on a row is counted once.
  const rowsX: number[][] = Array.from({ length: height }, () => []);
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const y0 = y[j], y1 = y[i];
    if (y0 === y1) continue;
    const lo = Math.min(y0, y1), hi = Math.max(y0, y1);
    const rStart = Math.max(0, Math.floor(lo) + 1), rEnd = Math.min(height - 1, Math.floor(hi));
    for (let r = rStart; r <= rEnd; r++) rowsX[r].push(x[j] + ((r - y0) * (x[i] - x[j])) / (y1 - y0));
  }
  for (let r = 0; r < height; r++) {
    const xs = rowsX[r];
    if (xs.length < 2) continue;
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Pixel centres c with xs[k] < c < xs[k+1].
      const c0 = Math.max(0, Math.floor(xs[k]) + 1), c1 = Math.min(width - 1, Math.ceil(xs[k + 1]) - 1);
      out.fill(1, r * width + c0, r * width + c1 + 1);
    }
  }
  return out;
}
