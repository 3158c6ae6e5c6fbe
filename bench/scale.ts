// Scale-out throughput: images/s of a sharded embedding through the real queue path (redis-server, BullMQ,
// `bie worker` processes with sandboxes, one engine thread each) with one worker and with two, alternating the
// two (this machine is shared and noisy) and taking medians. Time is measured from Redis's own job timestamps:
// first shard started → last shard finished (the merge is left out; it is one job whatever the worker count).
// Also records the per-image and per-job costs that bench/scale-sim.ts extrapolates from. The reference, measured in
// the same run, is what the machine gives two one-thread processes of plain PyTorch (bench/scale_torch.py):
// `ratio` is our speedup over that one.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Job } from "bullmq";
import { openQueue, type JobData } from "../src/distributed/queue.ts";
import { queueEmbed } from "../src/distributed/queue-submit.ts";
import { resolveConfig } from "../src/config/index.ts";
import { trainFromConfig } from "../src/train/index.ts";
import { jurkatManifest, spawnBie, startRedis, waitFor, type BieProc } from "../test/scale-helpers.ts";
import { median, round, runJsonLines, sharedDir, writeResult } from "./common.ts";

/** The reference: PyTorch's own encoder in one, then two concurrent one-thread processes (bench/scale_torch.py). */
async function torchPair(size: number): Promise<{ one: number; two: number }> {
  const run = (startAt: number) =>
    runJsonLines("/usr/bin/python3", ["bench/scale_torch.py", "--anchors", `${sharedDir}anchors`, "--size", String(size), "--seconds", "8", "--start-at", String(startAt)], { OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" }).then((r) => r[0].img_s as number);
  const one = await run(0);
  const at = Date.now() / 1000 + 8; // both copies import torch and warm up first, then time the same window
  const [a, b] = await Promise.all([run(at), run(at)]);
  return { one, two: a + b };
}

interface Trial {
  workers: number;
  img_s: number;
  wall_s: number;
  /** Per shard job: images, seconds in the job, CPU seconds its sandbox used. */
  jobs: { images: number; seconds: number; cpu_s: number }[];
  /** Pure embedding rates embedRun reported (model load excluded). */
  rates: number[];
}

export default async function scaleBench(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const arg = (k: string, d: number) => Number(args.find((a) => a.startsWith(`--${k}=`))?.split("=")[1] ?? d);
  const repeats = arg("repeats", quick ? 1 : 3);
  // 1,920 images per shard by default, as in a real archive run: each worker process pays a fixed start (its first
  // model load, V8's and oneDNN's compilation of the hot code), which a run of a few seconds cannot amortise
  // (--images=1920 or 7680 show it: 1.54× and 1.81×).
  const images = arg("images", quick ? 480 : 15360);
  const shards = arg("shards", 8);
  const size = arg("size", 64);
  const work = mkdtempSync(join(tmpdir(), "bie-bench-scale-"));
  mkdirSync(join(work, "redis"));
  const redis = await startRedis(join(work, "redis"));
  const procs: BieProc[] = [];
  const cleanup = () => {
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  };
  // Interrupted: take the workers and redis-server down with us (workers' sandboxes follow their parents).
  process.once("SIGINT", () => void (cleanup(), redis.stop("SIGKILL").finally(() => process.exit(130))));
  try {
    // A resnet18_ae at size×size, trained for one epoch on a few cells: its weights only need to exist.
    const train = jurkatManifest(join(work, "train.csv"), 24);
    const common = ["model=resnet18_ae", "latent_dim=64", `data.image_size=${size}`, "batch_size=16", "data.workers=0", "engine.threads=1", "recon_every=100"];
    const { runDir } = await trainFromConfig(resolveConfig({ overrides: [...common, `data.path=${train}`, "epochs=1", `runs_dir=${work}`, "name=bench"] }));
    const manifest = jurkatManifest(join(work, "cells.csv"), images);

    const once = async (workers: number, rep: number): Promise<Trial> => {
      const queue = `b${rep}w${workers}`;
      const ws = Array.from({ length: workers }, (_, i) => {
        const p = spawnBie(["worker", `redis=${redis.url}`, `queue=${queue}`, "threads=1", "idle_exit=true"], join(work, `${queue}_${i}.log`));
        procs.push(p);
        return p;
      });
      // Enqueue only once every sandbox has booted, so start-up is not counted as throughput.
      await waitFor("worker sandboxes", () => ws.every((w) => w.output().includes("ready")), 120_000);
      await queueEmbed({ redis: redis.url, queue, run: runDir, overrides: [`data.path=${manifest}`], out: join(work, queue), shards });
      await Promise.all(ws.map((w) => w.exited));
      const q = openQueue(redis.url, queue);
      try {
        const jobs = ((await q.getJobs("completed", 0, -1)) as Job<JobData>[]).filter((j) => j.data.kind === "embed");
        if (jobs.length !== shards) throw new Error(`${queue}: ${jobs.length} of ${shards} shards completed; see ${work}`);
        const t0 = Math.min(...jobs.map((j) => j.processedOn!)), t1 = Math.max(...jobs.map((j) => j.finishedOn!));
        const rates = [...ws.map((w) => w.output()).join("\n").matchAll(/embedded \d+ items .*?, (\d+) img\/s\)/g)].map((m) => Number(m[1]));
        const perJob = jobs.map((j) => ({ images: (j.returnvalue as { rows: number }).rows, seconds: (j.finishedOn! - j.processedOn!) / 1000, cpu_s: (j.returnvalue as { cpu_s: number }).cpu_s }));
        return { workers, img_s: images / ((t1 - t0) / 1000), wall_s: (t1 - t0) / 1000, jobs: perJob, rates };
      } finally {
        await q.close();
      }
    };

    const runs: Trial[] = [];
    const load: number[] = [];
    const torch: { one: number; two: number }[] = [];
    for (let r = 0; r < repeats; r++) {
      torch.push(await torchPair(size));
      console.error(`repeat ${r + 1}/${repeats}, pytorch reference: one ${torch[r].one} img/s, two ${round(torch[r].two, 1)} img/s`);
      for (const w of r % 2 ? [2, 1] : [1, 2]) {
        load.push(loadavg()[0]);
        const t = await once(w, r);
        runs.push(t);
        console.error(`repeat ${r + 1}/${repeats}, ${w} worker(s): ${t.img_s.toFixed(1)} img/s (${t.wall_s.toFixed(1)} s, load ${load.at(-1)!.toFixed(1)})`);
      }
    }
    const pick = (w: number) => median(runs.filter((t) => t.workers === w).map((t) => t.img_s));
    const one = pick(1), two = pick(2);
    const torchOne = median(torch.map((t) => t.one)), torchTwo = median(torch.map((t) => t.two));
    const torchSpeedup = median(torch.map((t) => t.two / t.one));
    // Images per CPU-second of the sandboxes: equal for 1 and 2 workers means running in parallel costs no extra
    // work, so on an otherwise idle machine the wall-clock speedup is bounded only by free cores.
    const perCpu = (w: number) => median(runs.filter((t) => t.workers === w).map((t) => t.jobs.reduce((a, j) => a + j.images, 0) / t.jobs.reduce((a, j) => a + j.cpu_s, 0)));
    // Per-image compute and per-job overhead (model load, manifest listing, writing the shard) from one worker.
    const single = runs.filter((t) => t.workers === 1);
    const perImage = median(single.flatMap((t) => t.rates).map((r) => 1 / r));
    const overhead = median(single.flatMap((t) => t.jobs).map((j) => j.seconds - j.images * perImage));
    // The same costs on a core of its own: wall-clock times scaled by the share of a core the sandbox got.
    const share = median(single.flatMap((t) => t.jobs).map((j) => j.cpu_s / j.seconds));
    const result = {
      note: "images/s through redis-server + BullMQ + `bie worker` processes (threads=1 each), first shard start → last shard end; median over repeats, 1 and 2 workers alternated",
      one: round(one, 1),
      two: round(two, 1),
      speedup2: round(two / one, 3),
      // What the machine itself gives two one-thread processes: PyTorch's encoder alone vs two copies at once.
      reference: { engine: "pytorch (bench/scale_torch.py, anchor encoder, batch 64, no queue)", one: round(torchOne, 1), two: round(torchTwo, 1), speedup2: round(torchSpeedup, 3) },
      ratio: round(two / one / torchSpeedup, 3),
      img_per_cpu_s: { one: round(perCpu(1), 1), two: round(perCpu(2), 1), ratio: round(perCpu(2) / perCpu(1), 3) },
      images,
      shards,
      image_size: size,
      model: "resnet18_ae (latent 64)",
      repeats,
      cpus: availableParallelism(),
      load_avg_1m: load.map((l) => round(l, 2)),
      per_image_s: round(perImage, 5),
      per_job_overhead_s: round(overhead, 3),
      core_share: round(share, 3),
      per_image_cpu_s: round(perImage * share, 5),
      per_job_overhead_cpu_s: round(overhead * share, 3),
      runs: runs.map((t) => ({ workers: t.workers, img_s: round(t.img_s, 1), wall_s: round(t.wall_s, 2) })),
    };
    const file = await writeResult("scale", result);
    console.log(JSON.stringify(result, null, 2));
    console.log(`wrote ${file}`);
  } finally {
    cleanup();
    await redis.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
