// Batch API: mask files → N×N distance matrices, spread over worker threads when there are enough masks.
import { availableParallelism } from "node:os";
import { ConfigError } from "../errors.ts";
import { objectContour, type MaskLike } from "./contour.ts";
import { resampleContour, checkResampleOptions, type Spacing } from "./resample.ts";
import { distanceMatrix, checkNormalisation, type Normalisation } from "./distance.ts";
import { readMaskSync } from "./mask-io.ts";
import { shapeWorkers, type Job } from "./worker-pool.ts";

export interface DistanceOptions {
  /** Points along the contour (default 256). */
  n?: number;
  normalise?: Normalisation;
  spacing?: Spacing;
  /** Instance label to take from label images; omitted = binary mask (non-zero is foreground). */
  label?: number;
}

export interface BatchOptions extends DistanceOptions {
  /**
   * Worker threads besides this one (the process-wide pool grows to this size and is kept, see
   * worker-pool.ts). Default: cores − 1 (1 on 2 cores) when there are ≥ 64 masks, else 0.
   */
  workers?: number;
  /** false: this thread only hands out batches (keeps it free, e.g. in a server); needs workers ≥ 1. */
  mainThread?: boolean;
}

/** One mask (already in memory) → normalised distance matrix (n×n, row-major). */
export function maskToDistanceMatrix(mask: MaskLike, opts: DistanceOptions = {}, source?: string): Float32Array {
  const { contour } = objectContour(mask, { label: opts.label, source });
  return distanceMatrix(resampleContour(contour, opts), opts.normalise ?? "frobenius");
}

/** Validates options once, up front, so a bad value fails before any file is read. */
export function checkDistanceOptions(opts: DistanceOptions): Required<Omit<DistanceOptions, "label">> & { label?: number } {
  const { n, spacing } = checkResampleOptions(opts);
  const normalise = checkNormalisation(opts.normalise);
  if (opts.label !== undefined && !Number.isFinite(opts.label)) throw new ConfigError("shapes.label", `must be a number, got ${opts.label}`);
  return { n, spacing, normalise, label: opts.label };
}

/** Mask files → one Float32Array (n×n) per file, in the order given. Same inputs give the same numbers. */
export async function masksToDistanceMatrices(paths: string[], opts: BatchOptions = {}): Promise<Float32Array[]> {
  const o = checkDistanceOptions(opts);
  const workers = opts.workers ?? (paths.length >= 64 ? Math.max(0, Math.min(3, availableParallelism() - 1)) : 0);
  if (!Number.isInteger(workers) || workers < 0) throw new ConfigError("workers", `must be a non-negative integer, got ${opts.workers}`);
  const mainThread = opts.mainThread ?? true;
  if (!mainThread && workers < 1 && paths.length > 0) throw new ConfigError("workers", "must be ≥ 1 when mainThread is false");
  return runBatches(paths, o, workers, mainThread);
}

const BATCH = 32;

/**
 * Batches of paths go to the shared worker threads and to this thread. When no batch is left to start, this
 * thread redoes batches a worker still holds (a worker can take a second to start on a loaded machine), and
 * whichever copy finishes first counts: a batch gives the same numbers wherever it runs, so results never
 * depend on timing.
 */
async function runBatches(paths: string[], opts: DistanceOptions, workerCount: number, mainThread: boolean): Promise<Float32Array[]> {
  const out: Float32Array[] = new Array(paths.length);
  // Small jobs are split evenly so that every thread gets a share.
  const threads = workerCount + (mainThread ? 1 : 0);
  const size = Math.max(1, Math.min(BATCH, Math.ceil(paths.length / threads)));
  const batches: Job["batches"] = [];
  for (let s = 0; s < paths.length; s += size) batches.push({ start: s, end: Math.min(paths.length, s + size), state: "pending" });
  let remaining = batches.length, failure: unknown = null;
  let wake: (() => void) | null = null;
  const notify = () => { const w = wake; wake = null; w?.(); };
  const job: Job = {
    paths, opts, batches,
    onResult(k, mats) {
      if (batches[k].state === "done") return;
      mats.forEach((m, i) => { out[batches[k].start + i] = m; });
      batches[k].state = "done";
      remaining--;
      notify();
    },
    onError(err) { if (failure === null) failure = err; notify(); },
  };
  const useWorkers = workerCount > 0 && batches.length > (mainThread ? 1 : 0);
  const pool = useWorkers ? shapeWorkers(workerCount) : null;
  const id = pool?.submit(job);
  try {
    while (mainThread && remaining > 0 && failure === null) {
      let k = batches.findIndex((b) => b.state === "pending");
      if (k < 0) k = batches.findIndex((b) => b.state === "assigned"); // redo a batch a worker still holds
      if (k < 0) break;
      if (batches[k].state === "pending") batches[k].state = "assigned";
      const mats: Float32Array[] = [];
      for (let i = batches[k].start; i < batches[k].end; i++) mats.push(maskToDistanceMatrix(await readMaskSync(paths[i]), opts, paths[i]));
      job.onResult(k, mats);
      if (pool) await new Promise((r) => setImmediate(r)); // let worker results and errors in between batches
    }
  } catch (e) {
    job.onError(e);
  }
  while (remaining > 0 && failure === null) await new Promise<void>((r) => { wake = r; });
  if (id !== undefined) pool!.release(id);
  if (failure !== null) throw failure;
  return out;
}
