// Synthetic batch effect on the real Jurkat crops (issue 13): every cell goes at random (seeded) into batch A or
// B; batch B gets a realistic acquisition shift — per-channel gain and offset, Gaussian blur (focus), Gaussian
// noise (camera). Writes 16-bit 3-channel PNGs and three manifests:
//   clean.csv   all cells as acquired, with the batch column (the unshifted reference run)
//   shifted.csv batch B cells replaced by their shifted copies (the batch-effect data)
//   paired.csv  every cell twice, once per batch (re-imaged replicates; group column `cell`)
// Usage: node --import tsx scripts/experiments/batch-effect-data.ts [outDir] [seed]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { readImage } from "../../src/io/image.ts";
import { parseCsv, Rng, hash32 } from "../../src/data/index.ts";
import { png16, shiftCell } from "./batch-shift.ts";

const JURKAT = "/work/shared/data/jurkat";
const out = resolve(process.argv[2] ?? "scratch/batch-effect");
const seed = Number(process.argv[3] ?? 13);
const { header, rows } = parseCsv(readFileSync(join(JURKAT, "cells_exp1.csv"), "utf8"));
const col = (name: string) => header.indexOf(name);
mkdirSync(join(out, "A"), { recursive: true });
mkdirSync(join(out, "B"), { recursive: true });
const clean: string[] = [], shifted: string[] = [], paired: string[] = [];
let nB = 0;
for (const row of rows) {
  const index = row[col("index")], label = row[col("label")];
  const cell = `c${index.padStart(4, "0")}`;
  const src = join(JURKAT, "cells_exp1", label, `${index.padStart(4, "0")}.tif`);
  const img = await readImage(src);
  const batch = new Rng(hash32(seed, Number(index))).next() < 0.5 ? "A" : "B";
  const shiftedFile = join(out, "B", `${cell}.png`);
  const shiftedPix = shiftCell(img.data as Uint16Array, img.width, img.height, img.channels, new Rng(hash32(seed, Number(index), 0xb)));
  writeFileSync(shiftedFile, png16(shiftedPix, img.width, img.height, img.channels));
  clean.push([cell, src, label, batch, cell].join(","));
  shifted.push([cell, batch === "B" ? shiftedFile : src, label, batch, cell].join(","));
  paired.push([`${cell}_A`, src, label, "A", cell].join(","), [`${cell}_B`, shiftedFile, label, "B", cell].join(","));
  if (batch === "B") nB++;
}
const head = "id,path,label,batch,cell";
for (const [name, lines] of [["clean.csv", clean], ["shifted.csv", shifted], ["paired.csv", paired]] as const) writeFileSync(join(out, name), [head, ...lines].join("\n") + "\n");
console.log(`${rows.length} cells, ${nB} in batch B (shifted copies written to ${join(out, "B")}); manifests in ${out}`);
