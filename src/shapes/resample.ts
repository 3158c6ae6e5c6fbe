// Closed contour → periodic cubic interpolating spline → N points equally spaced along the curve.
// The spline is the one scipy.interpolate.splprep([x, y], s=0, per=1) fits to a closed contour: C² periodic
// cubic through every vertex, parameterised by cumulative chord length. We then place the N points at equal
// *arc length* of that spline (the reference samples equal steps of the chord-length parameter instead,
// which spaces points unevenly by a few per cent; spacing: "parameter" reproduces it).
import { ConfigError } from "../errors.ts";
import { signedArea, reverseContour, type Contour } from "./contour.ts";

/** Piecewise cubic; on segment i, with s = t - knots[i] in [0, knots[i+1] - knots[i]]: x = ax + bx s + cx s² + dx s³. */
export interface PeriodicSpline {
  knots: Float64Array; // length m + 1: 0, chord lengths accumulated, period
  ax: Float64Array; bx: Float64Array; cx: Float64Array; dx: Float64Array;
  ay: Float64Array; by: Float64Array; cy: Float64Array; dy: Float64Array;
  period: number;
}

export type Spacing = "arclength" | "parameter";

export interface ResampleOptions {
  /** Number of output points (default 256). */
  n?: number;
  /** "arclength" (default): equal steps along the curve; "parameter": equal steps of the chord-length parameter, as scipy's splev(linspace(0, 1, n, endpoint=False)). */
  spacing?: Spacing;
}

export const DEFAULT_POINTS = 256;

export function checkResampleOptions(opts: ResampleOptions): { n: number; spacing: Spacing } {
  const n = opts.n ?? DEFAULT_POINTS;
  if (!Number.isInteger(n) || n < 3) throw new ConfigError("shapes.n", `number of contour points must be an integer ≥ 3, got ${n}`);
  const spacing = opts.spacing ?? "arclength";
  if (spacing !== "arclength" && spacing !== "parameter")
    throw new ConfigError("shapes.spacing", `must be "arclength" or "parameter", got ${JSON.stringify(spacing)}`);
  return { n, spacing };
}

/** Fits the periodic C² cubic through all vertices (no smoothing). Needs ≥ 3 distinct consecutive vertices. */
export function periodicSpline(c: Contour): PeriodicSpline {
  const m = c.x.length;
  if (m < 3) throw new ConfigError("contour", `a closed spline needs at least 3 points, got ${m}`);
  const h = new Float64Array(m);
  const knots = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) {
    const j = (i + 1) % m;
    h[i] = Math.hypot(c.x[j] - c.x[i], c.y[j] - c.y[i]);
    if (!(h[i] > 0)) throw new ConfigError("contour", `points ${i} and ${j} coincide; remove repeated points first`);
    knots[i + 1] = knots[i] + h[i];
  }
  // Second derivatives M from the cyclic tridiagonal system
  //   h[i-1] M[i-1] + 2 (h[i-1] + h[i]) M[i] + h[i] M[i+1] = 6 (slope[i] - slope[i-1]).
  const rx = new Float64Array(m), ry = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const p = (i + m - 1) % m, j = (i + 1) % m;
    rx[i] = 6 * ((c.x[j] - c.x[i]) / h[i] - (c.x[i] - c.x[p]) / h[p]);
    ry[i] = 6 * ((c.y[j] - c.y[i]) / h[i] - (c.y[i] - c.y[p]) / h[p]);
  }
  const [mx, my] = solveCyclic(h, [rx, ry]);
  const ax = new Float64Array(m), bx = new Float64Array(m), cx = new Float64Array(m), dx = new Float64Array(m);
  const ay = new Float64Array(m), by = new Float64Array(m), cy = new Float64Array(m), dy = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const j = (i + 1) % m, hi = h[i];
    ax[i] = c.x[i]; cx[i] = mx[i] / 2; dx[i] = (mx[j] - mx[i]) / (6 * hi);
    bx[i] = (c.x[j] - c.x[i]) / hi - (hi * (2 * mx[i] + mx[j])) / 6;
    ay[i] = c.y[i]; cy[i] = my[i] / 2; dy[i] = (my[j] - my[i]) / (6 * hi);
    by[i] = (c.y[j] - c.y[i]) / hi - (hi * (2 * my[i] + my[j])) / 6;
  }
  return { knots, ax, bx, cx, dx, ay, by, cy, dy, period: knots[m] };
}

/**
 * Solves the symmetric cyclic tridiagonal system with sub/super-diagonal h[i-1] / h[i] and diagonal
 * 2(h[i-1] + h[i]) for several right-hand sides (Sherman–Morrison around the Thomas algorithm).
 */
