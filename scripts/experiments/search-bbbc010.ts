// Patch search on BBBC010 (issue 13): train a small AE on 64×64 tiles of wells A01 and A02 (fluorescence, w1), then
// in each held-out well (A13, A14) use every worm tile as a query in turn and measure, against the per-worm masks,
// how often the query itself ranks first and the precision@5 of worm tiles among the next five hits (hits as
// bie search reports them: none overlapping a better hit, the query included, by more than 25% of its area).
// Usage: node --import tsx scripts/experiments/search-bbbc010.ts [workDir] [epochs]
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { encode } from "fast-png";
import { readImage } from "../../src/io/image.ts";
import { gridTiles } from "../../src/io/tiles.ts";
import { run } from "../../src/cli/program.ts";
import { distinctHits, searchPatches, standardisedCosine } from "../../src/search/index.ts";

const BBBC = "/work/shared/data/bbbc010";
const work = resolve(process.argv[2] ?? "scratch/search-bbbc010");
const epochs = Number(process.argv[3] ?? 5);
const w1 = (well: string) => join(BBBC, "images", readdirSync(join(BBBC, "images")).find((f) => f.includes(`_${well}_w1_`))!);
const WORM = 0.02, QUERY = 0.1; // worm tile: ≥ 2% worm pixels; query tiles: ≥ 10%

async function wormMask(well: string) {
  const files = readdirSync(join(BBBC, "masks_eachworm")).filter((f) => f.startsWith(`${well}_`));
  let m: Uint8Array | null = null, w = 0;
  for (const f of files) {
    const img = await readImage(join(BBBC, "masks_eachworm", f));
    w = img.width;
    m ??= new Uint8Array(img.width * img.height);
    for (let i = 0; i < m.length; i++) if (img.data[i]) m[i] = 1;
  }
  return (x: number, y: number, s: number) => { let n = 0; for (let j = y; j < y + s; j++) for (let i = x; i < x + s; i++) n += m![j * w + i]; return n / (s * s); };
}

mkdirSync(join(work, "tiles"), { recursive: true });
for (const well of ["A01", "A02"]) {
  const img = await readImage(w1(well));
  for (const t of gridTiles({ t: 1, c: 1, z: 1, y: img.height, x: img.width }, { size: 64, stride: 48 })) {
    const px = new Uint16Array(64 * 64);
    for (let j = 0; j < 64; j++) px.set((img.data as Uint16Array).subarray((t.y0 + j) * img.width + t.x0, (t.y0 + j) * img.width + t.x0 + 64), j * 64);
    writeFileSync(join(work, "tiles", `${well}_${t.y0}_${t.x0}.png`), encode({ width: 64, height: 64, data: px, depth: 16, channels: 1 }));
  }
}
const runDir = join(work, "worms");
if (!existsSync(join(runDir, "run.json")))
  await run(["train", `data.path=${join(work, "tiles")}`, "model=resnet18_ae", "latent_dim=16", "data.image_size=32", "batch_size=16", `epochs=${epochs}`, "data.workers=0", "engine.threads=1", `runs_dir=${work}`, "name=worms"]);

console.log(`| well | tiles | worm tiles (base rate) | queries | query itself at rank 1 | mean precision@5 | queries with p@5 ≥ 0.8 |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const well of ["A13", "A14"]) {
  const cover = await wormMask(well);
  const r = await searchPatches(runDir, { query: w1(well), box: [0, 0, 64, 64], target: w1(well), tile: 64, stride: 32, k: 1, keepVectors: true });
  const tiles = r.all.map((a) => a.tile);
  const worm = tiles.map((t) => cover(t.x0, t.y0, 64) >= WORM);
  const queries = tiles.map((t, i) => (cover(t.x0, t.y0, 64) >= QUERY ? i : -1)).filter((i) => i >= 0);
  let self = 0, p5sum = 0, good = 0;
  for (const q of queries) {
    const s = standardisedCosine(r.vectors!.tiles[q], r.vectors!.tiles);
    const order = Array.from(s.keys()).sort((a, b) => s[b] - s[a] || a - b);
    // As bie search reports them: hits overlapping a better one (the query included) by > 25% are skipped.
    const hits = distinctHits(order, tiles.map((t) => ({ image: 0, ...t })), 0.25, 6);
    if (hits[0] === q) self++;
    const p5 = hits.filter((i) => i !== q).slice(0, 5).filter((i) => worm[i]).length / 5;
    p5sum += p5;
    if (p5 >= 0.8) good++;
  }
  const base = worm.filter(Boolean).length / worm.length;
  console.log(`| ${well} | ${tiles.length} | ${base.toFixed(3)} | ${queries.length} | ${self}/${queries.length} | ${(p5sum / queries.length).toFixed(3)} | ${good}/${queries.length} |`);
}
