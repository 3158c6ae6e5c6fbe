// Classical shape features, the baselines the embedding must beat, computed as the anchors compute them
// (../shared/anchors/anchor_common.py with scikit-image 0.19.3):
// - regionprops of the whole mask as ONE region (every foreground pixel, all components together);
// - elliptic Fourier descriptors (Kuhl & Giardina 1982, pyefd 1.6.0 semantics) of the outer contour of the
//   largest component, normalised for rotation, scale and start point; a1 = 1, b1 = c1 = 0 are dropped.
import { ConfigError } from "../errors.ts";
import { cropObject, objectContour, type Contour, type MaskLike, type ObjectOptions } from "./contour.ts";

export const REGIONPROPS_COLUMNS = [
  "area", "perimeter", "major_axis_length", "minor_axis_length", "orientation", "eccentricity", "solidity", "extent",
] as const;
export type RegionpropsName = (typeof REGIONPROPS_COLUMNS)[number];
export type Regionprops = Record<RegionpropsName, number>;

/** Column names of the normalised EFD features: efd_d1, efd_a2, efd_b2, … (4·order − 3 names). */
export function efdColumns(order = 10): string[] {
  const names: string[] = [];
  for (let n = 1; n <= order; n++) for (const k of "abcd") names.push(`efd_${k}${n}`);
  return names.slice(3);
}

/** skimage.measure.regionprops of the whole foreground as one region (label image: pixels == opts.label). */
export function regionprops(mask: MaskLike, opts: ObjectOptions = {}): Regionprops {
  // The crop has a one-pixel zero border, which changes none of these numbers (all are translation-free,
  // and skimage's perimeter/convex hull pad with zeros too).
  const crop = cropObject(mask, opts);
  const { data, width: w, height: h } = crop;
  let area = 0, sr = 0, sc = 0;
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) if (data[r * w + c]) { area++; sr += r; sc += c; }
  const mr = sr / area, mc = sc / area;
  let mu20 = 0, mu02 = 0, mu11 = 0;
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++)
      if (data[r * w + c]) { const dr = r - mr, dc = c - mc; mu20 += dr * dr; mu02 += dc * dc; mu11 += dr * dc; }
  // skimage's inertia tensor: [[mu02, -mu11], [-mu11, mu20]] / mu00 (rows first, so a is the column spread).
  const a = mu02 / area, b = -mu11 / area, c = mu20 / area;
  const half = (a + c) / 2, rad = Math.sqrt(((a - c) / 2) ** 2 + b * b);
  const l1 = Math.max(half + rad, 0), l2 = Math.max(half - rad, 0);
  const orientation = a - c === 0 ? (b < 0 ? -Math.PI / 4 : Math.PI / 4) : 0.5 * Math.atan2(-2 * b, c - a);
  const bboxArea = (w - 2) * (h - 2);
  return {
    area,
    perimeter: perimeter4(crop.data, w, h),
    major_axis_length: 4 * Math.sqrt(l1),
    minor_axis_length: 4 * Math.sqrt(l2),
    orientation,
    eccentricity: l1 === 0 ? 0 : Math.sqrt(1 - l2 / l1),
    solidity: area / convexArea(data, w, h),
    extent: area / bboxArea,
  };
}

/**
 * skimage.measure.perimeter(image, neighbourhood=4): border pixels (object minus its 4-erosion) are scored by
 * their 8-neighbourhood pattern (1, √2 or (1+√2)/2 per pixel). Exact port; it runs on pixel centres, so it
 * differs from the marching-squares contour length by design.
 */
