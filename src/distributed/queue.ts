// The Redis + BullMQ side: connection, job kinds and ids, enqueuing. Job ids are derived from what the job does
// (output folder + shard, sweep folder + trial + rung), so enqueuing twice — a re-run of `bie queue embed`, two
// workers promoting the same trial — adds each job once.
import { createHash } from "node:crypto";
import { Queue, type JobsOptions } from "bullmq";
import { BieError } from "../errors.ts";
import type { ShardRef } from "./shard.ts";

export const DEFAULT_REDIS = "redis://127.0.0.1:6379";
export const DEFAULT_QUEUE = "bie";

export type JobData =
  | { kind: "embed"; group: string; cwd: string; run: string; overrides: string[]; out: string; shard: ShardRef; partSize?: number }
  | { kind: "merge"; group: string; cwd: string; out: string; count: number }
  | { kind: "trial"; group: string; cwd: string; sweepDir: string; trial: number; rung: number };

/** What a group of jobs is (an embedding into one folder, a sweep), kept in a Redis hash for `bie queue status`. */
export interface GroupInfo {
  kind: "embed" | "sweep";
  path: string;
  jobs: number;
  created: string;
}

export interface RetryOptions {
  attempts?: number;
  backoffMs?: number;
}

export interface RedisOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
  maxRetriesPerRequest: null;
}

/** redis://[user:pass@]host:port[/db] → connection options (BullMQ workers need maxRetriesPerRequest: null). */
export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BieError("USAGE", `redis=${url}: expected redis://host:port`);
  }
  if (!["redis:", "rediss:"].includes(u.protocol)) throw new BieError("USAGE", `redis=${url}: expected redis://host:port (or rediss:// for TLS)`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname || "127.0.0.1",
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

export const groupId = (kind: "embed" | "sweep", path: string) => `${kind === "embed" ? "e" : "s"}${createHash("sha1").update(path).digest("hex").slice(0, 10)}`;

export function jobId(d: JobData): string {
  if (d.kind === "embed") return `${d.group}-shard-${d.shard.index}-of-${d.shard.count}`;
  if (d.kind === "merge") return `${d.group}-merge`;
  return `${d.group}-trial-${d.trial}-rung-${d.rung}`;
}

export function jobName(d: JobData): string {
  if (d.kind === "embed") return `embed shard ${d.shard.index}/${d.shard.count}`;
  if (d.kind === "merge") return `merge ${d.count} shards`;
  return `trial ${d.trial} rung ${d.rung}`;
}

export function openQueue(redis: string, name = DEFAULT_QUEUE): Queue {
  if (name.includes(":")) throw new BieError("USAGE", `queue=${name}: a queue name cannot contain ':'`);
  return new Queue(name, { connection: redisOptions(redis) });
}

const groupsKey = (q: Queue) => `bie:${q.name}:groups`;

export async function addJobs(q: Queue, jobs: JobData[], retry: RetryOptions = {}): Promise<void> {
  if (jobs.length === 0) return;
  const opts = (d: JobData): JobsOptions => ({
    jobId: jobId(d),
    attempts: retry.attempts ?? 3,
    backoff: { type: "exponential", delay: retry.backoffMs ?? 5000 },
    // ASHA serves promotions first: every trial job is prioritised, higher rungs higher (BullMQ takes
    // un-prioritised jobs before all prioritised ones, so rung 0 must be prioritised too).
    ...(d.kind === "trial" ? { priority: Math.max(1, 100 - d.rung) } : {}),
  });
  await q.addBulk(jobs.map((d) => ({ name: jobName(d), data: d, opts: opts(d) })));
}

/** Put jobs that ran out of attempts back in the queue: re-running an enqueue command repairs a failed run. */
export async function retryFailed(q: Queue, jobs: JobData[]): Promise<number> {
  let n = 0;
  for (const d of jobs) {
    const job = await q.getJob(jobId(d));
    if (job && (await job.getState()) === "failed") {
      await job.retry("failed");
      n++;
    }
  }
  return n;
}

export async function recordGroup(q: Queue, id: string, info: GroupInfo): Promise<void> {
  const client = await q.getBackend().client;
  await client.hset(groupsKey(q), { [id]: JSON.stringify(info) });
}

export async function readGroups(q: Queue): Promise<Map<string, GroupInfo>> {
  const client = await q.getBackend().client;
  const raw = await client.hgetall(groupsKey(q));
  return new Map(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as GroupInfo]));
}