function solveCyclic(h: Float64Array, rhs: Float64Array[]): Float64Array[] {
  const m = h.length;
  const lower = new Float64Array(m), diag = new Float64Array(m), upper = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const p = (i + m - 1) % m;
    lower[i] = h[p]; diag[i] = 2 * (h[p] + h[i]); upper[i] = h[i];
  }
  const alpha = upper[m - 1]; // row m-1, column 0
  const beta = lower[0]; // row 0, column m-1
  const gamma = -diag[0];
  diag[0] -= gamma;
  diag[m - 1] -= (alpha * beta) / gamma;
  // Forward elimination once, shared by all right-hand sides.
  const cp = new Float64Array(m), dInv = new Float64Array(m);
  dInv[0] = 1 / diag[0];
  cp[0] = upper[0] * dInv[0];
  for (let i = 1; i < m; i++) {
    dInv[i] = 1 / (diag[i] - lower[i] * cp[i - 1]);
    cp[i] = upper[i] * dInv[i];
  }
  const thomas = (d: Float64Array): Float64Array => {
    const x = new Float64Array(m);
    x[0] = d[0] * dInv[0];
    for (let i = 1; i < m; i++) x[i] = (d[i] - lower[i] * x[i - 1]) * dInv[i];
    for (let i = m - 2; i >= 0; i--) x[i] -= cp[i] * x[i + 1];
    return x;
  };
  const u = new Float64Array(m);
  u[0] = gamma; u[m - 1] = alpha;
  const z = thomas(u);
  const denom = 1 + z[0] + (beta * z[m - 1]) / gamma;
  return rhs.map((d) => {
    const x = thomas(d);
    const f = (x[0] + (beta * x[m - 1]) / gamma) / denom;
    for (let i = 0; i < m; i++) x[i] -= f * z[i];
    return x;
  });
}

/** Segment containing parameter t (wrapped into [0, period)). */
function segmentOf(sp: PeriodicSpline, t: number): number {
  const k = sp.knots;
  let lo = 0, hi = k.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (k[mid] <= t) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** Point of the spline at parameter t (any real; wraps around the period). */
export function splinePoint(sp: PeriodicSpline, t: number): [number, number] {
  t = ((t % sp.period) + sp.period) % sp.period;
  const i = segmentOf(sp, t), s = t - sp.knots[i];
  return [
    sp.ax[i] + s * (sp.bx[i] + s * (sp.cx[i] + s * sp.dx[i])),
    sp.ay[i] + s * (sp.by[i] + s * (sp.cy[i] + s * sp.dy[i])),
  ];
}

// 5-point Gauss–Legendre on [0, 1]: segments are ~1 px long and smooth, so the arc-length error is ~1e-12.
const GL_X = [0.04691007703066800, 0.23076534494715845, 0.5, 0.76923465505284155, 0.95308992296933200];
const GL_W = [0.11846344252809454, 0.23931433524968324, 0.28444444444444444, 0.23931433524968324, 0.11846344252809454];

function speed(sp: PeriodicSpline, i: number, s: number): number {
  const vx = sp.bx[i] + s * (2 * sp.cx[i] + 3 * s * sp.dx[i]);
  const vy = sp.by[i] + s * (2 * sp.cy[i] + 3 * s * sp.dy[i]);
  return Math.sqrt(vx * vx + vy * vy);
}

/** Arc length of segment i from its start to local parameter s. */
function arcTo(sp: PeriodicSpline, i: number, s: number): number {
  let a = 0;
  for (let q = 0; q < 5; q++) a += GL_W[q] * speed(sp, i, GL_X[q] * s);
  return a * s;
}

/** Cumulative arc length at each knot (length m + 1; last = total length of the closed curve). */
export function knotArcLengths(sp: PeriodicSpline): Float64Array {
  const m = sp.knots.length - 1;
  const S = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) S[i + 1] = S[i] + arcTo(sp, i, sp.knots[i + 1] - sp.knots[i]);
  return S;
}

/** Arc length of the spline from parameter 0 to t (0 ≤ t ≤ period), given knotArcLengths(sp). */
export function arcLengthAt(sp: PeriodicSpline, t: number, S = knotArcLengths(sp)): number {
  if (t >= sp.period) return S[S.length - 1];
  const i = segmentOf(sp, t);
  return S[i] + arcTo(sp, i, t - sp.knots[i]);
}

/** Spline parameters of n samples from parameter 0: equal arc-length steps, or equal parameter steps. */
export function sampleParameters(sp: PeriodicSpline, n: number, spacing: Spacing = "arclength"): Float64Array {
  const t = new Float64Array(n);
  if (spacing === "parameter") {
    for (let k = 0; k < n; k++) t[k] = (k * sp.period) / n;
    return t;
  }
  const S = knotArcLengths(sp);
  const total = S[S.length - 1];
  let i = 0;
  for (let k = 0; k < n; k++) {
    const target = (k * total) / n;
    while (S[i + 1] <= target) i++;
    const h = sp.knots[i + 1] - sp.knots[i], len = S[i + 1] - S[i], r = target - S[i];
    // Newton on arcTo(s) = r; arc length is nearly linear in s on a ~1 px segment: 2–3 steps reach 1e-13.
    let s = (r / len) * h;
    for (let it = 0; it < 6; it++) {
      const step = (arcTo(sp, i, s) - r) / speed(sp, i, s);
      s -= step;
      if (s < 0) s = 0; else if (s > h) s = h;
      if (Math.abs(step) < 1e-13 * h) break;
    }
    t[k] = sp.knots[i] + s;
  }
  return t;
}

/**
 * N points on the periodic spline through the contour, counter-clockwise (the contour is reversed first if it
 * runs clockwise), point 0 at the contour's first vertex. spacing "arclength": equal arc-length steps (the
 * straight chords between neighbours are shorter where the outline bends sharply, e.g. at worm tips).
 */
export function resampleContour(contour: Contour, opts: ResampleOptions = {}): Contour {
  const { n, spacing } = checkResampleOptions(opts);
  const c = signedArea(contour) < 0 ? reverseContour(contour) : contour;
  const sp = periodicSpline(c);
  const t = sampleParameters(sp, n, spacing);
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let k = 0; k < n; k++) [x[k], y[k]] = splinePoint(sp, t[k]);
  return { x, y };
}
