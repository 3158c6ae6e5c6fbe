// What 50 workers would do with the original 110k-image (1.2 TB) archive, extrapolated from the costs measured by
// `npm run bench -- scale` (bench/results/scale.json): a seeded discrete-event simulation of the queue — workers
// pulling shard jobs, per-job jitter, workers dying (their job comes back after the lock expires and resumes from
// its finished parts) — giving the expected wall time, worker utilisation, and the Redis load it implies.
import { existsSync, readFileSync } from "node:fs";
import { Rng, hash32 } from "../src/data/index.ts";
import { repoRoot, round, writeResult } from "./common.ts";

interface Costs {
  perImageS: number;
  perJobOverheadS: number;
  source: string;
}

interface SimOptions {
  workers: number;
  images: number;
  shardSize: number;
  partSize: number;
  /** Worker deaths per worker-hour (a dead worker's job is recovered after lock + stalled check). */
  failPerHour: number;
  lockS: number;
  stalledS: number;
  restartS: number;
  jitter: number;
  seed: number;
}

interface SimResult {
  shard_size: number;
  jobs: number;
  wall_h: number;
  ideal_h: number;
  utilisation: number;
  worker_deaths: number;
  jobs_per_s: number;
  redis_cmds_per_s: number;
  redis_peak_cmds_per_s: number;
}

function readCosts(): Costs {
  const f = `${repoRoot}bench/results/scale.json`;
  if (existsSync(f)) {
    const r = JSON.parse(readFileSync(f, "utf8")) as { per_image_cpu_s?: number; per_job_overhead_cpu_s?: number; image_size?: number };
    // CPU-time costs: what a worker with a core of its own pays (the bench machine is shared and loaded).
    if (r.per_image_cpu_s && r.per_job_overhead_cpu_s !== undefined)
      return { perImageS: r.per_image_cpu_s, perJobOverheadS: Math.max(0, r.per_job_overhead_cpu_s), source: `bench/results/scale.json (resnet18_ae ${r.image_size}×${r.image_size}, 1 thread per worker, CPU time)` };
  }
  return { perImageS: 0.02, perJobOverheadS: 2, source: "defaults (run `npm run bench -- scale` first for measured costs)" };
}

/**
 * Redis commands per job in our worker: add, fetch (moveToActive), completion (moveToFinished), a follow-up
 * check, ≤ 1 progress write per second of job time, one lock renewal per lockDuration/2; per worker: a
 * stalled-jobs check per stalledInterval and, while idle, one blocking fetch per drainDelay (5 s).
 */
function redisCommands(jobSeconds: number, lockS: number): number {
  return 4 + Math.ceil(jobSeconds) + Math.ceil(jobSeconds / (lockS / 2));
}

export function simulate(c: Costs, o: SimOptions): SimResult {
  const rng = new Rng(hash32(o.seed, o.shardSize, o.workers));
  const jobs: { images: number; done: number }[] = [];
  for (let i = 0; i < o.images; i += o.shardSize) jobs.push({ images: Math.min(o.shardSize, o.images - i), done: 0 });
  const queue = jobs.map((_, i) => ({ job: i, at: 0 })); // FIFO of (job, ready time)
  const free = Array.from({ length: o.workers }, () => 0); // time each worker is next free
  let cmds = 0, deaths = 0, busy = 0, end = 0;
  const BUCKET = 10; // seconds: Redis commands per 10 s of wall clock, for the peak rate
  const buckets = new Map<number, number>();
  const note = (t0: number, t1: number, n: number) => {
    const b0 = Math.floor(t0 / BUCKET), b1 = Math.floor(t1 / BUCKET);
    for (let b = b0; b <= b1; b++) buckets.set(b, (buckets.get(b) ?? 0) + n / (b1 - b0 + 1));
  };
  const jitter = () => Math.exp(o.jitter * rng.normal() - (o.jitter * o.jitter) / 2); // mean-1 log-normal
  for (let guard = 0; queue.length && guard < 100 * jobs.length + 1000; guard++) {
    queue.sort((a, b) => a.at - b.at);
    const next = queue.shift()!;
    const w = free.indexOf(Math.min(...free));
    const start = Math.max(free[w], next.at);
    const job = jobs[next.job];
    const left = job.images - job.done;
    const dur = (c.perJobOverheadS + left * c.perImageS) * jitter();
    // Time to this worker's death: exponential with the given rate.
    const death = o.failPerHour > 0 ? (-Math.log(1 - rng.next()) / o.failPerHour) * 3600 : Infinity;
    if (death < dur) {
      deaths++;
      const t = start + death;
      const processed = Math.max(0, ((death - c.perJobOverheadS) / dur) * left);
      job.done += Math.floor(processed / o.partSize) * o.partSize; // finished parts survive the crash
      queue.push({ job: next.job, at: t + o.lockS + o.stalledS / 2 }); // lock expires, a stalled check requeues it
      free[w] = t + o.restartS;
      busy += death;
      cmds += redisCommands(death, o.lockS);
      note(start, t, redisCommands(death, o.lockS));
    } else {
      free[w] = start + dur;
      busy += dur;
      end = Math.max(end, start + dur);
      job.done = job.images;
      cmds += redisCommands(dur, o.lockS);
      note(start, start + dur, redisCommands(dur, o.lockS));
    }
  }
  const idlePolls = (o.workers * end) / 5 - busy / 5 + (o.workers * end) / o.stalledS;
  cmds += idlePolls;
  const ideal = (o.images * c.perImageS + jobs.length * c.perJobOverheadS) / o.workers;
  return {
    shard_size: o.shardSize,
    jobs: jobs.length,
    wall_h: round(end / 3600, 3),
    ideal_h: round(ideal / 3600, 3),
    utilisation: round(busy / (o.workers * end), 3),
    worker_deaths: deaths,
    jobs_per_s: round(jobs.length / end, 4),
    redis_cmds_per_s: round(cmds / end, 1),
    redis_peak_cmds_per_s: round(Math.max(...buckets.values()) / Math.min(BUCKET, end) + o.workers / 5 + o.workers / o.stalledS, 1), // upper bound: every worker polling too
  };
}

