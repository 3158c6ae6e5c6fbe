// Prints the largest |ours − torch| of every resnet18_ae fixture comparison and each gradient's scale (not a test).
// Run: node --import tsx test/models-fixture-diffs.ts
import { noGrad, tidy, manualSeed, rand, keep, type Tensor } from "../src/engine/index.ts";
import { createModel } from "../src/models/index.ts";
import { loadFixture, maxDiff } from "./engine-fixtures.ts";
const f = await loadFixture("models/resnet18_ae");
const m = createModel("resnet18_ae", { inChannels: 3, latentDim: 16, imageSize: [32, 32] });
manualSeed(f.meta.weight_seed);
const w = new Map<string, Tensor>();
for (const [name, shape] of [...f.meta.state_dict].sort(([a]: any, [b]: any) => (a < b ? -1 : 1)) as [string, number[]][]) {
  if (name.endsWith("num_batches_tracked")) { w.set(name, m.stateDict().get(name)!); continue; }
  const u = rand(shape); const leaf = name.split(".").pop();
  let v: Tensor;
  if (leaf === "running_var") v = u.add(0.5); else if (leaf === "running_mean" || leaf === "bias") v = u.sub(0.5).mul(0.2);
  else if (shape.length === 1) v = u.mul(0.4).add(0.8); else v = u.mul(2).sub(1).mul(Math.sqrt(6 / shape.slice(1).reduce((a, b) => a * b, 1)));
  w.set(name, keep(v));
}
m.loadStateDict(w);
const x = f.t("x");
const show = (l: string, a: Tensor, b: Tensor) => { const d = maxDiff(a, b); console.log(l.padEnd(42), d.diff.toExponential(2), "scale", d.scale.toFixed(2)); };
m.eval(); noGrad(() => tidy(() => { show("eval embed", m.embed(x), f.t("eval.embed")); show("eval recon", m.reconstruct(x), f.t("eval.recon")); }));
m.train(); tidy(() => { const r = m.lossTerms(x); show("train recon", r.recon, f.t("train.recon")); show("train loss", r.total, f.t("train.loss")); r.total.backward(); });
const p = new Map(m.namedParameters());
for (const n of f.meta.grads) show("grad " + n, p.get(n)!.grad!, f.t("grad." + n));
for (const n of f.meta.grads) { const g = f.t("grad." + n); console.log(n, g.abs().max().item().toExponential(2)); }
const L = await loadFixture("engine/layers");
for (const c of Object.keys(L.meta.cases)) for (const k of L.meta.cases[c].grads) console.log(c, k, L.t(`${c}.grad.${k}`).abs().max().item().toExponential(2), "out", L.t(`${c}.out`).abs().max().item().toExponential(2));
