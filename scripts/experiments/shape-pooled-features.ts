// Experiment: RF on the encoder's 512-d globally pooled features (before fc), averaged over the 16 symmetry
// variants, instead of the 64-d latent. Writes a CSV feature table for `bie evaluate`.
// Usage: node --import tsx scripts/experiments/shape-pooled-features.ts runs/<shape run> out.csv (then add the label
// columns of labels.csv by mask file name and run `bie evaluate out.csv labels=label_bioimage_embed`).
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { loadRunModel } from "../../src/train/index.ts";
import { tidy, noGrad, tensor, op, type Tensor } from "../../src/engine/index.ts";

const run = process.argv[2], out = process.argv[3];
const { model, src } = await loadRunModel(run, ["engine.threads=1"]);
const enc = (model as unknown as { encoder: { features(x: Tensor): Tensor }; pad(x: Tensor): Tensor }).encoder;
const rows: string[] = [];
let header = "";
for await (const b of src.loaderFor(src.items.map((_, i) => i), 256)) {
  const per = src.variantsPerItem ?? 1;
  const f = noGrad(() => tidy(() => {
    const x = tensor(b.x, b.shape);
    const feats = op<Tensor>("adaptive_avg_pool2d", enc.features(x), [1, 1]).flatten(1);
    return feats.reshape([b.indices.length, per, -1]).mean(1).contiguous().toArray() as Float32Array;
  }));
  const d = f.length / b.indices.length;
  if (!header) header = ["id", ...Array.from({ length: d }, (_, k) => `f${k}`)].join(",");
  b.indices.forEach((i, r) => rows.push([basename(src.items[i].path), ...Array.from(f.subarray(r * d, (r + 1) * d), (v) => v.toPrecision(6))].join(",")));
}
writeFileSync(out, header + "\n" + rows.join("\n") + "\n");
console.log(`${rows.length} rows → ${out}`);
