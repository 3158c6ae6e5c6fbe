// Writes every BBBC010 mask's N×N contour distance matrix (pixels, not normalised) to scratch/s6/D<N>.npy, rows in
// labels.csv order, for the Python experiments (shape_circular_padding.py).
// Usage: node --import tsx scripts/experiments/shape_dump_matrices.ts [N …]   (default 64)
import { mkdirSync, readFileSync } from "node:fs";
import { masksToDistanceMatrices, closeShapeWorkers } from "../../src/shapes/index.ts";
import { writeNpy } from "../../src/io/npy.ts";

const rows = readFileSync("../shared/data/bbbc010/labels.csv", "utf8").trim().split("\n").slice(1).map((l) => l.split(",")[0]);
mkdirSync("scratch/s6", { recursive: true });
for (const n of process.argv.slice(2).map(Number).concat(process.argv.length > 2 ? [] : [64])) {
  const m = await masksToDistanceMatrices(rows.map((r) => "../shared/data/bbbc010/" + r), { n, normalise: "none" });
  const out = new Float32Array(m.length * n * n);
  m.forEach((x, i) => out.set(x, i * n * n));
  await writeNpy(`scratch/s6/D${n}.npy`, out, [m.length, n, n]);
  console.log(`${m.length} matrices ${n}×${n} → scratch/s6/D${n}.npy`);
}
closeShapeWorkers();
