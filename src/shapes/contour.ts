// Outer contour of one object in a mask, traced exactly as skimage.measure.find_contours(mask, 0.5) would
// trace it on the zero-padded mask (default fully_connected="low"): same vertices (edge midpoints between
// pixel centres), same start point, same direction.
//
// Choices (documented in notes/issue-5.md):
// - Connectivity is 4 (pixels touching only at a corner are separate objects), because that is what
//   find_contours' "low" saddle rule draws; any other choice would give contours that cross themselves.
// - Several components (61 BBBC010 masks): the largest by pixel count is kept, the others ignored.
// - Holes are ignored: only the outer boundary is traced, so the contour encloses the filled object.
// Coordinates: x = column, y = row, pixel centres at integers (skimage's convention, columns first).
// Orientation: positive shoelace area in (x, y), i.e. counter-clockwise when y points up. This is the
// direction find_contours produces around foreground, and what resample.ts keeps.
import { BadInputError } from "../errors.ts";

/** Any 2-D plane: row-major, pixel (r, c) at data[r * width + c]. */
export interface MaskLike {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

/** A closed polygon stored as separate coordinate arrays; the last point is NOT a copy of the first. */
export interface Contour {
  x: Float64Array;
  y: Float64Array;
}

export interface ObjectOptions {
  /** Instance label to pick; omitted means "every non-zero pixel is foreground" (binary mask). */
  label?: number;
  /** Name used in error messages (file path). */
  source?: string;
}

export interface ObjectContour {
  contour: Contour;
  /** Number of 4-connected components of the selected object before the largest was kept. */
  components: number;
  /** Pixel count of the kept component. */
  area: number;
}

/** Bounding box of the foreground, end-exclusive; null if there is none. */
export function foregroundBox(mask: MaskLike, label?: number): { x0: number; y0: number; x1: number; y1: number } | null {
  const { data, width: w, height: h } = mask;
  if (data.length < w * h) throw new BadInputError("(mask)", `pixel array has ${data.length} values, expected ${w}×${h}`);
  const box = { x0: w, y0: h, x1: 0, y1: 0 };
  const grow = (p: number) => {
    const r = (p / w) | 0, c = p - r * w;
    if (r < box.y0) box.y0 = r;
    if (r >= box.y1) box.y1 = r + 1;
    if (c < box.x0) box.x0 = c;
    if (c >= box.x1) box.x1 = c + 1;
  };
  let tail = 0;
  if (label === undefined && data instanceof Uint8Array && data.byteOffset % 4 === 0) {
    // Binary masks are mostly zeros: read four pixels at a time, look closer only at non-zero words.
    const words = new Uint32Array(data.buffer, data.byteOffset, (w * h) >> 2);
    for (let i = 0; i < words.length; i++)
      if (words[i] !== 0) for (let p = i << 2; p < (i << 2) + 4; p++) if (data[p] !== 0) grow(p);
    tail = words.length << 2;
  }
  if (label === undefined) { for (let p = tail; p < w * h; p++) if (data[p] > 0) grow(p); }
  else for (let p = 0; p < w * h; p++) if (data[p] === label) grow(p);
  return box.x1 > 0 ? box : null;
}

/** The object cropped to its bounding box with a one-pixel zero border: 1 = object, 0 = not. */
export interface Crop {
  data: Uint8Array;
  width: number;
  height: number;
  /** Original-image coordinates of crop pixel (0, 0). */
  offsetX: number;
  offsetY: number;
}

export function cropObject(mask: MaskLike, opts: ObjectOptions = {}): Crop {
  const box = foregroundBox(mask, opts.label);
  if (!box) {
    const what = opts.label === undefined ? "no foreground (non-zero) pixels" : `no pixels with label ${opts.label}`;
    throw new BadInputError(opts.source ?? "(mask)", `mask has ${what}`);
  }
  const cw = box.x1 - box.x0 + 2, ch = box.y1 - box.y0 + 2;
  const out = new Uint8Array(cw * ch);
  const { data, width: w } = mask;
  for (let r = box.y0; r < box.y1; r++) {
    const src = r * w, dst = (r - box.y0 + 1) * cw + 1;
    for (let c = 0; c < box.x1 - box.x0; c++) {
      const v = data[src + box.x0 + c];
      out[dst + c] = (opts.label === undefined ? v > 0 : v === opts.label) ? 1 : 0;
    }
  }
  return { data: out, width: cw, height: ch, offsetX: box.x0 - 1, offsetY: box.y0 - 1 };
}

/**
 * Labels 4-connected components of a 0/1 crop: returns a label per pixel (0 = background,
 * 1.. in raster order of each component's first pixel) and the pixel count of each label (index 0 unused).
 */
export function labelComponents(crop: Crop): { labels: Int32Array; areas: number[] } {
  const { data, width: w, height: h } = crop;
  const labels = new Int32Array(w * h);
  const stack = new Int32Array(w * h);
  const areas = [0];
  for (let start = 0; start < w * h; start++) {
    if (data[start] === 0 || labels[start] !== 0) continue;
    const id = areas.length;
    let top = 0, count = 0;
    stack[top++] = start;
    labels[start] = id;
    while (top > 0) {
      const i = stack[--top];
      count++;
      // The one-pixel zero border means neighbours of object pixels never leave the crop.
      let j = i - 1;
      if (data[j] !== 0 && labels[j] === 0) { labels[j] = id; stack[top++] = j; }
      j = i + 1;
      if (data[j] !== 0 && labels[j] === 0) { labels[j] = id; stack[top++] = j; }
      j = i - w;
      if (data[j] !== 0 && labels[j] === 0) { labels[j] = id; stack[top++] = j; }
      j = i + w;
      if (data[j] !== 0 && labels[j] === 0) { labels[j] = id; stack[top++] = j; }
    }
    areas.push(count);
  }
  return { labels, areas };
}

// Marching squares, edges of a square: 0 top, 1 right, 2 bottom, 3 left. Corner bits: 1 upper-left,
// 2 upper-right, 4 lower-left, 8 lower-right (skimage's numbering). EXIT[case*4 + entry] = exit edge,
// following skimage's segment directions, with its "low" rule for the saddles 6 and 9.
const T = 0, R = 1, B = 2, L = 3;
const EXIT = new Int8Array(16 * 4).fill(-1);
const SEGMENTS: [number, number, number][] = [
  [1, T, L], [2, R, T], [3, R, L], [4, L, B], [5, T, B], [6, R, T], [6, L, B], [7, R, B],
  [8, B, R], [9, T, L], [9, B, R], [10, B, T], [11, B, L], [12, L, R], [13, T, R], [14, L, T],
];
for (const [sq, from, to] of SEGMENTS) EXIT[sq * 4 + from] = to;

/** Traces the outer boundary of the (single) object in a 0/1 crop, starting where skimage starts. */
export function traceOuterContour(crop: Crop): Contour {
  const { data, width: w, height: h } = crop;
  // skimage closes a contour with its last segment in raster order: the square whose upper-left pixel is
  // the right-most object pixel of the bottom object row. Its segment runs top→left, so the contour starts
  // at that square's left edge midpoint, and goes on in the square to its left, entered from the right.
  let rb = -1, cmax = -1;
  for (let r = h - 1; r >= 0 && rb < 0; r--)
    for (let c = w - 1; c >= 0; c--) if (data[r * w + c]) { rb = r; cmax = c; break; }
  if (rb < 0) throw new BadInputError("(mask)", "object is empty");
  const xs: number[] = [cmax], ys: number[] = [rb + 0.5];
  const r0 = rb, c0 = cmax - 1, e0 = R;
  let r = r0, c = c0, entry = e0;
  const maxSteps = 4 * w * h;
  for (let step = 0; step < maxSteps; step++) {
    const o = r * w + c;
    const sq = data[o] | (data[o + 1] << 1) | (data[o + w] << 2) | (data[o + w + 1] << 3);
    const exit = EXIT[sq * 4 + entry];
    if (exit < 0) throw new Error(`contour tracing lost its way at square (${r}, ${c}), case ${sq}`);
    if (exit === T) { r -= 1; entry = B; }
    else if (exit === R) { c += 1; entry = L; }
    else if (exit === B) { r += 1; entry = T; }
    else { c -= 1; entry = R; }
    if (r === r0 && c === c0 && entry === e0) {
      const n = xs.length, x = new Float64Array(n), y = new Float64Array(n);
      for (let i = 0; i < n; i++) { x[i] = xs[i] + crop.offsetX; y[i] = ys[i] + crop.offsetY; }
      return { x, y };
    }
    // The exit point, in coordinates of the square just left: same point as the new square's entry edge.
    if (entry === B) { xs.push(c + 0.5); ys.push(r + 1); }
    else if (entry === L) { xs.push(c); ys.push(r + 0.5); }
    else if (entry === T) { xs.push(c + 0.5); ys.push(r); }
    else { xs.push(c + 1); ys.push(r + 0.5); }
  }
  throw new Error("contour tracing did not close");
}

/**
 * Outer contour of the largest 4-connected component of the selected object (binary: non-zero pixels;
 * label image: pixels equal to opts.label). Throws BadInputError if the object is absent.
 */
export function objectContour(mask: MaskLike, opts: ObjectOptions = {}): ObjectContour {
  const crop = cropObject(mask, opts);
  const { labels, areas } = labelComponents(crop);
  const components = areas.length - 1;
  let best = 1;
  for (let k = 2; k < areas.length; k++) if (areas[k] > areas[best]) best = k;
  if (components > 1) for (let i = 0; i < crop.data.length; i++) crop.data[i] = labels[i] === best ? 1 : 0;
  return { contour: traceOuterContour(crop), components, area: areas[best] };
}

/** Signed area by the shoelace formula in (x, y); positive = counter-clockwise with y up. */
export function signedArea(c: Contour): number {
  const n = c.x.length;
  let s = 0;
  for (let i = 0, j = n - 1; i < n; j = i++) s += c.x[j] * c.y[i] - c.x[i] * c.y[j];
  return s / 2;
}

/** Same points in the opposite direction, keeping point 0 first. */
export function reverseContour(c: Contour): Contour {
  const n = c.x.length, x = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) { const j = (n - i) % n; x[i] = c.x[j]; y[i] = c.y[j]; }
  return { x, y };
}
