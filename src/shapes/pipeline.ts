// Batch API: mask files → N×N distance matrices, spread over worker threads when there are enough masks.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { BadInputError, ConfigError } from "../errors.ts";
import { objectContour, type MaskLike } from "./contour.ts";
import { resampleContour, checkResampleOptions, type Spacing } from "./resample.ts";
import { distanceMatrix, checkNormalisation, type Normalisation } from "./distance.ts";
import { readMaskSync } from "./mask-io.ts";

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
   * Extra worker threads; this thread works too. Default: cores − 1 (so 1 on 2 cores) when there are ≥ 64
   * masks, else 0. Each worker costs ~0.25 s to start (it loads tsx and our modules).
   */
  workers?: number;
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
  return runBatches(paths, o, workers);
}

const BATCH = 32;

// Workers do not inherit tsx's loader (neither `--import tsx` nor bin/bie.js's register()), so each one
// registers it before importing the TypeScript worker module.
const WORKER_BOOT = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})
  .then((m) => { m.register(); return import(${JSON.stringify(new URL("./pipeline-worker.ts", import.meta.url).href)}); })
  .catch((e) => { throw e; });`;

interface WorkerError { name: string; message: string; file?: string; field?: string }

/**
 * Batches of BATCH paths are taken from one queue by this thread and by `workerCount` worker threads (which
 * start up while this thread already works); results land by index, so the order never depends on timing.
 */
async function runBatches(paths: string[], opts: DistanceOptions, workerCount: number): Promise<Float32Array[]> {
  const out: Float32Array[] = new Array(paths.length);
  let next = 0, done = 0, failure: unknown = null;
  const pool: Worker[] = [];
  let wake: (() => void) | null = null;
  const notify = () => { const w = wake; wake = null; w?.(); };
  const fail = (err: unknown) => { if (failure === null) failure = err; notify(); };
  // Small jobs are split evenly so that every thread gets a share.
  const size = Math.max(1, Math.min(BATCH, Math.ceil(paths.length / (workerCount + 1))));
  const take = (): [number, number] | null => {
    if (next >= paths.length || failure !== null) return null;
    const start = next;
    next = Math.min(paths.length, next + size);
    return [start, next];
  };
  const busy = new Set<Worker>();
  const feed = (w: Worker) => {
    const b = take();
    if (b) { busy.add(w); w.postMessage({ start: b[0], paths: paths.slice(b[0], b[1]), opts }); }
    else void w.terminate();
  };
  for (let k = 0; k < Math.min(workerCount, Math.ceil(paths.length / size) - 1); k++) {
    // workerData must be an object: geotiff's web-worker dependency otherwise thinks it *is* this worker.
    const w = new Worker(WORKER_BOOT, { eval: true, execArgv: [], workerData: {} });
    pool.push(w);
    w.on("message", (msg: { start: number; buffers?: ArrayBuffer[]; error?: WorkerError }) => {
      busy.delete(w);
      if (msg.error) { fail(rebuildError(msg.error)); return; }
      msg.buffers!.forEach((b, i) => { out[msg.start + i] = new Float32Array(b); });
      done += msg.buffers!.length;
      notify();
      feed(w);
    });
    w.on("error", fail);
    w.on("exit", (code) => { if (busy.has(w)) fail(new Error(`shape worker exited (code ${code}) in the middle of a batch`)); });
    feed(w); // queued until the worker has started; this thread meanwhile takes the next batch
  }
  try {
    for (let b = take(); b; b = take()) {
      for (let i = b[0]; i < b[1]; i++) out[i] = maskToDistanceMatrix(await readMaskSync(paths[i]), opts, paths[i]);
      done += b[1] - b[0];
      await new Promise((r) => setImmediate(r)); // let worker results and errors in between batches
    }
  } catch (e) {
    fail(e);
  }
  while (done < paths.length && failure === null) await new Promise<void>((r) => { wake = r; });
  for (const w of pool) void w.terminate();
  if (failure !== null) throw failure;
  return out;
}

/** Turns a worker's serialised error back into the same tagged error class. */
function rebuildError(e: WorkerError): Error {
  if (e.name === "BadInputError" && e.file !== undefined) return new BadInputError(e.file, e.message.slice(e.file.length + 2));
  if (e.name === "ConfigError" && e.field !== undefined) return new ConfigError(e.field, e.message.replace(/^config field '[^']*': /, ""));
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
