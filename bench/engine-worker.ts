// Our side of the engine benchmark, in its own process (so its peak RSS is its own): the network of
// ../shared/anchors/torch_bench.py (ResNet18 AE, latent 64, MSE, Adam 1e-4, batch 16), timed like that script.
import { performance } from "node:perf_hooks";
import { resourceUsage } from "node:process";
import { rand, tidy, noGrad, autocast, manualSeed, setThreads, Optimizer, F, engineInfo } from "../src/engine/index.ts";
import { createModel } from "../src/models/index.ts";
import { median } from "./common.ts";

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const sizes = arg("sizes", "64,128").split(",").map(Number);
const steps = Number(arg("steps", "10")), warmup = Number(arg("warmup", "3"));
const bf16 = arg("precision", "fp32") === "bf16";
const channelsLast = arg("memory-format", "contiguous") === "channels_last";
setThreads(Number(arg("threads", "2")));
manualSeed(0);
const rssMb = () => resourceUsage().maxRSS / 1024;
const info = { engine: "bioimage-embed", torch: engineInfo().torch, precision: bf16 ? "bf16" : "fp32", memory_format: channelsLast ? "channels_last" : "contiguous" };

for (const hw of sizes) {
  const model = createModel("resnet18_ae", { inChannels: 3, latentDim: 64, imageSize: [hw, hw] });
  if (channelsLast) model.toMemoryFormat("channels_last");
  const opt = new Optimizer("adam", model.parameters(), { lr: 1e-4 });
  const x0 = rand([16, 3, hw, hw]).keep();
  const x = channelsLast ? x0.contiguous("channels_last").keep() : x0;
  model.train();
  const times: number[] = [];
  let loss = 0;
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    tidy(() => {
      opt.zeroGrad();
      const l = autocast(bf16, () => F.mseLoss(model.reconstruct(x).to("float32"), x0));
      l.backward();
      opt.step();
      loss = l.item();
    });
    if (i >= warmup) times.push(performance.now() - t0);
  }
  const med = median(times);
  console.log(JSON.stringify({ ...info, kind: "train", hw, batch: 16, median_ms: +med.toFixed(1), img_s: +(16000 / med).toFixed(1), loss, rss_mb: Math.round(rssMb()) }));
  if (hw === 64) {
    model.eval();
    (model as { fuseForInference?: () => void }).fuseForInference?.();
    if (channelsLast) model.toMemoryFormat("channels_last");
    const xb0 = rand([64, 3, hw, hw]).keep();
    const xb = channelsLast ? xb0.contiguous("channels_last").keep() : xb0;
    const et: number[] = [];
    for (let i = 0; i < 2 + 5; i++) {
      const t0 = performance.now();
      noGrad(() => tidy(() => autocast(bf16, () => model.embed(xb)).to("float32").toFloat32()));
      if (i >= 2) et.push(performance.now() - t0);
    }
    const emed = median(et);
    console.log(JSON.stringify({ ...info, kind: "embed", hw, batch: 64, median_ms: +emed.toFixed(1), img_s: +(64000 / emed).toFixed(1), rss_mb: Math.round(rssMb()) }));
  }
  opt.dispose();
  model.dispose();
}
console.log(JSON.stringify({ ...info, kind: "peak", rss_mb: Math.round(rssMb()) }));
