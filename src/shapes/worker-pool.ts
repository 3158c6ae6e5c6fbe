// Worker threads for the batch pipeline, created on first use and kept for the life of the process (unref'd
// while idle, so they never keep it alive; closeShapeWorkers() ends them). Starting one costs ~0.3 s of CPU
// (tsx's loader and our modules), about as much as 400 masks, so it is paid once, not per call.
import { Worker } from "node:worker_threads";
import { BadInputError, ConfigError } from "../errors.ts";
import type { DistanceOptions } from "./pipeline.ts";

/** One call's work: batches of paths, each done once by whichever thread finishes it first. */
export interface Job {
  paths: string[];
  opts: DistanceOptions;
  batches: { start: number; end: number; state: "pending" | "assigned" | "done" }[];
  /** Called with the matrices of batch k (if it was not done yet), or with an error. */
  onResult(k: number, mats: Float32Array[]): void;
  onError(err: unknown): void;
}

interface WorkerError { name: string; message: string; file?: string; field?: string }
interface Reply { job: number; batch: number; buffers?: ArrayBuffer[]; error?: WorkerError }

// Workers do not inherit tsx's loader (neither `--import tsx` nor bin/bie.js's register()), so each one
// registers it before importing the TypeScript worker module.
function bootstrap(): string {
  const worker = new URL("./pipeline-worker.ts", import.meta.url).href;
  return `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})
    .then((m) => { m.register(); return import(${JSON.stringify(worker)}); })`;
}

class ShapeWorkers {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly jobs = new Map<number, Job>();
  private readonly holding = new Map<Worker, { job: number; batch: number }>();
  private nextJob = 0;
  private closing = false;

  get size(): number { return this.workers.length; }

  grow(count: number): void {
    while (this.workers.length < count) {
      // workerData must be an object: geotiff's web-worker dependency otherwise thinks it *is* this worker.
      const w = new Worker(bootstrap(), { eval: true, execArgv: [], workerData: {} });
      w.unref();
      w.on("message", (m: Reply) => this.onReply(w, m));
      w.on("error", (e) => this.broken(w, e));
      w.on("exit", (code) => { if (!this.closing) this.broken(w, new Error(`shape worker exited with code ${code}`)); });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  submit(job: Job): number {
    const id = this.nextJob++;
    this.jobs.set(id, job);
    this.dispatch();
    return id;
  }

  /** The job is finished or abandoned: stop handing out its batches and ignore late replies. */
  release(id: number): void {
    this.jobs.delete(id);
  }

  private dispatch(): void {
    while (this.idle.length > 0) {
      let found: [number, Job, number] | null = null;
      for (const [id, job] of this.jobs) {
        const k = job.batches.findIndex((b) => b.state === "pending");
        if (k >= 0) { found = [id, job, k]; break; }
      }
      if (!found) return;
      const [id, job, k] = found;
      const w = this.idle.pop()!;
      job.batches[k].state = "assigned";
      this.holding.set(w, { job: id, batch: k });
      w.ref();
      w.postMessage({ job: id, batch: k, paths: job.paths.slice(job.batches[k].start, job.batches[k].end), opts: job.opts });
    }
  }

  private onReply(w: Worker, m: Reply): void {
    this.holding.delete(w);
    w.unref();
    this.idle.push(w);
    const job = this.jobs.get(m.job);
    if (job) {
      if (m.error) job.onError(rebuildError(m.error));
      else job.onResult(m.batch, m.buffers!.map((b) => new Float32Array(b)));
    }
    this.dispatch();
  }

  /** A worker died: its job fails (the error says why), the pool forgets it and grows again next time. */
  private broken(w: Worker, err: unknown): void {
    const held = this.holding.get(w);
    this.holding.delete(w);
    const drop = (list: Worker[]) => { const i = list.indexOf(w); if (i >= 0) list.splice(i, 1); };
    drop(this.workers);
    drop(this.idle);
    if (held) this.jobs.get(held.job)?.onError(err);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }
}

let pool: ShapeWorkers | null = null;

/** The process-wide pool, grown to at least `count` workers. */
export function shapeWorkers(count: number): ShapeWorkers {
  if (!pool) pool = new ShapeWorkers();
  pool.grow(count);
  return pool;
}

/** Ends the worker threads (tests, or a long-lived process that is done with shapes). */
export async function closeShapeWorkers(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.close();
}

/** Turns a worker's serialised error back into the same tagged error class. */
function rebuildError(e: WorkerError): Error {
  if (e.name === "BadInputError" && e.file !== undefined) return new BadInputError(e.file, e.message.slice(e.file.length + 2));
  if (e.name === "ConfigError" && e.field !== undefined) return new ConfigError(e.field, e.message.replace(/^config field '[^']*': /, ""));
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
