// Our side of `npm run bench -- embed`, in its own process: the embedding forward of shared/anchors/torch_bench.py
// (ResNet18 encoder, 3×64×64, latent 64, batch 64, eval, no grad), on the native engine (BN folded, as `bie embed`
// runs it) or on onnxruntime (the same folded model exported by src/export). Prints one JSON line.
// Flags: --runtime native|onnx --size --batch --latent --reps --warmup --threads
import { performance } from "node:perf_hooks";
import { noGrad, rand, tidy, manualSeed, setThreads } from "../src/engine/index.ts";
import { createModel } from "../src/models/index.ts";
import { exportModel, onnxRunner } from "../src/export/index.ts";
import { median } from "./common.ts";

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const runtime = arg("runtime", "native"), size = Number(arg("size", "64")), batch = Number(arg("batch", "64"));
const latent = Number(arg("latent", "64")), reps = Number(arg("reps", "5")), warmup = Number(arg("warmup", "2"));
const threads = Number(arg("threads", "2"));
setThreads(threads);
manualSeed(0);

const model = createModel("resnet18_ae", { inChannels: 3, latentDim: latent, imageSize: [size, size] });
model.eval();
model.fuseForInference!();
const x = rand([batch, 3, size, size]).keep();
let step: () => Promise<void>;
if (runtime === "onnx") {
  const runner = await onnxRunner(exportModel(model, { path: "embed" }).bytes, { threads });
  const data = x.toArray() as Float32Array;
  step = async () => void (await runner.run(data, [batch, 3, size, size]));
} else step = async () => noGrad(() => tidy(() => void model.embed(x).toFloat32()));

const times: number[] = [];
for (let i = 0; i < warmup + reps; i++) {
  const t0 = performance.now();
  await step();
  if (i >= warmup) times.push(performance.now() - t0);
}
const med = median(times);
console.log(JSON.stringify({ engine: runtime, kind: "embed", hw: size, batch, threads, median_ms: Math.round(med * 10) / 10, img_s: Math.round((batch * 1000 * 10) / med) / 10 }));
