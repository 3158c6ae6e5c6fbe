// Models: torchvision-equal ResNet encoders, a whole resnet18_ae against PyTorch (max |ours − torch|
// ≤ 1e-4 · max(1e-3, max |torch|)), the EMA vector quantiser against a torch reference, one training step
// for every registered model at several sizes, channel counts and latent sizes, BN folding, the registry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Optimizer, manualSeed, noGrad, rand, tidy, keep, type Tensor } from "../src/engine/index.ts";
import { ConfigError, BadInputError } from "../src/errors.ts";
import { createModel, listModels, registerModel, ResNetEncoder, VectorQuantizerEMA, RESNET_DEPTHS, type EmbeddingModel } from "../src/models/index.ts";
import { readFileSync } from "node:fs";
import { FIXTURES, assertClose, loadFixture, maxDiff } from "./engine-fixtures.ts";

const tv = JSON.parse(readFileSync(FIXTURES + "models/resnet_params.json", "utf8"));

const sortedShapes = (entries: [string, number[]][]) => entries.map(([n, s]) => `${n}:${s.join("x")}`).sort();

test("ResNet encoders have torchvision's parameter counts (without fc) for 1, 3 and 5 input channels", () => {
  // one build per depth (time), the channel count rotating; resnet18 also at all three
  const cases = [[18, 1], [18, 3], [18, 5], [34, 3], [50, 5], [101, 1], [152, 3]] as const;
  for (const [depth, c] of cases) {
    const enc = new ResNetEncoder(depth, c, 16);
    assert.equal(enc.numParameters() - enc.fc.numParameters(), tv.counts[depth][c].without_fc, `resnet${depth}, ${c} channels`);
    assert.equal(enc.width, tv.counts[depth][c].fc_in);
    enc.dispose();
  }
});

test("ResNet18/50 state-dict names and shapes equal torchvision's", () => {
  for (const depth of [18, 50] as const) {
    const enc = new ResNetEncoder(depth, 3, 16);
    assert.deepEqual(sortedShapes([...enc.stateDict()].map(([n, t]) => [n, t.shape])), sortedShapes(tv.state_dict[depth]));
    enc.dispose();
  }
});

// --- the whole resnet18_ae against PyTorch ---------------------------------------------------------------

/** The weight rule of scripts/fixtures/torch_reference.py (seeded_value), with the same generator. */
function seededWeights(names: [string, number[]][], seed: number): Map<string, Tensor> {
  manualSeed(seed);
  const out = new Map<string, Tensor>();
  for (const [name, shape] of [...names].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (name.endsWith("num_batches_tracked")) continue;
    const u = rand(shape);
    const leaf = name.split(".").pop();
    let v: Tensor;
    if (leaf === "running_var") v = u.add(0.5);
    else if (leaf === "running_mean" || leaf === "bias") v = u.sub(0.5).mul(0.2);
    else if (shape.length === 1) v = u.mul(0.4).add(0.8);
    else v = u.mul(2).sub(1).mul(Math.sqrt(6 / shape.slice(1).reduce((a, b) => a * b, 1)));
    out.set(name, keep(v));
    u.dispose();
  }
  return out;
}

test("resnet18_ae (32×32, 3 channels, latent 16, batch 2) matches PyTorch: embedding, output, loss, gradients, BN statistics", async () => {
  const f = await loadFixture("models/resnet18_ae");
  const m = createModel("resnet18_ae", { inChannels: 3, latentDim: 16, imageSize: [32, 32] });
  assert.deepEqual(sortedShapes([...m.stateDict()].map(([n, t]) => [n, t.shape])), sortedShapes(f.meta.state_dict), "torch-style names");
  const w = seededWeights(f.meta.state_dict, f.meta.weight_seed);
  for (const [name, t] of m.stateDict()) if (name.endsWith("num_batches_tracked")) w.set(name, t.clone().keep());
  m.loadStateDict(w);
  // same weights as torch's: per-tensor sum and sum of |w| (float64) agree to 1e-6 of the sum of |w|
  const sd = m.stateDict();
  for (const [name, [sum, absSum]] of Object.entries(f.meta.sums as Record<string, [number, number]>)) {
    const [s, a] = tidy(() => { const w64 = sd.get(name)!.to("float64"); return [w64.sum().item(), w64.abs().sum().item()]; });
    assert.ok(Math.abs(s - sum) <= 1e-6 * absSum && Math.abs(a - absSum) <= 1e-6 * absSum, `weights ${name}: sums ${s}, ${a} vs torch ${sum}, ${absSum}`);
  }
  const x = f.t("x");
  m.eval();
  noGrad(() => tidy(() => {
    assertClose(m.embed(x), f.t("eval.embed"), "eval embedding");
    assertClose(m.reconstruct(x), f.t("eval.recon"), "eval reconstruction");
  }));
  m.train();
  tidy(() => {
    const { total, recon, terms } = m.lossTerms(x);
    assertClose(recon, f.t("train.recon"), "train reconstruction");
    assertClose(total, f.t("train.loss"), "train loss");
    assertClose(terms.recon, f.t("train.loss"), "recon term");
    total.backward();
  });
  const named = new Map(m.namedParameters());
  for (const n of f.meta.grads as string[]) tidy(() => assertClose(named.get(n)!.grad, f.t(`grad.${n}`), `d loss / d ${n}`));
  const bufs = new Map(m.namedBuffers());
  for (const n of f.meta.buffers as string[]) assertClose(bufs.get(n)!, f.t(`after.${n}`), `${n} after the training forward`);
  m.dispose();
});

