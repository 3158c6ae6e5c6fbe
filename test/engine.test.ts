// Layers, losses and optimizers against PyTorch 1.13 (test/fixtures/engine, made by
// scripts/fixtures/torch_reference.py): forward outputs and input/weight gradients within 1e-4
// relative to each tensor's scale (max |ours − torch| ≤ 1e-4 · max(1e-3, max |torch|)).
import { test } from "node:test";
import { F, Optimizer, tidy, keep, type Tensor } from "../src/engine/index.ts";
import { assertClose, loadFixture } from "./engine-fixtures.ts";

type Inputs = Record<string, Tensor>;
const LAYERS: Record<string, (i: Inputs) => Tensor> = {
  conv2d: (i) => F.conv2d(i.x, i.w, i.b, 2, 1),
  conv2d_groups_dilation: (i) => F.conv2d(i.x, i.w, null, 1, 2, 2, 2),
  conv_transpose2d: (i) => F.convTranspose2d(i.x, i.w, i.b, 2, 1, 1),
  batch_norm_train: (i) => F.batchNorm(i.x, i.weight, i.bias, i.running_mean, i.running_var, true, 0.1, 1e-5),
  batch_norm_eval: (i) => F.batchNorm(i.x, i.weight, i.bias, i.running_mean, i.running_var, false, 0.1, 1e-5),
  group_norm: (i) => F.groupNorm(i.x, 3, i.weight, i.bias, 1e-5),
  layer_norm: (i) => F.layerNorm(i.x, [8], i.weight, i.bias, 1e-5),
  linear: (i) => F.linear(i.x, i.w, i.b),
  max_pool2d: (i) => F.maxPool2d(i.x, 3, 2, 1),
  avg_pool2d: (i) => F.avgPool2d(i.x, 3, 2, 1),
  adaptive_avg_pool2d: (i) => F.adaptiveAvgPool2d(i.x, [3, 4]),
  adaptive_max_pool2d: (i) => F.adaptiveMaxPool2d(i.x, [3, 4]),
  upsample_nearest_scale: (i) => F.interpolate(i.x, { scale: 2, mode: "nearest" }),
  upsample_nearest_size: (i) => F.interpolate(i.x, { size: [7, 9], mode: "nearest" }),
  upsample_bilinear: (i) => F.interpolate(i.x, { size: [7, 9], mode: "bilinear", alignCorners: false }),
  upsample_bilinear_align: (i) => F.interpolate(i.x, { size: [7, 9], mode: "bilinear", alignCorners: true }),
  softmax: (i) => i.x.softmax(1),
  log_softmax: (i) => i.x.logSoftmax(1),
  mse: (i) => F.mseLoss(i.a, i.b),
  bce: (i) => F.binaryCrossEntropy(i.p, i.t),
  bce_logits: (i) => F.binaryCrossEntropyWithLogits(i.x, i.t),
  cross_entropy: (i) => F.crossEntropy(i.x, i.t),
  cross_entropy_smooth: (i) => F.crossEntropy(i.x, i.t, "mean", 0.1),
  kl_div: (i) => F.klDiv(i.x, i.t, "sum"),
  gaussian_kl: (i) => F.gaussianKl(i.mu, i.logvar),
};

const layers = await loadFixture("engine/layers");

test("every fixture case has an implementation here", () => {
  const missing = Object.keys(layers.meta.cases).filter((c) => !LAYERS[c]);
  if (missing.length) throw new Error(`no test for ${missing.join(", ")}`);
});

for (const [name, fn] of Object.entries(LAYERS)) {
  test(`${name}: forward and gradients match PyTorch`, () => {
    const c = layers.meta.cases[name] as { grads: string[]; inputs: string[] };
    tidy(() => {
      const inputs: Inputs = {};
      for (const k of c.inputs) inputs[k] = layers.t(`${name}.in.${k}`).clone().requireGrad(c.grads.includes(k));
      const out = fn(inputs);
      assertClose(out, layers.t(`${name}.out`), `${name} output`);
      out.mul(layers.t(`${name}.gout`)).sum().backward();
      for (const k of c.grads) assertClose(inputs[k].grad, layers.t(`${name}.grad.${k}`), `${name} d/d${k}`);
      if (name === "batch_norm_train")
        for (const k of ["running_mean", "running_var"]) assertClose(inputs[k], layers.t(`${name}.after.${k}`), `${name} ${k} after one step`);
    });
  });
}

const optim = await loadFixture("engine/optim");
for (const name of ["adam", "adamw"] as const) {
  test(`${name}: three steps match torch.optim.${name === "adam" ? "Adam" : "AdamW"}`, () => {
    const o = optim.meta.optimizers[name];
    const params = [0, 1].map((i) => keep(optim.t(`p0.${i}`).clone().requireGrad()));
    const opt = new Optimizer(name, params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay });
    for (let s = 0; s < optim.meta.steps; s++) {
      tidy(() => {
        params.forEach((p, i) => (p.grad = optim.t(`g${s}.${i}`).clone()));
        opt.step();
        params.forEach((p, i) => assertClose(p, optim.t(`${name}.step${s + 1}.${i}`), `${name} step ${s + 1} param ${i}`));
      });
    }
    opt.dispose();
    params.forEach((p) => p.dispose());
  });
}
