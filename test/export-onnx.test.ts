// ONNX export against our own engine: every mapped operator family in one traced function, the ResNet AE/VAE/VQ-VAE
// and ViT MAE/CA-MAE embed and reconstruct paths, each run by onnxruntime-node at batch sizes other than the traced
// ones and compared with the native forward within 1e-4 (absolute). Unmapped operators fail with their names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { F, manualSeed, noGrad, op, rand, randn, setThreads, tensor, tidy, type Tensor } from "../src/engine/index.ts";
import { createModel } from "../src/models/index.ts";
import "../src/models/vit/index.ts";
import { exportFunction, exportModel } from "../src/export/onnx-export.ts";
import { describeOnnx } from "../src/export/onnx-graph.ts";
import { onnxRunner } from "../src/export/ort.ts";

setThreads(1);
const TOL = 1e-4;

async function compare(fn: (x: Tensor) => Tensor, bytes: Uint8Array, sample: number[], batches: number[]): Promise<number> {
  const runner = await onnxRunner(bytes);
  let worst = 0;
  for (const b of batches) {
    const x = rand([b, ...sample]);
    const want = noGrad(() => tidy(() => fn(x).toFloat32()));
    const got = await runner.run(x.toArray() as Float32Array, [b, ...sample]);
    assert.equal(got.data.length, want.length, `batch ${b}: ${got.data.length} values from onnxruntime, ${want.length} native`);
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got.data[i]));
    x.dispose();
  }
  await runner.release();
  return worst;
}

test("every mapped operator family agrees with the native engine at unseen batch sizes", async () => {
  manualSeed(3);
  const p = (s: number[], scale = 0.3) => noGrad(() => randn(s).mul(scale)).keep();
  const w1 = p([6, 3, 3, 3]), b1 = p([6]);
  const bn = { w: p([6]), b: p([6]), m: p([6]), v: noGrad(() => rand([6]).add(0.5)).keep() };
  const gw = p([6]), gb = p([6]);
  const lw = p([16]), lb = p([16]);
  const fc = p([8, 16]), fcb = p([8]);
  const idx = tensor(new BigInt64Array([2n, 0n, 5n]), [3]).keep();
  const wt = p([6, 4, 2, 2]);
  const fn = (x: Tensor): Tensor => {
    let y = F.conv2d(x, w1, b1, 1, 1); // [B,6,8,8]
    y = F.batchNorm(y, bn.w, bn.b, bn.m, bn.v, false).relu();
    y = F.groupNorm(y, 3, gw, gb);
    const up = F.interpolate(F.maxPool2d(y, 2), { scale: 2, mode: "nearest" }); // [B,6,8,8]
    const lin = F.interpolate(F.avgPool2d(y, 2), { size: [8, 8], mode: "bilinear" });
    const t = F.convTranspose2d(F.avgPool2d(y, 2), wt, null, 2); // [B,4,8,8]
    let z = op<Tensor>("cat", [up, lin.sigmoid(), t.tanh()], 1); // [B,16,8,8]
    z = F.pad(z, [1, 1, 2, 0]).narrow(2, 1, 8).slice(3, 1, 9); // back to 8×8
    z = F.pad(z, [1, 1, 1, 1], "reflect").narrow(3, 1, 8).narrow(2, 0, 8);
    const tokens = z.flatten(2).transpose(1, 2); // [B,64,16]
    const h = F.layerNorm(tokens, [16], lw, lb).gelu();
    const q = F.linear(h, fc, fcb); // [B,64,8]
    const att = q.matmul(q.transpose(1, 2)).mul(0.1).softmax(-1).matmul(q); // [B,64,8]
    const pooled = att.mean(1); // [B,8]
    const cls = pooled.unsqueeze(1).expand([x.shape[0], 3, 8]).permute([0, 2, 1]); // [B,8,3]
    const [a, b2, c] = op<Tensor[]>("unbind.int", cls, 2);
    const st = op<Tensor>("stack", [a.sub(1).div(2), b2.rsub(1).pow(2), c.clamp(-0.5, 0.5)], 1); // [B,3,8]
    const sel = st.select(1, 2).add(st.indexSelect(2, idx.narrow(0, 0, 2)).sum([1, 2]).unsqueeze(1)); // [B,8]
    const extra = z.amax([2, 3]).sub(z.std([2, 3])).add(z.norm(2, [2, 3])).narrow(1, 0, 8); // [B,8]
    const gelt = sel.gelu("tanh").add(F.linear(F.adaptiveAvgPool2d(z, 1).flatten(1), fc, fcb));
    return op<Tensor>("cat", [gelt, extra.reshape([-1, 2, 4]).reshape([x.shape[0], 8]), st.flatten(1).leakyRelu(0.2).silu()], 1).squeeze();
  };
  const e = exportFunction(fn, [3, 8, 8]);
  assert.deepEqual(describeOnnx(e.bytes).inputs[0].dims, ["batch", 3, 8, 8]);
  for (const o of ["Conv", "BatchNormalization", "MaxPool", "AveragePool", "Resize", "ConvTranspose", "Pad", "Slice", "LayerNormalization", "MatMul", "Softmax", "Expand", "Split", "Gather", "GlobalAveragePool", "Gemm", "ReduceMean", "ReduceMax", "ReduceL2"])
    assert.ok(e.onnxOps[o], `expected ${o} among ${Object.keys(e.onnxOps).join(", ")}`);
  const worst = await compare(fn, e.bytes, [3, 8, 8], [1, 2, 7]);
  assert.ok(worst < TOL, `max |onnx − native| = ${worst}`);
});

