// A fixed set of worker threads preparing batches. Idle workers are unref'd, so an unclosed pool never keeps
// the process alive; a worker that dies fails its tasks instead of hanging the loader.
import { Worker } from "node:worker_threads";
import type { PrepOptions, BatchResult } from "./prepare.ts";
import { reviveError, type ResultMessage, type TaskMessage } from "./protocol.ts";

interface Pending {
  task: TaskMessage;
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
}

export class WorkerPool {
  private workers: { w: Worker; busy: Pending | null }[] = [];
  private queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number, prep: PrepOptions) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL("./worker-boot.mjs", import.meta.url), { workerData: { prep } });
      const slot = { w, busy: null as Pending | null };
      w.on("message", (m: ResultMessage) => this.finish(slot, m));
      w.on("error", (e) => this.fail(slot, e));
      w.on("exit", (code) => {
        if (!this.closed) this.fail(slot, new Error(`data worker exited unexpectedly (code ${code})`));
      });
      w.unref();
      this.workers.push(slot);
    }
  }

  run(items: TaskMessage["items"], aug: TaskMessage["aug"]): Promise<BatchResult> {
    if (this.closed) return Promise.reject(new Error("worker pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ task: { id: this.nextId++, items, aug }, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.workers) {
      if (slot.busy || this.queue.length === 0) continue;
      const p = this.queue.shift()!;
      slot.busy = p;
      slot.w.ref(); // a task in flight must keep the process alive
      slot.w.postMessage(p.task);
    }
  }

  private finish(slot: { w: Worker; busy: Pending | null }, m: ResultMessage): void {
    const p = slot.busy;
    slot.busy = null;
    slot.w.unref();
    if (p && p.task.id === m.id) {
      if (m.ok) p.resolve({ x: m.x, kept: m.kept, channels: m.channels, skipped: m.skipped });
      else p.reject(reviveError(m.error));
    }
    this.dispatch();
  }

  private fail(slot: { w: Worker; busy: Pending | null }, e: Error): void {
    const p = slot.busy;
    slot.busy = null;
    this.workers = this.workers.filter((s) => s !== slot);
    p?.reject(e);
    if (this.workers.length === 0) for (const q of this.queue.splice(0)) q.reject(e);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error("worker pool closed"));
    await Promise.all(this.workers.map((s) => s.w.terminate()));
    this.workers = [];
  }
}
