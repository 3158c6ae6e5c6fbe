// Per-channel intensity statistics of the Jurkat cells (mean, sd, min, max, p10, p50, p90, total for
// brightfield, DNA, darkfield), computed from the TIFFs the way numpy does — a real feature table for tests.
import { readFileSync } from "node:fs";
import { readImage } from "../../src/io/image.ts";
import { parseCsv } from "../../src/eval/csv.ts";
import { DATA } from "./helpers.ts";

function percentile(sorted: Float64Array, q: number): number {
  // numpy "linear": lerp between neighbours, computed from the nearer end like numpy's _lerp
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.min(lo + 1, sorted.length - 1), t = pos - lo;
  const a = sorted[lo], b = sorted[hi], diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Features of all cells, or of the first `perClass` cells of each class (in file order). */
export async function jurkatIntensity(perClass?: number): Promise<{ X: Float64Array; d: number; y7: string[]; paths: string[] }> {
  const meta = parseCsv(readFileSync(DATA + "jurkat/cells_exp1.csv", "utf8"));
  const iIdx = meta.header.indexOf("index"), iLab = meta.header.indexOf("label");
  if (perClass) {
    const seen = new Map<string, number>();
    meta.rows = meta.rows.filter((r) => { const c = seen.get(r[iLab]) ?? 0; seen.set(r[iLab], c + 1); return c < perClass; });
  }
  const paths = meta.rows.map((r) => `cells_exp1/${r[iLab]}/${r[iIdx].padStart(4, "0")}.tif`);
  const d = 24;
  const X = new Float64Array(paths.length * d);
  for (let i = 0; i < paths.length; i++) {
    const im = await readImage(DATA + "jurkat/" + paths[i]);
    const np = im.width * im.height;
    for (let c = 0; c < 3; c++) {
      const v = Float64Array.from(im.data.subarray(c * np, (c + 1) * np) as ArrayLike<number>);
      let sum = 0;
      for (const x of v) sum += x;
      const mean = sum / np;
      let ss = 0;
      for (const x of v) ss += (x - mean) ** 2;
      v.sort();
      const o = i * d + c * 8;
      X.set([mean, Math.sqrt(ss / np), v[0], v[np - 1], percentile(v, 10), percentile(v, 50), percentile(v, 90), sum], o);
    }
  }
  return { X, d, y7: meta.rows.map((r) => r[iLab]), paths };
}