test("an unmapped operator is named; a forward that branches on the batch size is refused", () => {
  assert.throws(() => exportFunction((x) => x.relu().cumsum(1).flip([2]), [2, 4]), /no mapping for ATen operators 'cumsum' \(1 call\), 'flip' \(1 call\)/);
  assert.throws(() => exportFunction((x) => (x.shape[0] > 4 ? x.relu() : x.sigmoid()), [2]), /different operators|is relu at batch 3 but sigmoid|sigmoid at batch 3 but relu/);
  // dead code (never reaching the output) is not exported, so an unmapped op there is fine
  const e = exportFunction((x) => (x.cumsum(1), x.tanh()), [4]);
  assert.deepEqual(Object.keys(e.atenOps), ["tanh"]);
});

const CASES: [string, [number, number]][] = [
  ["resnet18_ae", [40, 40]], // 40 pads to 64 inside the model: the Pad and Slice (crop) paths
  ["resnet18_vae", [32, 32]],
  ["resnet18_vqvae", [32, 32]],
  ["vit_tiny_mae", [32, 32]],
  ["vit_tiny_camae", [24, 24]],
];

for (const [name, size] of CASES) {
  test(`${name}: embed and reconstruct paths, BN as BatchNormalization and folded`, async () => {
    manualSeed(7);
    const model = createModel(name, { inChannels: 3, latentDim: 16, imageSize: size });
    model.eval();
    for (const fold of [false, true]) {
      if (fold && !model.fuseForInference) continue;
      if (fold) model.fuseForInference!();
      for (const path of ["embed", "reconstruct"] as const) {
        const e = exportModel(model, { path });
        assert.equal(e.input.dims[0], "batch");
        assert.equal(e.output.dims[0], "batch");
        if (!fold && name.startsWith("resnet")) assert.ok(e.onnxOps.BatchNormalization);
        if (fold) assert.equal(e.onnxOps.BatchNormalization, undefined);
        const fn = path === "embed" ? (x: Tensor) => model.embed(x) : (x: Tensor) => model.reconstruct(x);
        const worst = await compare(fn, e.bytes, [3, ...size], [2]);
        assert.ok(worst < TOL, `${name} ${path} fold=${fold}: max |onnx − native| = ${worst}`);
      }
    }
    model.dispose();
  });
}