test("EMA vector quantiser: codes, straight-through gradient, commitment, perplexity and codebook update match the torch reference", async () => {
  const f = await loadFixture("models/vq_ema");
  const q = new VectorQuantizerEMA(f.meta.codebook_size, f.meta.code_dim, f.meta.decay, f.meta.eps);
  q.loadStateDict(new Map(["embedding", "ema_w", "ema_cluster_size"].map((n) => [n, f.t(n)])));
  tidy(() => {
    const z = f.t("z").clone().requireGrad();
    const out = q.forward(z, true);
    assert.deepEqual(Array.from(out.indices.toArray() as BigInt64Array), Array.from(f.t("indices").toArray() as BigInt64Array));
    assertClose(out.quantized, f.t("quantized"), "quantized");
    assertClose(out.commitment, f.t("commitment"), "commitment");
    assertClose(out.perplexity, f.t("perplexity"), "perplexity");
    out.quantized.mul(f.t("gout")).sum().add(out.commitment.mul(f.meta.commitment)).backward();
    assertClose(z.grad, f.t("grad.z"), "d/dz (straight-through + commitment)");
  });
  assertClose(q.embedding, f.t("after.embedding"), "codebook after the EMA update");
  assertClose(q.emaW, f.t("after.ema_w"), "ema_w");
  assertClose(q.emaClusterSize, f.t("after.ema_cluster_size"), "ema_cluster_size");
  q.dispose();
});

// --- every registered model trains one step ----------------------------------------------------------------

interface Case { name: string; size: [number, number]; channels: number; latent: number }
const VARIANTS: [number, number][] = [[1, 16], [3, 64], [5, 512]];
const CASES: Case[] = [
  // every ResNet model at 40×40 (pads to 64×64 inside), rotating channel counts and latent sizes
  // (the ViT/MAE models have their own contract tests in test/vit.test.ts: no latent bottleneck, no encoder.conv1)
  ...listModels().filter((m) => m.name.startsWith("resnet")).map((m, i) => ({ name: m.name, size: [40, 40] as [number, number], channels: VARIANTS[i % 3][0], latent: VARIANTS[i % 3][1] })),
  // bigger and non-square images on the basic-block ResNets only (time)
  { name: "resnet18_ae", size: [64, 96], channels: 3, latent: 64 },
  { name: "resnet18_vae", size: [64, 96], channels: 5, latent: 16 },
  { name: "resnet18_vqvae", size: [64, 96], channels: 1, latent: 512 },
  { name: "resnet34_ae", size: [128, 128], channels: 1, latent: 512 },
  { name: "resnet34_vae", size: [128, 128], channels: 3, latent: 64 },
  { name: "resnet34_vqvae", size: [128, 128], channels: 5, latent: 16 },
];

function trainOneStep(m: EmbeddingModel, x: Tensor): { loss: number; terms: Record<string, number>; reconShape: number[] } {
  const opt = new Optimizer("adam", m.parameters(), { lr: 1e-3 });
  const r = tidy(() => {
    const { total, terms, recon } = m.lossTerms(x);
    total.backward();
    opt.step();
    return { loss: total.item(), terms: Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, v.item()])), reconShape: recon.shape };
  });
  opt.dispose();
  return r;
}

for (const c of CASES) {
  test(`${c.name} at ${c.size.join("×")}, ${c.channels} channel(s), latent ${c.latent}: builds, trains a step, keeps shapes`, () => {
    manualSeed(0);
    const m = createModel(c.name, { inChannels: c.channels, latentDim: c.latent, imageSize: c.size });
    assert.equal(m.spec.name, c.name);
    const x = rand([2, c.channels, ...c.size]).keep();
    const watched = ["encoder.conv1.weight", "encoder.fc.weight", "decoder.out.weight"].map((n) => new Map(m.namedParameters()).get(n)!);
    const before = watched.map((p) => p.clone().keep());
    const r = trainOneStep(m, x);
    assert.ok(Number.isFinite(r.loss), `loss ${r.loss}`);
    for (const [k, v] of Object.entries(r.terms)) assert.ok(Number.isFinite(v), `${k} = ${v}`);
    assert.deepEqual(r.reconShape, x.shape, "reconstruction shape");
    watched.forEach((p, i) => assert.ok(maxDiff(p, before[i]).diff > 0, `parameter ${i} changed`));
    m.eval();
    noGrad(() => tidy(() => {
      assert.deepEqual(m.embed(x).shape, [2, c.latent]);
      assert.deepEqual(m.reconstruct(x).shape, x.shape);
    }));
    for (const t of [x, ...before]) t.dispose();
    m.dispose();
  });
}

// --- inference speed-ups keep the embedding ---------------------------------------------------------------

