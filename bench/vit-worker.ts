// Our side of `npm run bench -- vit`, in its own process: the network and step of bench/vit_torch.py
// (ViT-small MAE, 3×64×64, patch 8, decoder 256×4, mask 0.75, AdamW 1.5e-4 wd 0.05, batch 32), timed the same way.
// Flags as vit_torch.py: --size --batch --steps --warmup --threads --vit --zero-grad inplace|none.
import { performance } from "node:perf_hooks";
import { resourceUsage } from "node:process";
import { rand, tidy, manualSeed, setThreads, Optimizer, engineInfo } from "../src/engine/index.ts";
import { MaskedAutoencoder, VIT_SIZES, type VitSize } from "../src/models/vit/index.ts";
import { median } from "./common.ts";

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const size = Number(arg("size", "64")), batch = Number(arg("batch", "32"));
const steps = Number(arg("steps", "10")), warmup = Number(arg("warmup", "3"));
const vit = arg("vit", "small") as VitSize;
// "inplace" zeroes the gradients and keeps their memory (torch 1.13's zero_grad()); "none" drops them
// (set_to_none, what Optimizer.zeroGrad() does), so every backward allocates them afresh.
const zeroGrad = arg("zero-grad", "inplace");
setThreads(Number(arg("threads", "2")));
manualSeed(0);

const model = new MaskedAutoencoder({ name: `vit_${vit}_mae`, inChannels: 3, imageSize: [size, size], patchSize: 8, ...VIT_SIZES[vit] }).train();
const opt = new Optimizer("adamw", model.parameters(), { lr: 1.5e-4, weightDecay: 0.05 });
const x = rand([batch, 3, size, size]).keep();
const times: number[] = [], cpu: number[] = [];
let loss = 0;
for (let i = 0; i < warmup + steps; i++) {
  const t0 = performance.now(), c0 = process.cpuUsage();
  tidy(() => {
    if (zeroGrad === "none") opt.zeroGrad();
    else for (const p of opt.params) p.grad?.zero();
    const out = model.forwardMasked(x);
    out.loss.backward();
    opt.step();
    loss = out.loss.item();
  });
  if (i >= warmup) {
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
}
const med = median(times), cpuMed = median(cpu);
console.log(JSON.stringify({ engine: "bioimage-embed", torch: engineInfo().torch, kind: "train", vit, zero_grad: zeroGrad, hw: size, batch, median_ms: +med.toFixed(1), img_s: +((batch * 1000) / med).toFixed(2), cpu_ms: +cpuMed.toFixed(1), img_per_cpu_s: +((batch * 1000) / cpuMed).toFixed(2), loss, rss_mb: Math.round(resourceUsage().maxRSS / 1024) }));
