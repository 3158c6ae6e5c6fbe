// A small but real run folder for the evaluate/report tests, following the training engineer's contract:
// config.yaml, metrics.jsonl, run.json, recon/epoch_NNN.png, embeddings.parquet (id, path, label, group, z_*),
// embeddings.npy + index.csv. The "embeddings" are intensity statistics of real Jurkat cells (so classes
// separate for real), the paths point at the real TIFFs, and a few labels are missing on purpose.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encode } from "fast-png";
import { parquetWriteBuffer } from "hyparquet-writer";
import { MersenneTwister } from "../../src/eval/random.ts";
import { StandardScaler } from "../../src/eval/scaler.ts";
import { DATA } from "./helpers.ts";
import { jurkatIntensity } from "./jurkat.ts";

export interface FixtureRun { dir: string; n: number; d: number; unlabelled: number; labels: (string | null)[]; X: Float32Array }

export async function makeRun(dir: string, name = "tiny-run", perClass = 16): Promise<FixtureRun> {
  mkdirSync(join(dir, "recon"), { recursive: true });
  const j = await jurkatIntensity(perClass);
  const n = j.y7.length, d = j.d;
  const Z = StandardScaler.fit(j.X, d).transform(j.X);
  const X = Float32Array.from(Z);
  const labels: (string | null)[] = j.y7.map((v, i) => (i % 25 === 7 ? null : v));
  const ids = j.paths.map((p) => p.replace(/^cells_exp1\//, "").replace(/\.tif$/, ""));
  const paths = j.paths.map((p) => DATA + "jurkat/" + p);
  const groups = ids.map((_, i) => `plate${i % 6}`);

  const columnData: { name: string; data: unknown[] | Float32Array; type: string }[] = [
    { name: "id", data: ids, type: "STRING" },
    { name: "path", data: paths, type: "STRING" },
    { name: "label", data: labels, type: "STRING" },
    { name: "group", data: groups, type: "STRING" },
    ...Array.from({ length: d }, (_, f) => ({ name: `z_${f}`, data: Float32Array.from({ length: n }, (_, i) => X[i * d + f]), type: "FLOAT" })),
  ];
  writeFileSync(join(dir, "embeddings.parquet"), new Uint8Array(parquetWriteBuffer({ columnData: columnData as never })));

  // embeddings.npy (float32, C order) + index.csv
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  const h = Buffer.from(header + " ".repeat(pad) + "\n", "latin1");
  const pre = Buffer.alloc(10);
  pre.write("\x93NUMPY", 0, "latin1"); pre[6] = 1; pre[7] = 0; pre.writeUInt16LE(h.length, 8);
  writeFileSync(join(dir, "embeddings.npy"), Buffer.concat([pre, h, Buffer.from(X.buffer)]));
  writeFileSync(join(dir, "index.csv"), "index,id,path,label,group\n" + ids.map((id, i) => `${i},${id},${paths[i]},${labels[i] ?? ""},${groups[i]}`).join("\n") + "\n");

  // training log: 4 epochs, 5 train steps each, one val line per epoch
  const rng = new MersenneTwister(3);
  const lines: string[] = [];
  let step = 0;
  for (let e = 1; e <= 4; e++) {
    for (let s = 0; s < 5; s++, step++) {
      const recon = 0.5 / (1 + step * 0.3) + 0.01 * rng.random(), kl = 2 + 0.1 * step;
      lines.push(JSON.stringify({ epoch: e, step, split: "train", loss: recon + 0.01 * kl, recon, kl, lr: 1e-3 * (1 - step / 25), time_s: step * 0.5 }));
    }
    lines.push(JSON.stringify({ epoch: e, step, split: "val", loss: 0.6 / (1 + e), recon: 0.55 / (1 + e), kl: 2 + e, lr: 1e-3, time_s: step * 0.5 }));
  }
  writeFileSync(join(dir, "metrics.jsonl"), lines.join("\n") + "\n{\"epoch\": 5, \"st"); // last line cut off, as while training
  writeFileSync(join(dir, "run.json"), JSON.stringify({ name, model: "resnet18_vae", task: "images", data: DATA + "jurkat/cells_exp1.csv", epochs: 4, epochs_done: 4, status: "finished", best_val_loss: 0.12, wall_time_s: 61.5, latent_dim: d }, null, 2));
  writeFileSync(join(dir, "config.yaml"), `name: ${name}\nmodel: resnet18_vae\nlatent_dim: ${d}\nepochs: 4\ndata:\n  path: ${DATA}jurkat/cells_exp1.csv\n  image_size: 64\nseed: 42\n# a <tag> & "quotes" to check escaping\n`);
  // recon grids: a gradient and a checker, 2 rows (input / reconstruction) of 4 tiles of 16 px
  for (const [e, kind] of [[1, 0], [4, 1]] as const) {
    const w = 64, hh = 32, px = new Uint8Array(w * hh);
    for (let y = 0; y < hh; y++) for (let x = 0; x < w; x++) px[y * w + x] = kind ? (((x >> 2) + (y >> 2)) % 2) * 255 : (x * 4) & 255;
    writeFileSync(join(dir, "recon", `epoch_${String(e).padStart(3, "0")}.png`), encode({ width: w, height: hh, data: px, channels: 1, depth: 8 }));
  }
  return { dir, n, d, unlabelled: labels.filter((l) => l === null).length, labels, X };
}
