// Faults on the Redis + BullMQ path, all on loopback with real workers (child processes) and a real redis-server:
// a worker SIGKILLed twice mid-job, and Redis itself killed and restarted mid-run. Either way the merged embedding
// has every item exactly once and is byte-identical to a single-process `bie embed`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { embedShard } from "../src/distributed/embed-shard.ts";
import { queueEmbed } from "../src/distributed/queue-submit.ts";
import { queueStatus } from "../src/distributed/queue-status.ts";
import { readNpy } from "../src/io/npy.ts";
import { alive, jurkatManifest, spawnBie, startRedis, trainTinyRun, waitFor, type BieProc, type TestRedis } from "./scale-helpers.ts";
import { tempDir } from "./temp-dir.ts";

const N = 2000;
const work = tempDir("scale-queue");
const ref = join(work, "ref");
let redis: TestRedis;
let run = "";
let big = "";
const workers: BieProc[] = [];

before(async () => {
  mkdirSync(join(work, "redis"));
  redis = await startRedis(join(work, "redis"));
  // 64×64 inputs, not the tiny 32: with the model kept between jobs a 32-pixel shard takes a fraction of a second,
  // and the two other workers would finish the queue before a restarted worker could be caught mid-job.
  run = await trainTinyRun(work, "tiny", ["data.image_size=64"]);
  big = jurkatManifest(join(work, "cells_2000.csv"), N);
  await embedShard(run, [`data.path=${big}`], { out: ref }); // single process, all N items
});

after(async () => {
  for (const w of workers) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
  await redis?.stop();
  if (!process.env.BIE_KEEP_TEST_DIRS) rmSync(work, { recursive: true, force: true });
});

// Short locks so a dead worker's job is recovered in seconds (the default is 30 s).
const workerArgs = (queue: string) => ["worker", `redis=${redis.url}`, `queue=${queue}`, "threads=1", "lock_ms=3000", "stalled_ms=1000"];
let logNo = 0;
const startWorker = (queue: string) => {
  const w = spawnBie(workerArgs(queue), join(work, `worker_${queue}_${++logNo}.log`));
  workers.push(w);
  return w;
};

/** The job a worker is running right now, once it has written part of its output (so a kill lands mid-job). */
function midJob(w: BieProc, out: string): { job: string; dir: string; pid: number } | null {
  const starts = [...w.output().matchAll(/started (\S+-shard-(\d+)-of-(\d+)) .* in sandbox pid (\d+)/g)];
  const last = starts.at(-1);
  if (!last) return null;
  const dir = join(out, "shards", `shard_${last[2]}_of_${last[3]}`);
  const parts = existsSync(join(dir, "parts")) ? readdirSync(join(dir, "parts")).filter((f) => f.endsWith(".npy")) : [];
  return parts.length > 0 && !existsSync(join(dir, "DONE.json")) ? { job: last[1], dir, pid: Number(last[4]) } : null;
}

async function stopAll(): Promise<void> {
  for (const w of workers) if (w.proc.exitCode === null) w.proc.kill("SIGTERM");
  await Promise.all(workers.map((w) => w.exited));
}

const starts = (job: string) => workers.reduce((n, w) => n + [...w.output().matchAll(new RegExp(`started ${job} `, "g"))].length, 0);

test(`${N} images on 3 workers, one SIGKILLed twice mid-job: N rows, no duplicates, same bytes as one process`, { timeout: 600_000 }, async () => {
  const out = join(work, "killed");
  await queueEmbed({ redis: redis.url, queue: "embed1", run, overrides: [`data.path=${big}`], out, shards: 24, partSize: 20, retry: { attempts: 3, backoffMs: 500 } });
  let victim = startWorker("embed1");
  startWorker("embed1");
  startWorker("embed1");
  const killed: string[] = [];
  for (let k = 0; k < 2; k++) {
    const w = victim;
    const at = await waitFor(`worker ${k + 1} to be mid-job`, () => midJob(w, out), 240_000, 50);
    w.proc.kill("SIGKILL");
    await w.exited;
    killed.push(at.job);
    victim = startWorker("embed1"); // back to three workers
    // Its sandbox process notices the parent is gone and exits: no orphan keeps computing.
    await waitFor(`sandbox ${at.pid} to exit after its worker was killed`, () => !alive(at.pid), 60_000);
  }
  await waitFor("the merged embedding", () => existsSync(join(out, "merged.json")), 400_000, 250);

  const merged = await readNpy(join(out, "embeddings.npy"));
  assert.deepEqual(merged.shape, [N, 16]);
  const ids = readFileSync(join(out, "index.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(",")[1]);
  assert.equal(ids.length, N);
  assert.equal(new Set(ids).size, N, "no item twice");
  for (const f of ["embeddings.npy", "embeddings.parquet", "index.csv"]) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(ref, f))), `${f} differs from the single-process run`);

  for (const job of killed) assert.ok(starts(job) >= 2, `${job} was picked up again after its worker died`);
  const s = await queueStatus(redis.url, "embed1");
  assert.equal(s.counts.failed, 0);
  assert.equal(s.counts.completed, 25, "24 shards + the merge");
  assert.equal(s.groups[0].merged, true);
  await stopAll();
});

test("Redis killed and restarted mid-run (appendonly): the run completes, nothing lost", { timeout: 600_000 }, async () => {
  const n = 600;
  const small = jurkatManifest(join(work, "cells_600.csv"), n); // the first 600 items of the 2,000
  const out = join(work, "redis_restart");
  await queueEmbed({ redis: redis.url, queue: "embed2", run, overrides: [`data.path=${small}`], out, shards: 6, partSize: 50, retry: { attempts: 3, backoffMs: 500 } });
  const a = startWorker("embed2"), b = startWorker("embed2");
  await waitFor("a finished shard and one under way", () => existsSync(join(out, "shards")) && readdirSync(join(out, "shards")).some((d) => existsSync(join(out, "shards", d, "DONE.json"))) && (midJob(a, out) || midJob(b, out)), 240_000, 50);
  await redis.stop("SIGKILL");
  await new Promise((r) => setTimeout(r, 1500)); // workers see the connection drop and start reconnecting
  await redis.start();
  await waitFor("the merged embedding after the restart", () => existsSync(join(out, "merged.json")), 400_000, 250);

  const merged = await readNpy(join(out, "embeddings.npy"));
  const full = await readNpy(join(ref, "embeddings.npy"));
  assert.deepEqual(merged.shape, [n, 16]);
  assert.deepEqual(Array.from(merged.data as Float32Array), Array.from((full.data as Float32Array).subarray(0, n * 16)), "values identical to the single-process run");
  const refRows = readFileSync(join(ref, "index.csv"), "utf8").split("\n").slice(0, n + 1).join("\n") + "\n";
  assert.equal(readFileSync(join(out, "index.csv"), "utf8"), refRows);
  const s = await queueStatus(redis.url, "embed2");
  assert.equal(s.counts.failed, 0);
  assert.equal(s.counts.completed, 7, "6 shards + the merge, all still known to Redis after the restart");
  assert.match(a.output() + b.output(), /ECONNREFUSED|Connection is closed/, "the workers did see Redis go away");
  await stopAll();
});
