// Test-time averaging over image symmetries (embed.average=dihedral): the 8 transforms equal libtorch's
// rot90/flip (PyTorch's semantics), and an embedding averaged over them is the same for a cell however it lay.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dihedralCount, dihedralTransform } from "../src/data/index.ts";
import { readImage } from "../src/io/image.ts";
import { tensor, op, noGrad, tidy, manualSeed, setThreads, type Tensor } from "../src/engine/index.ts";
import { createModel } from "../src/models/index.ts";
import { averagedOver } from "../src/train/embed.ts";

const root = fileURLToPath(new URL("../", import.meta.url));

test("dihedral transforms: the 8 of a square batch are libtorch's rot90 × flip; 4 of a non-square one", () => {
  const shape = [2, 3, 5, 5];
  const x = Float32Array.from({ length: 150 }, (_, i) => i * 0.5 - 7);
  const seen = new Set<string>();
  for (let k = 0; k < dihedralCount(5, 5); k++) {
    const ref = tidy(() => {
      let t: Tensor = tensor(x, shape);
      if (k >= 4) t = t.flip([3]);
      return (op<Tensor>("rot90", t, k & 3, [2, 3]).contiguous().toArray() as Float32Array).slice();
    });
    assert.deepEqual(dihedralTransform(x, shape, k), ref, `symmetry ${k}`);
    seen.add(dihedralTransform(x, shape, k).join());
  }
  assert.equal(seen.size, 8);
  const rect = [1, 2, 3, 4], xr = Float32Array.from({ length: 24 }, (_, i) => i);
  assert.equal(dihedralCount(3, 4), 4);
  const refs = [[], [3], [2], [2, 3]].map((dims) => tidy(() => (dims.length ? tensor(xr, rect).flip(dims) : tensor(xr, rect)).contiguous().toArray() as Float32Array).slice());
  refs.forEach((r, k) => assert.deepEqual(dihedralTransform(xr, rect, k), r, `non-square symmetry ${k}`));
  assert.throws(() => dihedralTransform(xr, rect, 4), RangeError);
});

test("an embedding averaged over the 8 symmetries is the same for a Jurkat cell turned or mirrored", async () => {
  setThreads(1);
  manualSeed(3);
  const img = await readImage(join(root, "demo-data/jurkat/G1/0024.tif"));
  const [h, w] = [img.height, img.width];
  assert.equal(h, w);
  const x = new Float32Array(img.channels * h * w);
  for (let i = 0; i < x.length; i++) x[i] = Number(img.data[i]) / 65535;
  const shape = [1, img.channels, h, w];
  const model = createModel("resnet18_ae", { inChannels: img.channels, latentDim: 16, imageSize: [h, w] });
  model.eval();
  try {
    const embed = (v: Float32Array) => noGrad(() => tidy(() => model.embed(tensor(v, shape)).toArray() as Float32Array).slice());
    const base = await averagedOver(8, x, shape, embed);
    const scale = Math.max(...Array.from(base, Math.abs));
    for (const k of [1, 2, 5, 7]) {
      const turned = await averagedOver(8, dihedralTransform(x, shape, k), shape, embed);
      for (let i = 0; i < base.length; i++) assert.ok(Math.abs(turned[i] - base[i]) <= 1e-5 * scale, `symmetry ${k}, dim ${i}: ${turned[i]} vs ${base[i]}`);
    }
    // Without averaging the embedding does depend on the pose.
    const plain = embed(x), plainTurned = embed(dihedralTransform(x, shape, 1));
    assert.ok(plain.some((v, i) => Math.abs(v - plainTurned[i]) > 1e-3 * scale));
  } finally {
    model.dispose();
  }
});
