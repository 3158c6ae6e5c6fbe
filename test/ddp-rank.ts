// One process of the data-parallel tests: trains small autoencoders (GroupNorm, then synchronised BatchNorm:
// NORMS=gn,bn) on fixed seeded batches with the same step the trainer takes (global means, weighted backward,
// gradient buckets averaged during backward, clip, AdamW), either alone (WORLD_SIZE unset, whole batch) or as a
// rank (its slice of every batch). Prints one JSON line per step and, per model, the loss curve and weights.
import { tidy, manualSeed, randn, setThreads, Optimizer, clipGradNorm, F, type Tensor } from "../src/engine/index.ts";
import { Module, Conv2d, ConvTranspose2d, GroupNorm, BatchNorm2d } from "../src/models/index.ts";
import { syncBatchNorm } from "../src/distributed/ddp-syncbn.ts";
import { DataParallel } from "../src/distributed/ddp.ts";
import { ddpSettings } from "../src/distributed/ddp-settings.ts";
import { ProcessGroup } from "../src/engine/dist.ts";

type Norm = "gn" | "bn";

/** GroupNorm, or BatchNorm2d (synchronised over the ranks), after each conv. */
class TinyAE extends Module {
  readonly enc1: Conv2d;
  readonly gn1: Module & { forward(x: Tensor): Tensor };
  readonly enc2: Conv2d;
  readonly gn2: Module & { forward(x: Tensor): Tensor };
  readonly dec: ConvTranspose2d;
  constructor(norm: Norm) {
    super();
    const bn = norm === "bn";
    const layer = (c: number) => (bn ? new BatchNorm2d(c) : new GroupNorm(4, c));
    // No conv bias before batch norm (as in ResNet): it has no gradient there, and Adam would turn float noise into steps.
    this.enc1 = this.child("enc1", new Conv2d(1, 8, 3, 1, 1, { bias: !bn }));
    this.gn1 = this.child("gn1", layer(8));
    this.enc2 = this.child("enc2", new Conv2d(8, 16, 3, 2, 1, { bias: !bn }));
    this.gn2 = this.child("gn2", layer(16));
    this.dec = this.child("dec", new ConvTranspose2d(16, 1, 4, 2, 1));
  }
  forward(x: Tensor): Tensor {
    const h = this.gn1.forward(this.enc1.forward(x)).relu();
    return this.dec.forward(this.gn2.forward(this.enc2.forward(h)).relu());
  }
}

const steps = Number(process.env.STEPS ?? 6);
const globalBatch = Number(process.env.GLOBAL_BATCH ?? 16);
const hang = process.env.HANG === "1"; // keep stepping until killed (fault tests)
setThreads(1);
const s = ddpSettings({ world_size: 1, rank: 0, master: "127.0.0.1:29500", procs: 0, timeout_s: Number(process.env.TIMEOUT_S ?? 30), sync_bn: false });
const ddp = s.mode === "rank" ? new DataParallel(ProcessGroup.init({ host: s.host, port: s.port, worldSize: s.worldSize, rank: s.rank, timeoutMs: s.timeoutMs }), { bucketBytes: 4096 }) : null;

for (const norm of (process.env.NORMS ?? "gn").split(",") as Norm[]) {
  // Each rank starts from different weights on purpose: the broadcast from rank 0 must make them equal.
  manualSeed(7 + (ddp?.rank ?? 0));
  const model = new TinyAE(norm);
  ddp?.broadcastModel(model);
  if (ddp && norm === "bn") syncBatchNorm(model, ddp.pg);
  const optim = new Optimizer("adamw", model.parameters(), { lr: 1e-2, weightDecay: 1e-4 });
  const losses: number[] = [];

  for (let step = 0; hang || step < steps; step++) {
    manualSeed(1000 + step); // the same global batch on every rank
    const vals = tidy(() => {
      const xAll = randn([globalBatch, 1, 16, 16]);
      const [start, end] = ddp ? sliceOf(globalBatch, ddp.rank, ddp.worldSize) : [0, globalBatch];
      const x = xAll.narrow(0, start, end - start);
      const loss = F.mseLoss(model.forward(x), x);
      const local = { loss: loss.item() };
      const g = ddp ? ddp.globalMeans(local, end - start, step) : { values: local, weight: 1 };
      optim.zeroGrad();
      if (ddp) ddp.backward(loss, optim.params, g.weight);
      else loss.backward();
      clipGradNorm(optim.params, 1.0);
      optim.step();
      return g.values;
    });
    losses.push(vals.loss);
    console.log(JSON.stringify({ step, loss: vals.loss }));
  }

  const weights: Record<string, number[]> = {};
  for (const [k, t] of model.stateDict()) if (t.dtype === "float32") weights[k] = Array.from(t.toArray() as Float32Array);
  console.log(JSON.stringify({ done: norm, rank: ddp?.rank ?? 0, losses, weights, overlappedBuckets: ddp?.overlappedBuckets ?? 0 }));
  optim.dispose();
  model.dispose();
}
ddp?.close();

function sliceOf(n: number, rank: number, world: number): [number, number] {
  return [Math.floor((rank * n) / world), Math.floor(((rank + 1) * n) / world)];
}