for (const name of ["resnet18_vae", "resnet50_ae"]) {
  test(`${name}: fuseForInference (BN folded into convs) and channels-last keep embeddings and reconstructions (1e-4)`, () => {
    manualSeed(1);
    const m = createModel(name, { inChannels: 3, latentDim: 32, imageSize: [40, 40] });
    const x = rand([2, 3, 40, 40]).keep();
    // give every batch norm non-trivial running statistics first
    m.train();
    noGrad(() => tidy(() => { for (let i = 0; i < 3; i++) m.lossTerms(rand([4, 3, 40, 40]).mul(i + 1)); }));
    m.eval();
    const [z0, r0] = noGrad(() => tidy(() => [m.embed(x), m.reconstruct(x)]));
    m.fuseForInference!();
    const [z1, r1] = noGrad(() => tidy(() => [m.embed(x), m.reconstruct(x)]));
    assertClose(z1, z0, "embedding after folding");
    assertClose(r1, r0, "reconstruction after folding");
    m.toMemoryFormat("channels_last");
    const z2 = noGrad(() => m.embed(x));
    assertClose(z2, z0, "embedding channels-last");
    m.train();
    assert.throws(() => tidy(() => m.lossTerms(x)), /folded/);
    for (const t of [x, z0, r0, z1, r1, z2]) t.dispose();
    m.dispose();
  });
}

// --- contracts ---------------------------------------------------------------------------------------------

test("VAE: embed is the deterministic mean; total = recon + β·kl; VQ-VAE reports its terms", () => {
  manualSeed(2);
  const m = createModel("resnet18_vae", { inChannels: 1, latentDim: 8, imageSize: [40, 48], beta: 4 });
  const x = rand([2, 1, 40, 48]).keep();
  m.eval();
  noGrad(() => tidy(() => assertClose(m.embed(x), m.embed(x), "repeatable embedding", 0)));
  m.train();
  tidy(() => {
    const { total, terms } = m.lossTerms(x);
    assert.deepEqual(Object.keys(terms).sort(), ["kl", "recon"]);
    assert.ok(terms.kl.item() >= 0);
    assert.ok(Math.abs(total.item() - (terms.recon.item() + 4 * terms.kl.item())) < 1e-6);
  });
  m.dispose();
  const v = createModel("resnet18_vqvae", { inChannels: 1, latentDim: 8, imageSize: [40, 48], vqCodebookSize: 16 });
  tidy(() => {
    const { total, terms } = v.lossTerms(x);
    assert.deepEqual(Object.keys(terms).sort(), ["commitment", "perplexity", "recon", "vq"]);
    assert.ok(terms.perplexity.item() >= 1 && terms.perplexity.item() <= 16);
    assert.ok(Math.abs(total.item() - (terms.recon.item() + 0.25 * terms.commitment.item())) < 1e-6);
  });
  v.dispose();
  x.dispose();
});

test("inputs: any size embeds; reconstruction needs the built grid; wrong channel count is a clear error", () => {
  const m = createModel("resnet18_ae", { inChannels: 3, latentDim: 16, imageSize: [40, 40] }).eval();
  noGrad(() => tidy(() => {
    assert.deepEqual(m.embed(rand([1, 3, 100, 70])).shape, [1, 16]);
    assert.deepEqual(m.reconstruct(rand([1, 3, 33, 64])).shape, [1, 3, 33, 64]); // same 2×2 grid
    assert.throws(() => m.reconstruct(rand([1, 3, 100, 70])), BadInputError);
    assert.throws(() => m.embed(rand([1, 1, 40, 40])), /takes \[B, 3, H, W\]/);
  }));
  m.dispose();
});

test("registry: names, defaults, nearest-name suggestion, option checks, registering more", () => {
  const names = listModels().map((m) => m.name);
  for (const d of RESNET_DEPTHS) for (const k of ["ae", "vae", "vqvae"]) assert.ok(names.includes(`resnet${d}_${k}`));
  assert.throws(() => createModel("resnet81_vae"), (e: Error) => e instanceof ConfigError && /did you mean 'resnet18_vae'/.test(e.message));
  assert.throws(() => createModel("resnet18_ae", { latentDim: 0 }), ConfigError);
  assert.throws(() => createModel("resnet18_vqvae", { latentDim: 10, vqCodeDim: 3 }), /divisor/);
  assert.throws(() => createModel("resnet18_vqvae", { vqDecay: 1 }), ConfigError);
  const m = createModel("resnet18_ae"); // reference defaults: 3 channels, 64×64, latent 64
  assert.deepEqual(m.spec, { name: "resnet18_ae", family: "ae", inChannels: 3, latentDim: 64, imageSize: [64, 64] });
  m.dispose();
  registerModel("tiny_test_ae", { family: "ae", defaults: { inChannels: 1, latentDim: 4, imageSize: [32, 32] }, create: (o) => createModel("resnet18_ae", { ...o }) });
  assert.ok(listModels().some((e) => e.name === "tiny_test_ae"));
  assert.throws(() => registerModel("tiny_test_ae", { family: "ae", defaults: {}, create: () => { throw new Error(); } }), /already registered/);
});
