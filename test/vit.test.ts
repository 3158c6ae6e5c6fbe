// ViT / MAE / channel-agnostic MAE against the PyTorch reference (scripts/fixtures/torch_vit.py →
// test/fixtures/vit/): a block forward and its gradients, a tiny MAE and CA-MAE forward with the mask fixed by
// passing the same noise, sin-cos tables; then the registry contract, masking and channel handling.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadSafetensors, manualSeed, noGrad, op, rand, tensor, tidy, type Tensor } from "../src/engine/index.ts";
import { createModel } from "../src/models/registry.ts";
import { ConfigError } from "../src/errors.ts";
import { Block, ChannelAgnosticMAE, MaskedAutoencoder, sincos2d, keptCount, randomMasking, VIT_MODEL_NAMES, type MaeOptions } from "../src/models/vit/index.ts";
import { maskedPatchLoss } from "../src/models/vit/loss.ts";
import { positionsFor } from "../src/models/vit/position.ts";

const FIX = fileURLToPath(new URL("./fixtures/vit/", import.meta.url));
const load = async (name: string) => (await loadSafetensors(FIX + name)).tensors;

/** |a − b| ≤ 1e-4 + 1e-4·|b| everywhere. */
function close(a: Tensor, b: Tensor, what: string, tol = 1e-4): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const x = a.toFloat32(), y = b.toFloat32();
  let worst = 0, at = -1;
  for (let i = 0; i < x.length; i++) {
    const excess = Math.abs(x[i] - y[i]) - tol * (1 + Math.abs(y[i]));
    if (!(excess <= worst)) (worst = excess), (at = i);
  }
  assert.ok(at < 0, `${what}: element ${at} is ${x[at]}, reference ${y[at]}`);
}

/** The "w.<name>" tensors of a fixture as a state dict. */
const weightsOf = (f: Map<string, Tensor>) => new Map([...f].filter(([k]) => k.startsWith("w.")).map(([k, t]) => [k.slice(2), t]));

const TINY: MaeOptions = { name: "fixture", inChannels: 3, imageSize: [16, 16], patchSize: 4, width: 32, depth: 2, heads: 4, decoder: { width: 32, depth: 2, heads: 4 } };

test("a ViT block matches PyTorch: forward and gradients", async () => {
  const f = await load("block.safetensors");
  const blk = new Block(32, 4);
  blk.loadStateDict(weightsOf(f));
  tidy(() => {
    const x = f.get("x")!.clone().requireGrad();
    const y = blk.forward(x);
    close(y, f.get("y")!, "block output");
    y.mul(f.get("gout")!).sum().backward();
    close(x.grad!, f.get("grad.x")!, "grad x");
    for (const [name, p] of blk.namedParameters()) close(p.grad!, f.get(`grad.${name}`)!, `grad ${name}`);
  });
  blk.dispose();
});

async function checkMae(file: string, model: MaskedAutoencoder, channelIds?: number[]) {
  const f = await load(file);
  model.loadStateDict(weightsOf(f)); // strict: the official MAE names, both ways
  tidy(() => {
    const imgs = f.get("imgs")!;
    const out = model.forwardMasked(imgs, { noise: f.get("noise")!, channelIds });
    close(out.mask, f.get("mask")!, `${file} mask`);
    close(out.pred, f.get("pred")!, `${file} pred`);
    close(out.loss.reshape([1]), f.get("loss")!, `${file} loss`);
    close(maskedPatchLoss(out.pred, out.target, out.mask, true).reshape([1]), f.get("loss_norm_pix")!, `${file} norm_pix loss`);
    out.loss.backward();
    const params = new Map(model.namedParameters());
    for (const [k, g] of f) if (k.startsWith("grad.")) close(params.get(k.slice(5))!.grad!, g, `${file} ${k}`);
    model.eval();
    close(noGrad(() => model.embed(imgs, channelIds)), f.get("embed")!, `${file} embed`);
  });
}

test("a tiny MAE matches PyTorch with the same mask: loss, norm-pix loss, prediction, gradients, embedding", async () => {
  const m = new MaskedAutoencoder(TINY);
  await checkMae("mae.safetensors", m);
  m.dispose();
});

test("a tiny channel-agnostic MAE matches PyTorch on channels [2, 0]", async () => {
  const m = new ChannelAgnosticMAE({ ...TINY, inChannels: 2, maxChannels: 8 });
  await checkMae("camae.safetensors", m, [2, 0]);
  m.dispose();
});

test("sin-cos position tables and learned-table resampling match PyTorch/MAE", async () => {
  const f = await load("sincos.safetensors");
  tidy(() => {
    close(sincos2d(16, 3, 5), f.get("d16_3x5")!, "sincos 16 3x5", 1e-6);
    close(sincos2d(32, 4, 4), f.get("d32_4x4")!, "sincos 32 4x4", 1e-6);
    close(positionsFor(f.get("learned_3x3")!, "learned", [3, 3], 4, 5), f.get("resampled_4x5")!, "bicubic resample");
    const m = new MaskedAutoencoder(TINY);
    close(m.posEmbed, f.get("d32_4x4")!, "a new model's pos_embed", 1e-6);
    m.dispose();
  });
});

