// Back from a shape embedding to a shape: a trained task=shapes model decodes each outline's distance matrix,
// classical MDS turns the decoded matrix into points, Procrustes aligns them to the input's outline (rotation
// and reflection only: a distance matrix has neither), and both outlines are filled to masks to compare them.
// Writes a figure (SVG, input in black, reconstruction in red) and per-shape numbers.
import { basename } from "node:path";
import { tidy, noGrad } from "../engine/index.ts";
import { BieError } from "../errors.ts";
import { classicalMds, procrustes, rasterisePolygon, type Contour } from "../shapes/index.ts";
import { loadRunModel } from "./embed.ts";
import { batchTensor } from "./trainer.ts";

export interface ShapeReconstruction {
  id: string;
  input: Contour;
  /** The decoded outline moved onto the input by rotation/reflection (and scale when sizes were normalised). */
  decoded: Contour;
  /** RMS distance between corresponding points after alignment, in the input's units (pixels for normalise=pixels). */
  rms: number;
  /** Intersection over union of the two outlines filled as masks. */
  iou: number;
}

export interface ShapeReconResult {
  part: string;
  units: string;
  items: ShapeReconstruction[];
  meanIou: number;
  medianRms: number;
}

/** Make a decoded matrix a distance matrix again before MDS: symmetric, zero diagonal, no negatives. */
function cleanMatrix(m: Float32Array, n: number): Float64Array {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) d[i * n + j] = d[j * n + i] = Math.max(0, (m[i * n + j] + m[j * n + i]) / 2);
  return d;
}

function toContour(points: Float64Array[], scale: number): Contour {
  return { x: points[0].map((v) => v * scale), y: points[1].map((v) => v * scale) };
}

/** IoU of two outlines filled on a common pixel grid (1 unit per pixel, with a margin). */
export function outlineIou(a: Contour, b: Contour): number {
  const xs = [...a.x, ...b.x], ys = [...a.y, ...b.y];
  const x0 = Math.min(...xs) - 2, y0 = Math.min(...ys) - 2;
  const w = Math.ceil(Math.max(...xs) - x0 + 2), h = Math.ceil(Math.max(...ys) - y0 + 2);
  const shift = (c: Contour): Contour => ({ x: c.x.map((v) => v - x0), y: c.y.map((v) => v - y0) });
  const ma = rasterisePolygon(shift(a), w, h), mb = rasterisePolygon(shift(b), w, h);
  let inter = 0, union = 0;
  for (let i = 0; i < ma.length; i++) {
    inter += ma[i] & mb[i];
    union += ma[i] | mb[i];
  }
  return union ? inter / union : 1;
}

/**
 * An input distance matrix and a decoded one (n×n, row-major) → both outlines by MDS, the decoded one aligned onto
 * the input, their point RMS and mask IoU. pixels: the matrices keep the size (distances / unit), so alignment
 * may not rescale; else both are brought to a common drawing scale first.
 */
export function compareOutlines(inputMatrix: ArrayLike<number>, decodedMatrix: Float32Array, n: number, o: { pixels: boolean; unit: number }): Omit<ShapeReconstruction, "id"> {
  const input = toContour(classicalMds(inputMatrix, 2).points, o.unit);
  const raw = toContour(classicalMds(cleanMatrix(decodedMatrix, n), 2).points, o.unit);
  // Procrustes pairs point i with point i; a decoder may start the outline elsewhere or run it the other way,
  // so take the best of every start point and both directions.
  let fit = procrustes(raw, input, { reflection: true, scaling: !o.pixels });
  for (const dir of [1, -1])
    for (let k = 0; k < n; k++) {
      if (dir === 1 && k === 0) continue;
      const idx = (i: number) => (((dir * i + k) % n) + n) % n;
      const moved = { x: Float64Array.from({ length: n }, (_, i) => raw.x[idx(i)]), y: Float64Array.from({ length: n }, (_, i) => raw.y[idx(i)]) };
      const f = procrustes(moved, input, { reflection: true, scaling: !o.pixels });
      if (f.rms < fit.rms) fit = f;
    }
  // IoU needs pixels: normalised outlines are drawn at an RMS radius of 100 units first.
  const scale = o.pixels ? 1 : 100 / Math.sqrt(input.x.reduce((a, v, i) => a + v * v + input.y[i] ** 2, 0) / n);
  const sc = (c: Contour): Contour => ({ x: c.x.map((v) => v * scale), y: c.y.map((v) => v * scale) });
  return { input, decoded: fit.aligned, rms: fit.rms, iou: outlineIou(sc(input), sc(fit.aligned)) };
}

