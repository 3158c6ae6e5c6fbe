// `npm run bench -- shapes [--repeats 3] [--n 256] [--workers W] [--masks DIR]`  (W default: the library's, cores − 1)
// All BBBC010 masks: mask file → contour → periodic spline → N points → normalised distance matrix.
// Ours (masksToDistanceMatrices: this thread + the worker pool) against ../shared/anchors/shape_pipeline_ref.py
// (skimage + scipy; it times its own loop, so interpreter start-up and imports are excluded), alternating
// ours/python so both see the same machine load. Figures are masks/s; ratio > 1 = we are faster.
// Like the reference's imports, our one-time start-up (worker threads load tsx + modules, ~0.3 s CPU each) is
// outside the timed repeats; the first, cold call is reported separately (ours_first_call), as is a
// this-thread-only figure (ours_single_thread).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { masksToDistanceMatrices } from "../src/shapes/pipeline.ts";
import { median, runJsonLines, writeResult, sharedDir, round } from "./common.ts";

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

async function ours(paths: string[], n: number, workers: number | undefined): Promise<number> {
  const t0 = performance.now();
  const out = await masksToDistanceMatrices(paths, { n, workers });
  const dt = (performance.now() - t0) / 1000;
  if (out.length !== paths.length || out.some((d) => d.length !== n * n)) throw new Error("wrong number or size of matrices");
  return paths.length / dt;
}

export default async function (args: string[]): Promise<void> {
  const repeats = Number(option(args, "repeats", "3"));
  const n = Number(option(args, "n", "256"));
  const w = option(args, "workers", "");
  const workers = w === "" ? undefined : Number(w);
  const maskDir = option(args, "masks", join(sharedDir, "data", "bbbc010", "masks_eachworm"));
  const script = join(sharedDir, "anchors", "shape_pipeline_ref.py");
  const paths = readdirSync(maskDir).filter((f) => f.endsWith(".png")).sort().map((f) => join(maskDir, f));
  const threads = workers ?? Math.max(0, Math.min(3, availableParallelism() - 1));
  console.log(`shapes bench: ${paths.length} masks, N=${n}, this thread + ${threads} worker thread(s), ${repeats} repeats`);

  const cold = await ours(paths, n, workers); // first call: starts the worker pool, warms JIT and file cache
  console.log(`  first call (cold): ${round(cold, 1)} masks/s`);
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
    ours_first_call: round(cold, 1),
    ours_single_thread: round(median(singleRuns), 1),
    ratio_single_thread: round(median(singleRuns) / median(pyRuns), 2),
    runs: { ours: oursRuns.map((v) => round(v, 1)), ours_single_thread: singleRuns.map((v) => round(v, 1)), python: pyRuns },
    masks: paths.length,
    n_points: n,
    worker_threads: threads,
    repeats,
    reference: "../shared/anchors/shape_pipeline_ref.py (skimage find_contours, scipy splprep/splev, pdist)",
    cpus: availableParallelism(),
    date: new Date().toISOString(),
  };
  const file = await writeResult("shapes", result);
  console.log(`ours ${result.ours} masks/s, python ${result.python} masks/s, ratio ${result.ratio} (single thread ${result.ratio_single_thread}) → ${file}`);
}
