// Data-parallel benchmark: images/s of 2 ranks × 1 thread vs 1 process × 1 thread (each process the same
// per-rank batch, so 2 ranks train a twice larger global batch per step), and the time of one full-gradient
// all-reduce (ResNet18 autoencoder) beside the step time. Alternates the two setups and takes medians over
// repeats, as these machines are shared and noisy.
//   npm run bench -- ddp [--repeats=N] [--batch=64,32,16] [--bucket-mb=25] [--overlap=1] [--quick]
import { readFileSync } from "node:fs";
import { freePort } from "../src/distributed/ddp-launch.ts";
import { median, runJsonLines, writeResult, round } from "./common.ts";

type Row = { kind: string; world: number; rank: number; img_s: number; step_ms: number; cpu_ms: number; allreduce_ms: number | null; allreduce_cpu_ms: number | null; params: number; grad_mb: number; overlapped_buckets: number };

export default async function ddpBench(args: string[]): Promise<void> {
  const opt = (k: string, d: string) => args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
  const quick = args.includes("--quick");
  const repeats = Number(opt("repeats", quick ? "1" : "3"));
  // Per-rank batches; the first is the headline. Data parallelism pays when a rank's compute dwarfs the
  // all-reduce. On 2 cores the ranks' Gloo threads (≈37 ms CPU per step each) have no spare core to run on, so
  // they take time from compute: 64 rows per rank (a 1.3 s step) hide it, 32 and 16 show the cost.
  const batches = opt("batch", quick ? "64" : "64,32,16").split(",");
  const worker = (batch: string, env: Record<string, string>) =>
    runJsonLines(
      process.execPath,
      ["--import", "tsx", "bench/ddp-worker.ts", "--batch", batch, "--threads", "1", "--steps", quick ? "3" : "5", "--warmup", "1", "--bucket-mb", opt("bucket-mb", "25"), "--overlap", opt("overlap", "1")],
      env,
    ) as Promise<Row[]>;

  // pair: two independent single processes at once — what two cores give this machine right now without any
  // communication; two / pair is data parallelism's own efficiency, whatever else the machine is running.
  const rows: Record<string, { one: Row[]; two: Row[]; pair: number[] }> = Object.fromEntries(batches.map((b) => [b, { one: [], two: [], pair: [] }]));
  for (let r = 0; r < repeats; r++) {
    for (const b of batches) {
      const one = (await worker(b, {}))[0];
      const port = String(await freePort());
      const two = (await Promise.all([0, 1].map((rank) => worker(b, { RANK: String(rank), WORLD_SIZE: "2", MASTER_ADDR: "127.0.0.1", MASTER_PORT: port }))))[0][0];
      const pair = (await Promise.all([0, 1].map(() => worker(b, {})))).reduce((sum, rs) => sum + rs[0].img_s, 0);
      rows[b].one.push(one);
      rows[b].two.push(two);
      rows[b].pair.push(pair);
      console.error(`repeat ${r + 1}/${repeats}, batch ${b}/rank: one ${one.img_s} img/s (${one.step_ms} ms/step), two ${two.img_s} img/s (${two.step_ms} ms/step, all-reduce ${two.allreduce_ms} ms), two independent ${round(pair, 2)} img/s`);
    }
  }
  const m = (rs: Row[], k: "img_s" | "step_ms" | "cpu_ms" | "allreduce_ms" | "allreduce_cpu_ms") => median(rs.map((x) => Number(x[k])));
  const summary = (b: string) => {
    const { one, two, pair } = rows[b];
    return {
      batch_per_rank: Number(b),
      one: round(m(one, "img_s"), 2),
      two: round(m(two, "img_s"), 2),
      speedup2: round(m(two, "img_s") / m(one, "img_s"), 3),
      two_independent: round(median(pair), 2),
      ddp_efficiency: round(m(two, "img_s") / median(pair), 3),
      allreduce_ms: round(m(two, "allreduce_ms"), 1),
      allreduce_cpu_ms: round(m(two, "allreduce_cpu_ms"), 1),
      step_ms: { one: round(m(one, "step_ms"), 1), two: round(m(two, "step_ms"), 1) },
      // CPU time per step and process: on a machine busy with other work, wall time says little; this says what
      // a rank costs beside one process doing the same batch (communication included).
      cpu_ms_per_step: { one: round(m(one, "cpu_ms"), 1), two: round(m(two, "cpu_ms"), 1) },
    };
  };
  const first = rows[batches[0]];
  const result = {
    note: "ResNet18 autoencoder (resnet18_ae, latent 64), 64×64 random batches, AdamW, fp32, 1 intra-op thread per process, loopback Gloo, 25 MB buckets overlapped with backward; one = 1 process, two = 2 ranks each with the same per-rank batch; medians over repeats",
    repeats,
    ...summary(batches[0]),
    by_batch: Object.fromEntries(batches.map((b) => [b, summary(b)])),
    load_avg_1_5_15: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number),
    params: first.one[0].params,
    grad_mb: first.one[0].grad_mb,
    overlapped_buckets: first.two[0].overlapped_buckets,
  };
  const file = await writeResult("ddp", result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${file}`);
}