function perimeter4(img: Uint8Array, w: number, h: number): number {
  const border = new Uint8Array(w * h);
  for (let r = 1; r < h - 1; r++)
    for (let c = 1; c < w - 1; c++) {
      const i = r * w + c;
      if (img[i] && !(img[i - 1] && img[i + 1] && img[i - w] && img[i + w])) border[i] = 1;
    }
  const SQ2 = Math.SQRT2, HALF = (1 + Math.SQRT2) / 2;
  const weight = new Float64Array(50);
  for (const k of [5, 7, 15, 17, 25, 27]) weight[k] = 1;
  weight[21] = weight[33] = SQ2;
  weight[13] = weight[23] = HALF;
  let total = 0;
  // Only border pixels can score (the weights sit on odd codes, and the centre adds the only odd term).
  for (let r = 1; r < h - 1; r++)
    for (let c = 1; c < w - 1; c++) {
      const i = r * w + c;
      if (!border[i]) continue;
      const code = 1 + 2 * (border[i - 1] + border[i + 1] + border[i - w] + border[i + w]) +
        10 * (border[i - w - 1] + border[i - w + 1] + border[i + w - 1] + border[i + w + 1]);
      total += weight[code];
    }
  return total;
}

/**
 * Pixel count of skimage's convex_hull_image: hull of the extreme pixels of each row and column, each widened
 * by the four half-pixel diamond offsets; a pixel centre counts if inside, on an edge or on a vertex.
 */
function convexArea(img: Uint8Array, w: number, h: number): number {
  const pts: number[] = []; // (row, col) pairs
  const add = (r: number, c: number) => pts.push(r - 0.5, c, r + 0.5, c, r, c - 0.5, r, c + 0.5);
  for (let r = 0; r < h; r++) {
    let first = -1, last = -1;
    for (let c = 0; c < w; c++) if (img[r * w + c]) { if (first < 0) first = c; last = c; }
    if (first >= 0) { add(r, first); if (last !== first) add(r, last); }
  }
  for (let c = 0; c < w; c++) {
    let first = -1, last = -1;
    for (let r = 0; r < h; r++) if (img[r * w + c]) { if (first < 0) first = r; last = r; }
    if (first >= 0) { add(first, c); if (last !== first) add(last, c); }
  }
  const hull = convexHull(pts);
  const vr = hull.map((p) => p[0]), vc = hull.map((p) => p[1]);
  let count = 0;
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) if (pointInPolygon(vr, vc, r, c) !== 0) count++;
  return count;
}

/** Andrew's monotone chain; drops collinear points (the polygon, and so every inside/edge test, is the same as qhull's). */
function convexHull(flat: number[]): [number, number][] {
  const p: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) p.push([flat[i], flat[i + 1]]);
  p.sort((u, v) => u[0] - v[0] || u[1] - v[1]);
  const cross = (o: number[], a: number[], b: number[]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [], upper: [number, number][] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** skimage's point_in_polygon (O'Rourke): 0 outside, 1 inside, 2 on a vertex, 3 on an edge. */
function pointInPolygon(xp: number[], yp: number[], x: number, y: number): number {
  const n = xp.length, eps = 1e-12;
  let lCross = 0, rCross = 0;
  let x1 = xp[n - 1] - x, y1 = yp[n - 1] - y;
  for (let i = 0; i < n; i++) {
    const x0 = xp[i] - x, y0 = yp[i] - y;
    if (-eps < x0 && x0 < eps && -eps < y0 && y0 < eps) return 2;
    if (y0 > 0 !== y1 > 0 && (x0 * y1 - x1 * y0) / (y1 - y0) > 0) rCross++;
    if (y0 < 0 !== y1 < 0 && (x0 * y1 - x1 * y0) / (y1 - y0) < 0) lCross++;
    x1 = x0; y1 = y0;
  }
  if ((rCross & 1) !== (lCross & 1)) return 3;
  return rCross & 1 ? 1 : 0;
}

/**
 * Elliptic Fourier coefficients [a_n, b_n, c_n, d_n] for n = 1..order (row-major order×4) of a closed contour
 * (the first point is repeated at the end internally; zero-length steps are skipped as pyefd does).
 */
