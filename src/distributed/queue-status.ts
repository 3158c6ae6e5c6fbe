// `bie queue status`: job counts, connected workers, and per embedding / sweep how far it has got, with the
// progress of running jobs. Reads Redis only (and a sweep's sweep.json for the best trial so far, when visible).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "bullmq";
import { openQueue, readGroups, type GroupInfo, type JobData } from "./queue.ts";

const STATES = ["active", "waiting", "prioritized", "delayed", "waiting-children", "completed", "failed"] as const;
type State = (typeof STATES)[number];

export interface GroupStatus extends GroupInfo {
  id: string;
  counts: Record<State, number>;
  running: { id: string; name: string; progress: string }[];
  merged?: boolean;
  best?: { trial: number; best_val_loss: number } | null;
}

export interface QueueStatus {
  queue: string;
  counts: Record<string, number>;
  workers: string[];
  groups: GroupStatus[];
}

/** Per-group detail reads up to this many jobs per state; counts above it are still exact. */
const DETAIL_LIMIT = 5000;

export async function queueStatus(redis: string, name?: string): Promise<QueueStatus> {
  const q = openQueue(redis, name);
  try {
    const counts = await q.getJobCounts(...STATES);
    const workers = (await q.getWorkers()).map((w) => String(w.name ?? w.addr ?? "?"));
    const groups = await readGroups(q);
    const byGroup = new Map<string, GroupStatus>();
    for (const [id, info] of groups) byGroup.set(id, { id, ...info, counts: Object.fromEntries(STATES.map((s) => [s, 0])) as Record<State, number>, running: [] });
    for (const state of STATES) {
      const jobs = (await q.getJobs(state, 0, DETAIL_LIMIT - 1)) as Job<JobData>[];
      for (const job of jobs) {
        const g = job?.data && byGroup.get(job.data.group);
        if (!g) continue;
        if (job.data.kind === "merge") {
          if (state === "completed") g.merged = true;
          continue;
        }
        g.counts[state]++;
        if (state === "active") g.running.push({ id: String(job.id), name: job.name, progress: progressText(job.progress) });
      }
    }
    for (const g of byGroup.values()) if (g.kind === "sweep") g.best = bestOf(g.path);
    return { queue: q.name, counts, workers, groups: [...byGroup.values()] };
  } finally {
    await q.close();
  }
}

function progressText(p: unknown): string {
  const o = p as { done?: number; total?: number } | number;
  if (typeof o === "number") return `${Math.round(o)}%`;
  return o && o.total ? `${Math.round((100 * (o.done ?? 0)) / o.total)}%` : "";
}

function bestOf(dir: string): GroupStatus["best"] {
  const f = join(dir, "sweep.json");
  if (!existsSync(f)) return null;
  try {
    const s = JSON.parse(readFileSync(f, "utf8")) as { best?: { trial: number; best_val_loss: number } | null };
    return s.best ? { trial: s.best.trial, best_val_loss: s.best.best_val_loss } : null;
  } catch {
    return null;
  }
}

export function formatQueueStatus(s: QueueStatus): string {
  const c = s.counts;
  const lines = [
    `queue '${s.queue}': ${c.active} running, ${c.waiting + c.prioritized} waiting, ${c.delayed} delayed (retry backoff), ${c.completed} done, ${c.failed} failed; ${s.workers.length} worker connection(s)`,
  ];
  for (const g of s.groups) {
    const k = g.counts;
    const total = g.kind === "embed" ? g.jobs : k.completed + k.active + k.waiting + k.prioritized + k.delayed + k.failed;
    const what = g.kind === "embed" ? `shards ${k.completed}/${total} done` : `trial jobs ${k.completed} done`;
    const extra =
      g.kind === "embed"
        ? `; merge ${g.merged ? "done" : k.completed === g.jobs ? "queued" : "after the last shard"}`
        : `; ${g.jobs} trials${g.best ? `, best so far trial ${g.best.trial} (val ${g.best.best_val_loss.toPrecision(4)})` : ""}`;
    lines.push(`${g.kind} ${g.path}: ${what}, ${k.active} running, ${k.waiting + k.prioritized} waiting, ${k.delayed} delayed, ${k.failed} failed${extra}`);
    for (const r of g.running) lines.push(`  running ${r.name} ${r.progress}`.trimEnd());
  }
  return lines.join("\n") + "\n";
}