/** Decode the shapes of one split part ("test" by default) of a task=shapes run. */
export async function reconstructShapes(runDir: string, opts: { part?: "train" | "val" | "test" | "all"; overrides?: string[] } = {}): Promise<ShapeReconResult> {
  const { cfg, model, src } = await loadRunModel(runDir, opts.overrides ?? []);
  try {
    if (cfg.task !== "shapes") throw new BieError("USAGE", `${runDir}: a task=${cfg.task} run; shape reconstruction needs a task=shapes run`);
    const part = opts.part ?? "test";
    const n = cfg.shapes.n_points;
    // Back to pixels where the matrices kept the size; normalised matrices are compared at the input's scale.
    const pixels = cfg.shapes.normalise === "pixels";
    const unit = pixels ? cfg.shapes.pixel_scale : 1;
    const items: ShapeReconstruction[] = [];
    for await (const batch of src.loader(part, { epoch: 0 })) {
      const y = noGrad(() => tidy(() => model.reconstruct(batchTensor(batch.x, batch.shape, cfg)).contiguous().toArray() as Float32Array));
      batch.indices.forEach((itemIndex, r) => {
        const m = (a: Float32Array) => a.subarray(r * n * n, (r + 1) * n * n);
        items.push({ id: basename(src.items[itemIndex].path), ...compareOutlines(m(batch.x), m(y), n, { pixels, unit }) });
      });
    }
    if (!items.length) throw new BieError("NO_DATA", `${runDir}: the ${part} part is empty`);
    const rms = items.map((i) => i.rms).sort((a, b) => a - b);
    return { part, units: pixels ? "pixels" : "normalised", items, meanIou: items.reduce((a, i) => a + i.iou, 0) / items.length, medianRms: rms[rms.length >> 1] };
  } finally {
    model.dispose();
    await src.close();
  }
}

/** A grid of outlines: input (black) and decoded (red), each cell scaled to fit, with its id and IoU. */
export function shapeReconSvg(items: readonly ShapeReconstruction[], opts: { columns?: number; cell?: number; title?: string } = {}): string {
  const cols = opts.columns ?? 6, cell = opts.cell ?? 140, top = opts.title ? 24 : 0;
  const rows = Math.ceil(items.length / cols);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * cell}" height="${rows * cell + top}" viewBox="0 0 ${cols * cell} ${rows * cell + top}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  if (opts.title) out.push(`<text x="6" y="16" font-size="13">${escapeXml(opts.title)}</text>`);
  items.forEach((it, k) => {
    const ox = (k % cols) * cell, oy = top + Math.floor(k / cols) * cell;
    const all = { x: [...it.input.x, ...it.decoded.x], y: [...it.input.y, ...it.decoded.y] };
    const x0 = Math.min(...all.x), x1 = Math.max(...all.x), y0 = Math.min(...all.y), y1 = Math.max(...all.y);
    const s = (cell - 28) / Math.max(x1 - x0, y1 - y0, 1e-9);
    const cx = ox + cell / 2 - ((x0 + x1) / 2) * s, cy = oy + (cell - 12) / 2 - ((y0 + y1) / 2) * s;
    const path = (c: Contour) => Array.from(c.x, (x, i) => `${(cx + x * s).toFixed(1)},${(cy + c.y[i] * s).toFixed(1)}`).join(" ");
    out.push(`<polygon points="${path(it.input)}" fill="none" stroke="black" stroke-width="1.2"/>`);
    out.push(`<polygon points="${path(it.decoded)}" fill="none" stroke="#d62728" stroke-width="1.2"/>`);
    const name = it.id.replace(/\.[a-z]+$/i, "");
    out.push(`<text x="${ox + 4}" y="${oy + cell - 4}">${escapeXml(name.length > 16 ? name.slice(0, 15) + "…" : name)} · IoU ${it.iou.toFixed(2)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
