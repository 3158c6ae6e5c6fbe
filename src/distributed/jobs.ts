// The body of every queued job, run inside a worker's sandbox process: embed a shard, merge an embedding, or train
// a trial to a rung. Each returns the jobs it makes due (the merge once the last shard is done, ASHA promotions),
// which the worker enqueues; job ids make those additions idempotent.
import { existsSync } from "node:fs";
import { embedShard } from "./embed-shard.ts";
import { releaseKeptModel } from "../train/index.ts";
import { allShardsDone, mergeShards } from "./merge.ts";
import type { JobData } from "./queue.ts";
import { readPlan, readTrialStates } from "./sweep-state.ts";
import { summarizeSweep } from "./sweep-summary.ts";
import { pendingWork } from "./sweep-work.ts";
import { runTrial } from "./trial.ts";
import { TrialBusyError } from "./trial-lock.ts";

export interface JobContext {
  /** Engine threads for embedding (with in-process decoding); unset: the run's own settings. */
  threads?: number;
  onProgress: (done: number, total: number) => void;
  onLog: (line: string) => void;
}

export interface JobOutcome {
  result: Record<string, unknown>;
  followUps: JobData[];
  /** Another process holds the trial: try again later, it is not a failure. */
  busy?: boolean;
}

export async function runJob(d: JobData, ctx: JobContext): Promise<JobOutcome> {
  const cpu0 = process.cpuUsage();
  const out = await runJobBody(d, ctx);
  const cpu = process.cpuUsage(cpu0); // all threads of the sandbox: what the job cost, whatever else the machine ran
  out.result.cpu_s = Math.round((cpu.user + cpu.system) / 1e3) / 1e3;
  return out;
}

async function runJobBody(d: JobData, ctx: JobContext): Promise<JobOutcome> {
  if (existsSync(d.cwd)) process.chdir(d.cwd); // relative paths in configs mean what they meant to the enqueuer
  if (d.kind === "embed") {
    const threads = ctx.threads ? [`engine.threads=${ctx.threads}`, "data.workers=0"] : [];
    // The sandbox lives on between jobs, so the next shard of this run reuses the model loaded here.
    const r = await embedShard(d.run, [...d.overrides, ...threads], { shard: d.shard, out: d.out, partSize: d.partSize, onProgress: ctx.onProgress, onLog: ctx.onLog, keepModel: true });
    const last = await allShardsDone(d.out, d.shard.count);
    return { result: { rows: r.rows, dim: r.dim, skipped: r.skipped }, followUps: last ? [{ kind: "merge", group: d.group, cwd: d.cwd, out: d.out, count: d.shard.count }] : [] };
  }
  releaseKeptModel(); // other jobs need the memory more than a model for a shard that may not come
  if (d.kind === "merge") {
    const r = await mergeShards(d.out, { onLog: ctx.onLog });
    return { result: { rows: r.rows, dim: r.dim, shards: r.shards }, followUps: [] };
  }
  const plan = await readPlan(d.sweepDir);
  try {
    const s = await runTrial(plan, d.trial, d.rung, {
      onLog: ctx.onLog,
      onProgress: (p) => ctx.onProgress((p.epoch - 1) * p.steps + p.step, p.epochs * p.steps),
    });
    const states = await readTrialStates(plan);
    // Bottom-rung jobs were all enqueued up front; promotions are what this result may have made due.
    const promos = pendingWork(plan, states).filter((w) => w.rung > 0);
    await summarizeSweep(plan);
    return {
      result: { trial: d.trial, rung: d.rung, status: s.status, val_loss: s.losses[d.rung] ?? null },
      followUps: promos.map((w) => ({ kind: "trial", group: d.group, cwd: d.cwd, sweepDir: d.sweepDir, trial: w.trial, rung: w.rung })),
    };
  } catch (e) {
    if (e instanceof TrialBusyError) return { result: { busy: e.message }, followUps: [], busy: true };
    throw e;
  }
}
