// Data-parallel benchmark: images/s of 2 ranks × 1 thread vs 1 process × 1 thread (each process the same
// per-rank batch, so 2 ranks train a twice larger global batch per step), and the time of one full-gradient
// all-reduce (ResNet18 autoencoder) beside the step time. Alternates the two setups and takes medians over
// repeats, as these machines are shared and noisy.
//   npm run bench -- ddp [--repeats=N] [--batch=B] [--bucket-mb=25] [--overlap=1] [--quick]
import { readFileSync } from "node:fs";
import { freePort } from "../src/distributed/ddp-launch.ts";
import { median, runJsonLines, writeResult, round } from "./common.ts";

type Row = { kind: string; world: number; rank: number; img_s: number; step_ms: number; cpu_ms: number; allreduce_ms: number | null; params: number; grad_mb: number; overlapped_buckets: number };

export default async function ddpBench(args: string[]): Promise<void> {
  const opt = (k: string, d: string) => args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
  const quick = args.includes("--quick");
  const repeats = Number(opt("repeats", quick ? "1" : "3"));
  const batch = opt("batch", "16");
  const common = ["--batch", batch, "--threads", "1", "--steps", quick ? "3" : "5", "--warmup", "1", "--bucket-mb", opt("bucket-mb", "25"), "--overlap", opt("overlap", "1")];
  const worker = (env: Record<string, string>) => runJsonLines(process.execPath, ["--import", "tsx", "bench/ddp-worker.ts", ...common], env) as Promise<Row[]>;

  const one: Row[] = [], two: Row[] = [];
  for (let r = 0; r < repeats; r++) {
    one.push((await worker({}))[0]);
    const port = String(await freePort());
    const ranks = await Promise.all([0, 1].map((rank) => worker({ RANK: String(rank), WORLD_SIZE: "2", MASTER_ADDR: "127.0.0.1", MASTER_PORT: port })));
    two.push(ranks[0][0]);
    console.error(`repeat ${r + 1}/${repeats}: one ${one[r].img_s} img/s (${one[r].step_ms} ms/step), two ${two[r].img_s} img/s (${two[r].step_ms} ms/step, all-reduce ${two[r].allreduce_ms} ms)`);
  }
  const m = (rows: Row[], k: "img_s" | "step_ms" | "cpu_ms" | "allreduce_ms") => median(rows.map((x) => Number(x[k])));
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
  const result = {
    note: "ResNet18 autoencoder (resnet18_ae, latent 64), 64×64 random batches, AdamW, fp32, 1 intra-op thread per process, loopback Gloo; medians over repeats",
    batch_per_rank: Number(batch),
    repeats,
    one: round(m(one, "img_s"), 2),
    two: round(m(two, "img_s"), 2),
    speedup2: round(m(two, "img_s") / m(one, "img_s"), 3),
    allreduce_ms: round(m(two, "allreduce_ms"), 1),
    step_ms: { one: round(m(one, "step_ms"), 1), two: round(m(two, "step_ms"), 1) },
    // CPU time per step and process: on a machine busy with other work, wall time says little; this says what
    // a rank costs beside one process doing the same batch (communication included).
    cpu_ms_per_step: { one: round(m(one, "cpu_ms"), 1), two: round(m(two, "cpu_ms"), 1) },
    load_avg_1_5_15: load,
    params: one[0].params,
    grad_mb: one[0].grad_mb,
    overlapped_buckets: two[0].overlapped_buckets,
  };
  const file = await writeResult("ddp", result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${file}`);
}
