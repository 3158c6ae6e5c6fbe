// A small pool of worker threads that grow trees in parallel. Created on first use and kept for the life of
// the process (unref'd while idle, so it never keeps the process alive); closeForestPool() ends it.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import type { TrainingSet, Tree } from "./tree.ts";
import type { BuildReply, BuildRequest } from "./worker.ts";

const workerUrl = new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url);

/** Worker source: when we run as TypeScript through tsx, the worker must register tsx itself first. */
function bootstrap(): string {
  if (!workerUrl.pathname.endsWith(".ts")) return `import(${JSON.stringify(workerUrl.href)})`;
  const tsxApi = import.meta.resolve("tsx/esm/api");
  return `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
}

interface Job { trees: Tree[]; pending: number; next: number; chunk: number; req: Omit<BuildRequest, "first" | "seeds">; seeds: number[]; resolve: (t: Tree[]) => void; reject: (e: Error) => void }

export class ForestPool {
  private readonly workers: Worker[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextJob = 0;
  private broken: Error | null = null;
  private closing = false;

  constructor(readonly size: number) {
    const src = bootstrap();
    for (let i = 0; i < size; i++) {
      const w = new Worker(src, { eval: true });
      w.unref();
      w.on("message", (m: BuildReply) => this.onReply(w, m));
      w.on("error", (e) => this.fail(e));
      w.on("exit", (code) => { if (!this.closing) this.fail(new Error(`forest worker exited with code ${code}`)); });
      this.workers.push(w);
    }
  }

  get usable(): boolean { return this.broken === null; }

  buildTrees(ts: TrainingSet, seeds: number[], maxFeatures: number): Promise<Tree[]> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      const id = this.nextJob++;
      // Small chunks balance the load; a few per worker keeps messaging cheap.
      const chunk = Math.max(1, Math.ceil(seeds.length / (this.size * 4)));
      const job: Job = { trees: new Array(seeds.length), pending: 0, next: 0, chunk, req: { job: id, maxFeatures, ts }, seeds, resolve, reject };
      this.jobs.set(id, job);
      for (const w of this.workers) w.ref();
      for (const w of this.workers) this.dispatch(w, job);
      if (job.pending === 0) this.finish(id, job);
    });
  }

  private dispatch(w: Worker, job: Job): boolean {
    if (job.next >= job.seeds.length) return false;
    const first = job.next;
    job.next = Math.min(job.seeds.length, first + job.chunk);
    job.pending++;
    w.postMessage({ ...job.req, first, seeds: job.seeds.slice(first, job.next) } satisfies BuildRequest);
    return true;
  }

  private onReply(w: Worker, m: BuildReply): void {
    const job = this.jobs.get(m.job);
    if (!job) return;
    job.pending--;
    if (m.error) { this.jobs.delete(m.job); this.idle(); job.reject(new Error(`forest worker failed: ${m.error}`)); return; }
    m.trees!.forEach((t, i) => (job.trees[m.first + i] = t));
    this.dispatch(w, job);
    if (job.pending === 0) this.finish(m.job, job);
  }

  private finish(id: number, job: Job): void {
    this.jobs.delete(id);
    this.idle();
    job.resolve(job.trees);
  }

  private idle(): void {
    if (this.jobs.size === 0 && !this.closing) for (const w of this.workers) w.unref();
  }

  private fail(e: Error): void {
    this.broken ??= e;
    for (const job of this.jobs.values()) job.reject(e);
    this.jobs.clear();
    this.idle();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.broken ??= new Error("forest pool closed");
    for (const job of this.jobs.values()) job.reject(this.broken);
    this.jobs.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

let shared: ForestPool | null = null;

/** The process-wide pool with `size` workers (recreated if the size changes or a worker died). */
export function forestPool(size: number): ForestPool {
  if (!shared || !shared.usable || shared.size !== size) {
    void shared?.close();
    shared = new ForestPool(size);
  }
  return shared;
}

export async function closeForestPool(): Promise<void> {
  const p = shared;
  shared = null;
  await p?.close();
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}
