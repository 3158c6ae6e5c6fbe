// One process of the data-parallel benchmark: the ResNet18 autoencoder (what `bie train` trains by default)
// on random 64×64 batches, AdamW + clipping as in the trainer, alone or as a rank (RANK/WORLD_SIZE/MASTER_*).
// Prints one JSON line: images/s over the group, step time, and — on ranks — the time of a full gradient
// all-reduce measured on its own (no compute beside it), and how many buckets went out during backward.
import { performance } from "node:perf_hooks";
import { rand, tidy, manualSeed, setThreads, Optimizer, clipGradNorm, F } from "../src/engine/index.ts";
import { createModel } from "../src/models/index.ts";
import { DataParallel } from "../src/distributed/ddp.ts";
import { ProcessGroup } from "../src/engine/dist.ts";
import { ddpSettings } from "../src/distributed/ddp-settings.ts";
import { median } from "./common.ts";

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const batch = Number(arg("batch", "16")); // per process
const steps = Number(arg("steps", "5")), warmup = Number(arg("warmup", "1"));
const hw = Number(arg("size", "64"));
setThreads(Number(arg("threads", "1")));
const s = ddpSettings({ world_size: 1, rank: 0, master: "127.0.0.1:29500", procs: 0, timeout_s: 300, sync_bn: false });
const bucketMb = Number(arg("bucket-mb", "25"));
const ddp = s.mode === "rank" ? new DataParallel(ProcessGroup.init({ host: s.host, port: s.port, worldSize: s.worldSize, rank: s.rank, timeoutMs: s.timeoutMs }), { bucketBytes: bucketMb << 20, overlap: arg("overlap", "1") === "1" }) : null;
const world = ddp?.worldSize ?? 1;

manualSeed(0);
const model = createModel("resnet18_ae", { inChannels: 3, latentDim: 64, imageSize: [hw, hw] });
ddp?.broadcastModel(model);
const params = model.parameters();
const opt = new Optimizer("adamw", params, { lr: 1e-4 });
manualSeed(1 + (ddp?.rank ?? 0));
const x = rand([batch, 3, hw, hw]).keep();
model.train();

const times: number[] = [];
let cpu0 = process.cpuUsage();
for (let i = 0; i < warmup + steps; i++) {
  if (i === warmup) cpu0 = process.cpuUsage();
  const t0 = performance.now();
  tidy(() => {
    ddp?.broadcastBuffers(model);
    const loss = F.mseLoss(model.reconstruct(x), x);
    const g = ddp ? ddp.globalMeans({ loss: loss.item() }, batch, i) : { weight: 1 };
    opt.zeroGrad();
    if (ddp) ddp.backward(loss, params, g.weight);
    else loss.backward();
    clipGradNorm(params, 1.0);
    opt.step();
  });
  if (i >= warmup) times.push(performance.now() - t0);
}
const stepMs = median(times);
// CPU time of this process per step (all its threads): what a step costs when it has a core to itself.
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000 / steps;

// The communication alone: the full gradient (every parameter), averaged over the group as after backward.
let allreduceMs: number | null = null;
let allreduceCpuMs: number | null = null;
if (ddp) {
  const ar: number[] = [];
  let cpuSum = 0;
  for (let i = 0; i < 5; i++) {
    ddp.pg.barrier();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    ddp.syncGradients(params);
    ar.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuSum += (c.user + c.system) / 1000;
  }
  allreduceMs = median(ar);
  allreduceCpuMs = cpuSum / 5; // packing, loopback TCP and reductions: CPU a rank spends on communication
}
const gradBytes = params.reduce((n, p) => n + p.size * 4, 0);
console.log(
  JSON.stringify({
    kind: "ddp",
    world,
    rank: ddp?.rank ?? 0,
    batch_per_rank: batch,
    threads: Number(arg("threads", "1")),
    step_ms: +stepMs.toFixed(1),
    cpu_ms: +cpuMs.toFixed(1),
    img_s: +((batch * world * 1000) / stepMs).toFixed(2),
    allreduce_ms: allreduceMs === null ? null : +allreduceMs.toFixed(1),
    allreduce_cpu_ms: allreduceCpuMs === null ? null : +allreduceCpuMs.toFixed(1),
    params: params.reduce((n, p) => n + p.size, 0),
    grad_mb: +(gradBytes / 1e6).toFixed(1),
    overlapped_buckets: ddp?.overlappedBuckets ?? 0,
  }),
);
ddp?.close();
