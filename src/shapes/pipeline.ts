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
  /** Worker threads: default min(2, cores) when there are ≥ 64 masks, else 0 (this thread). */
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
  const workers = opts.workers ?? (paths.length >= 64 ? Math.min(2, availableParallelism()) : 0);
  if (!Number.isInteger(workers) || workers < 0) throw new ConfigError("workers", `must be a non-negative integer, got ${opts.workers}`);
  if (workers === 0) {
    const out: Float32Array[] = [];
    for (const p of paths) out.push(maskToDistanceMatrix(await readMaskSync(p), o, p));
    return out;
  }
  return runInWorkers(paths, o, workers);
}

const BATCH = 32;

// Workers do not inherit tsx's loader (neither `--import tsx` nor bin/bie.js's register()), so each one
// registers it before importing the TypeScript worker module.
const WORKER_BOOT = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})
  .then((m) => { m.register(); return import(${JSON.stringify(new URL("./pipeline-worker.ts", import.meta.url).href)}); })
  .catch((e) => { throw e; });`;

interface WorkerError { name: string; message: string; file?: string; field?: string }

/** Hands out batches of paths to workers as they finish; matrices come back as transferred buffers. */
function runInWorkers(paths: string[], opts: DistanceOptions, count: number): Promise<Float32Array[]> {
  const out: Float32Array[] = new Array(paths.length);
  let next = 0, done = 0, failed = false;
  const pool: Worker[] = [];
  return new Promise((resolve, reject) => {
    const stopAll = (err: unknown) => {
      if (failed) return;
      failed = true;
      for (const w of pool) void w.terminate();
      reject(err);
    };
    const feed = (w: Worker) => {
      if (next >= paths.length) { void w.terminate(); return; }
      const start = next;
      next = Math.min(paths.length, next + BATCH);
      w.postMessage({ start, paths: paths.slice(start, next), opts });
    };
    const spawn = Math.min(count, Math.ceil(paths.length / BATCH));
    if (spawn === 0) { resolve(out); return; }
    for (let k = 0; k < spawn; k++) {
      // workerData must be an object: geotiff's web-worker dependency otherwise thinks it *is* this worker.
      const w = new Worker(WORKER_BOOT, { eval: true, execArgv: [], workerData: {} });
      pool.push(w);
      w.on("message", (msg: { start: number; buffers?: ArrayBuffer[]; error?: WorkerError }) => {
        if (msg.error) { stopAll(rebuildError(msg.error)); return; }
        msg.buffers!.forEach((b, i) => { out[msg.start + i] = new Float32Array(b); });
        done += msg.buffers!.length;
        if (done === paths.length) { for (const p of pool) void p.terminate(); resolve(out); }
        else feed(w);
      });
      w.on("error", stopAll);
      feed(w);
    }
  });
}

/** Turns a worker's serialised error back into the same tagged error class. */
function rebuildError(e: WorkerError): Error {
  if (e.name === "BadInputError" && e.file !== undefined) return new BadInputError(e.file, e.message.slice(e.file.length + 2));
  if (e.name === "ConfigError" && e.field !== undefined) return new ConfigError(e.field, e.message.replace(/^config field '[^']*': /, ""));
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