export function ellipticFourierDescriptors(contour: Contour, order = 10): Float64Array {
  if (!Number.isInteger(order) || order < 1) throw new ConfigError("shapes.efd_order", `must be a positive integer, got ${order}`);
  const m = contour.x.length;
  const dx: number[] = [], dy: number[] = [], dt: number[] = [];
  for (let i = 0; i < m; i++) {
    const j = (i + 1) % m;
    const ex = contour.x[j] - contour.x[i], ey = contour.y[j] - contour.y[i], len = Math.sqrt(ex * ex + ey * ey);
    if (len > 0) { dx.push(ex); dy.push(ey); dt.push(len); }
  }
  const k = dt.length;
  if (k < 2) throw new ConfigError("contour", "needs at least two distinct points");
  const t = new Float64Array(k + 1);
  for (let i = 0; i < k; i++) t[i + 1] = t[i] + dt[i];
  const T = t[k];
  const out = new Float64Array(order * 4);
  for (let n = 1; n <= order; n++) {
    const cst = T / (2 * n * n * Math.PI * Math.PI);
    let a = 0, b = 0, c = 0, d = 0;
    let cPrev = 1, sPrev = 0; // cos/sin of n·phi at t = 0
    for (let i = 0; i < k; i++) {
      const phi = (2 * Math.PI * t[i + 1] * n) / T;
      const cNow = Math.cos(phi), sNow = Math.sin(phi);
      const dCos = cNow - cPrev, dSin = sNow - sPrev;
      const ux = dx[i] / dt[i], uy = dy[i] / dt[i];
      a += ux * dCos; b += ux * dSin; c += uy * dCos; d += uy * dSin;
      cPrev = cNow; sPrev = sNow;
    }
    out.set([cst * a, cst * b, cst * c, cst * d], (n - 1) * 4);
  }
  return out;
}

/** pyefd 1.6.0 normalize_efd (on a copy): start point by θ1, rotation by ψ1, size by |a1|. */
export function normaliseEfd(coeffs: Float64Array, sizeInvariant = true): Float64Array {
  const co = Float64Array.from(coeffs);
  const order = co.length / 4;
  const theta = 0.5 * Math.atan2(2 * (co[0] * co[1] + co[2] * co[3]), co[0] ** 2 - co[1] ** 2 + co[2] ** 2 - co[3] ** 2);
  for (let n = 1; n <= order; n++) {
    const o = (n - 1) * 4, [a, b, c, d] = [co[o], co[o + 1], co[o + 2], co[o + 3]];
    const cs = Math.cos(n * theta), sn = Math.sin(n * theta);
    // [[a, b], [c, d]] · [[cos, -sin], [sin, cos]]
    co[o] = a * cs + b * sn; co[o + 1] = -a * sn + b * cs;
    co[o + 2] = c * cs + d * sn; co[o + 3] = -c * sn + d * cs;
  }
  const psi = Math.atan2(co[2], co[0]);
  const pc = Math.cos(psi), ps = Math.sin(psi);
  for (let n = 1; n <= order; n++) {
    const o = (n - 1) * 4, [a, b, c, d] = [co[o], co[o + 1], co[o + 2], co[o + 3]];
    // [[cos, sin], [-sin, cos]] · [[a, b], [c, d]]
    co[o] = pc * a + ps * c; co[o + 1] = pc * b + ps * d;
    co[o + 2] = -ps * a + pc * c; co[o + 3] = -ps * b + pc * d;
  }
  if (sizeInvariant) {
    const s = Math.abs(co[0]);
    for (let i = 0; i < co.length; i++) co[i] /= s;
  }
  return co;
}

/** The 4·order − 3 normalised EFD features of a contour (names from efdColumns). */
export function efdFeatures(contour: Contour, order = 10): Float64Array {
  return normaliseEfd(ellipticFourierDescriptors(contour, order)).slice(3);
}

export interface ClassicalFeatures {
  regionprops: Regionprops;
  efd: Float64Array;
  /** 4-connected components of the object (EFD uses the largest; regionprops uses them all). */
  components: number;
}

/** regionprops + EFD of one mask, as in the anchors' bbbc010_baseline.py. */
export function classicalFeatures(mask: MaskLike, opts: ObjectOptions & { efdOrder?: number } = {}): ClassicalFeatures {
  const { contour, components } = objectContour(mask, opts);
  return { regionprops: regionprops(mask, opts), efd: efdFeatures(contour, opts.efdOrder ?? 10), components };
}
