// `bie queue embed|sweep`: turn an embedding into shard jobs, a sweep into trial jobs, and put them on the queue.
// Re-running either adds only what is missing (job ids), so it is also how to top up after losing Redis data.
import { resolve } from "node:path";
import { listItems } from "../data/index.ts";
import { BieError } from "../errors.ts";
import { defaultEmbedOut, runConfig } from "./embed-shard.ts";
import { addJobs, groupId, openQueue, recordGroup, retryFailed, type JobData, type RetryOptions } from "./queue.ts";
import { prepareSweep } from "./sweep-run.ts";
import { readTrialStates } from "./sweep-state.ts";
import { pendingWork } from "./sweep-work.ts";

export interface QueueTarget {
  redis: string;
  queue?: string;
  retry?: RetryOptions;
}

/** Default shard size: big enough that per-job overhead (a model load) is small, small enough to spread. */
export const ITEMS_PER_SHARD = 1000;

export async function queueEmbed(o: QueueTarget & { run: string; overrides: string[]; out?: string; shards?: number; partSize?: number }) {
  const run = resolve(o.run);
  const cfg = runConfig(run, o.overrides);
  const out = o.out ? resolve(o.out) : await defaultEmbedOut(run, cfg);
  const shards = o.shards ?? Math.max(1, Math.ceil(listItems(cfg.data).items.length / ITEMS_PER_SHARD));
  if (!(Number.isInteger(shards) && shards >= 1)) throw new BieError("USAGE", `shards=${o.shards}: expected a positive integer`);
  const group = groupId("embed", out);
  const jobs: JobData[] = Array.from({ length: shards }, (_, index) => ({ kind: "embed", group, cwd: process.cwd(), run, overrides: o.overrides, out, shard: { index, count: shards }, partSize: o.partSize }));
  const q = openQueue(o.redis, o.queue);
  let retried = 0;
  try {
    await addJobs(q, jobs, o.retry);
    retried = await retryFailed(q, [...jobs, { kind: "merge", group, cwd: process.cwd(), out, count: shards }]);
    await recordGroup(q, group, { kind: "embed", path: out, jobs: shards, created: new Date().toISOString() });
  } finally {
    await q.close();
  }
  return { group, out, shards, retried };
}

export async function queueSweep(o: QueueTarget & { spec: string; out?: string }) {
  const plan = await prepareSweep(o.spec, o.out);
  const group = groupId("sweep", plan.dir);
  const work = pendingWork(plan, await readTrialStates(plan));
  const jobs: JobData[] = work.map((w) => ({ kind: "trial", group, cwd: process.cwd(), sweepDir: plan.dir, trial: w.trial, rung: w.rung }));
  const q = openQueue(o.redis, o.queue);
  let retried = 0;
  try {
    await addJobs(q, jobs, o.retry);
    retried = await retryFailed(q, jobs);
    await recordGroup(q, group, { kind: "sweep", path: plan.dir, jobs: plan.trials.length, created: new Date().toISOString() });
  } finally {
    await q.close();
  }
  return { group, dir: plan.dir, trials: plan.trials.length, rungs: plan.rungs, queued: jobs.length, retried };
}