test("registered vit models keep the EmbeddingModel contract, for sizes that need padding too", () => {
  manualSeed(0);
  for (const name of ["vit_tiny_mae", "vit_tiny_camae"]) {
    const m = createModel(name, { inChannels: 3, imageSize: [40, 40], latentDim: 64 });
    assert.equal(m.spec.latentDim, 192, "the embedding is the encoder width");
    assert.equal(m.spec.family, name.endsWith("camae") ? "camae" : "mae");
    tidy(() => {
      const x = rand([2, 3, 40, 40]);
      const out = m.lossTerms(x);
      assert.ok(Number.isFinite(out.total.item()));
      assert.deepEqual(out.recon.shape, x.shape);
      m.eval();
      noGrad(() => {
        assert.deepEqual(m.embed(x).shape, [2, 192]);
        close(m.embed(x), m.embed(x), "embed is deterministic", 0);
        const odd = rand([2, 3, 37, 45]); // padded to 40 × 48 inside, cropped back
        assert.deepEqual(m.reconstruct(odd).shape, [2, 3, 37, 45]);
        assert.deepEqual(m.embed(odd).shape, [2, 192]);
        assert.equal(m.lossTerms(x).total.item(), m.lossTerms(x).total.item(), "validation masks are fixed");
      });
    });
    m.dispose();
  }
  assert.deepEqual([...VIT_MODEL_NAMES].sort(), ["vit_base_mae", "vit_small_camae", "vit_small_mae", "vit_tiny_camae", "vit_tiny_mae"]);
});

test("masking keeps int(L·(1−ratio)) tokens per image, from the engine RNG (seeds reproduce)", () => {
  assert.equal(keptCount(25, 0.75), 6);
  assert.equal(keptCount(64, 0.75), 16);
  assert.equal(keptCount(3, 0.9), 1);
  assert.throws(() => keptCount(10, 1), ConfigError);
  tidy(() => {
    const x = rand([3, 25, 8]);
    manualSeed(7);
    const a = randomMasking(x, 0.75);
    manualSeed(7);
    const b = randomMasking(x, 0.75);
    assert.deepEqual(a.mask.sum(1).toFloat32(), new Float32Array([19, 19, 19]));
    close(a.mask, b.mask, "same seed, same mask", 0);
    close(a.visible, b.visible, "same seed, same visible tokens", 0);
  });
});

test("the pasted reconstruction shows the input on visible patches", () => {
  manualSeed(1);
  const m = new MaskedAutoencoder(TINY);
  tidy(() => {
    const x = rand([2, 3, 16, 16]);
    const f = m.forwardMasked(x);
    const pasted = m.pastedReconstruction(f);
    // visible pixels: pasted == x; per patch, mask says which
    const vis = repeatEach(repeatEach(f.mask.rsub(1).reshape([2, 4, 4]), 4, 1), 4, 2).unsqueeze(1);
    close(pasted.mul(vis), x.mul(vis), "visible patches", 0);
  });
  m.dispose();
});

test("the channel-agnostic MAE takes channels in any order and any subset, and checks ids", () => {
  manualSeed(2);
  const m = new ChannelAgnosticMAE({ ...TINY, inChannels: 3 }).eval();
  noGrad(() =>
    tidy(() => {
      const x = rand([2, 3, 16, 16]);
      const swapped = x.indexSelect(1, tensorOf([2, 0, 1]));
      close(m.embed(swapped, [2, 0, 1]), m.embed(x), "same channels in another order → same embedding");
      assert.deepEqual(m.embed(x.narrow(1, 1, 1), [1]).shape, [2, 32]);
      assert.deepEqual(m.reconstruct(x.narrow(1, 0, 2), [0, 2]).shape, [2, 2, 16, 16]);
      assert.throws(() => m.embed(x, [0, 1, 8]), ConfigError);
      assert.throws(() => m.embed(x, [0, 0, 1]), ConfigError);
      assert.throws(() => m.embed(x, [0, 1]), ConfigError);
    }),
  );
  m.train();
  tidy(() => {
    const x = rand([2, 3, 16, 16]);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const ids = m.randomSubset(3);
      assert.ok(ids.length >= 1 && ids.length <= 3);
      seen.add(ids.join(","));
    }
    assert.ok(seen.has("0,1,2") && seen.size >= 3, `subsets drawn: ${[...seen].join(" | ")}`);
    assert.deepEqual(m.lossTerms(x).recon.shape, [2, 3, 16, 16]);
  });
  const plain = new MaskedAutoencoder(TINY);
  assert.throws(() => tidy(() => plain.embed(rand([1, 2, 16, 16]))), ConfigError);
  plain.dispose();
  m.dispose();
});

const tensorOf = (ids: number[]): Tensor => tensor(new BigInt64Array(ids.map(BigInt)), [ids.length]);
/** Repeat each element k times along dim (torch.repeat_interleave). */
const repeatEach = (t: Tensor, k: number, dim: number): Tensor => op<Tensor>("repeat_interleave.self_int", t, k, dim, null);
