// `npm run bench -- shapes [--repeats 3] [--n 256] [--workers W] [--masks DIR]`
// All BBBC010 masks: mask file → contour → periodic spline → N points → normalised distance matrix.
// Ours (masksToDistanceMatrices, worker threads included in the timing, spawn to last matrix) against
// ../shared/anchors/shape_pipeline_ref.py (skimage + scipy; it times its own loop, interpreter start-up
// excluded), alternating ours/python so both see the same machine load. Figures are masks/s; ratio > 1 = we
// are faster. Also reports our single-thread figure.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { masksToDistanceMatrices } from "../src/shapes/pipeline.ts";
import { median, runJsonLines, writeResult, sharedDir, round } from "./common.ts";

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

async function ours(paths: string[], n: number, workers: number): Promise<number> {
  const t0 = performance.now();
  const out = await masksToDistanceMatrices(paths, { n, workers });
  const dt = (performance.now() - t0) / 1000;
  if (out.length !== paths.length || out.some((d) => d.length !== n * n)) throw new Error("wrong number or size of matrices");
  return paths.length / dt;
}

export default async function (args: string[]): Promise<void> {
  const repeats = Number(option(args, "repeats", "3"));
  const n = Number(option(args, "n", "256"));
  const workers = Number(option(args, "workers", String(Math.min(2, availableParallelism()))));
  const maskDir = option(args, "masks", join(sharedDir, "data", "bbbc010", "masks_eachworm"));
  const script = join(sharedDir, "anchors", "shape_pipeline_ref.py");
  const paths = readdirSync(maskDir).filter((f) => f.endsWith(".png")).sort().map((f) => join(maskDir, f));
  console.log(`shapes bench: ${paths.length} masks, N=${n}, ${workers} worker threads, ${repeats} repeats`);

  await ours(paths.slice(0, 64), n, 0); // warm the JIT and the file cache once, untimed
  const oursRuns: number[] = [], singleRuns: number[] = [], pyRuns: number[] = [];
  for (let r = 0; r < repeats; r++) {
    oursRuns.push(await ours(paths, n, workers));
    const [py] = await runJsonLines("/usr/bin/python3", [script, maskDir, String(n)]);
    if (py?.masks !== paths.length) throw new Error(`reference saw ${py?.masks} masks, expected ${paths.length}`);
    pyRuns.push(Number(py.masks_per_s));
    singleRuns.push(await ours(paths, n, 0));
    console.log(`  run ${r + 1}: ours ${round(oursRuns[r], 1)} masks/s (single thread ${round(singleRuns[r], 1)}), python ${pyRuns[r]} masks/s`);
  }
  const result = {
    name: "shapes",
    what: "mask PNG -> contour -> periodic cubic spline -> N points -> normalised NxN distance matrix, all BBBC010 masks",
    unit: "masks/s",
    ours: round(median(oursRuns), 1),
    python: round(median(pyRuns), 1),
    ratio: round(median(oursRuns) / median(pyRuns), 2),
    ours_single_thread: round(median(singleRuns), 1),
    ratio_single_thread: round(median(singleRuns) / median(pyRuns), 2),
    runs: { ours: oursRuns.map((v) => round(v, 1)), ours_single_thread: singleRuns.map((v) => round(v, 1)), python: pyRuns },
    masks: paths.length,
    n_points: n,
    workers,
    repeats,
    reference: "../shared/anchors/shape_pipeline_ref.py (skimage find_contours, scipy splprep/splev, pdist)",
    cpus: availableParallelism(),
    date: new Date().toISOString(),
  };
  const file = await writeResult("shapes", result);
  console.log(`ours ${result.ours} masks/s, python ${result.python} masks/s, ratio ${result.ratio} (single thread ${result.ratio_single_thread}) → ${file}`);
}