const fmtTime = (h: number) => (h >= 1 ? `${h.toFixed(2)} h` : `${(h * 60).toFixed(1)} min`);

export default async function scaleSim(args: string[]): Promise<void> {
  const arg = (k: string, d: number) => Number(args.find((a) => a.startsWith(`--${k}=`))?.split("=")[1] ?? d);
  const costs = readCosts();
  const base: SimOptions = {
    workers: arg("workers", 50),
    images: arg("images", 110_000),
    shardSize: 0,
    partSize: arg("part-size", 1024),
    failPerHour: arg("fail-per-hour", 0.05),
    lockS: 30,
    stalledS: 30,
    restartS: 60,
    jitter: 0.2,
    seed: arg("seed", 1),
  };
  const bytesPerImage = (arg("tb", 1.2) * 1e12) / base.images;
  // Scenarios derived from the measurement: as measured (64×64 input), and the same model at 224×224 input
  // (compute grows with pixels, ×12.25), both one CPU thread per worker. Job overhead (model load) is kept.
  // A third adds the storage: 50 workers sharing `--storage-gbps` (default 2 GB/s) for 10.9 MB per image.
  const storage = arg("storage-gbps", 2) * 1e9;
  const at224 = (costs.perImageS * (224 * 224)) / (64 * 64);
  const scenarios = [
    { label: "as measured (64×64 input, 1 thread/worker)", perImageS: costs.perImageS },
    { label: "224×224 input (×12.25 compute), 1 thread/worker", perImageS: at224 },
    { label: `224×224 input, reading from storage shared at ${storage / 1e9} GB/s`, perImageS: Math.max(at224, bytesPerImage / (storage / base.workers)) },
  ];
  const shardSizes = [250, 1000, 2500, 10_000];
  const out = scenarios.map((sc) => {
    const c = { ...costs, perImageS: sc.perImageS };
    const rows = shardSizes.map((shardSize) => simulate(c, { ...base, shardSize }));
    const best = rows.reduce((a, b) => (b.wall_h < a.wall_h ? b : a));
    const imgPerS = base.images / (best.wall_h * 3600);
    return { scenario: sc.label, per_image_s: round(sc.perImageS, 5), rows, best: { shard_size: best.shard_size, wall_h: best.wall_h, images_per_s: round(imgPerS, 1), read_mb_per_s: round((imgPerS * bytesPerImage) / 1e6, 1), jobs_per_s: best.jobs_per_s, redis_cmds_per_s: best.redis_cmds_per_s } };
  });
  const result = {
    note: "discrete-event simulation of `bie worker`s over a BullMQ queue; per-image and per-job costs measured by bench/scale.ts",
    costs: { per_image_s: costs.perImageS, per_job_overhead_s: costs.perJobOverheadS, source: costs.source },
    workers: base.workers,
    images: base.images,
    bytes_per_image: Math.round(bytesPerImage),
    worker_deaths_per_worker_hour: base.failPerHour,
    lock_s: base.lockS,
    scenarios: out,
  };
  const file = await writeResult("scale-sim", result);
  console.log(`costs: ${(costs.perImageS * 1000).toFixed(2)} ms/image, ${costs.perJobOverheadS.toFixed(2)} s/job — ${costs.source}`);
  console.log(`${base.workers} workers, ${base.images} images (${(bytesPerImage / 1e6).toFixed(1)} MB each), ${base.failPerHour} worker deaths per worker-hour, lock ${base.lockS} s`);
  for (const sc of out) {
    console.log(`\n${sc.scenario}: ${(sc.per_image_s * 1000).toFixed(1)} ms/image`);
    console.log("shard   jobs       wall      ideal   util  deaths   jobs/s  redis cmd/s (peak)");
    for (const r of sc.rows)
      console.log(`${String(r.shard_size).padStart(5)} ${String(r.jobs).padStart(6)} ${fmtTime(r.wall_h).padStart(10)} ${fmtTime(r.ideal_h).padStart(10)} ${r.utilisation.toFixed(2).padStart(6)} ${String(r.worker_deaths).padStart(7)} ${r.jobs_per_s.toFixed(3).padStart(8)} ${String(r.redis_cmds_per_s).padStart(8)} (${r.redis_peak_cmds_per_s})`);
    console.log(`best: shards of ${sc.best.shard_size} → ${fmtTime(sc.best.wall_h)}, ${sc.best.images_per_s} img/s, ${sc.best.read_mb_per_s} MB/s read from storage`);
  }
  console.log(`\nwrote ${file}`);
}
