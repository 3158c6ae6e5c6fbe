// Patch search (issue 13 part 4) on BBBC010: a small model trained on tiles of well A01, then `bie search` with a
// worm tile of well A13 as the query over all of A13: the crop itself comes first, and the next five hits are
// worm tiles (judged against the per-worm masks) far more often than the image's share of worm tiles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encode, decode } from "fast-png";
import { readImage } from "../src/io/image.ts";
import { gridTiles } from "../src/io/tiles.ts";
import { parseCsv } from "../src/data/index.ts";
import { run } from "../src/cli/program.ts";
import { tempDir } from "./temp-dir.ts";

const BBBC = "/work/shared/data/bbbc010";
const work = tempDir("search");
const quiet = { out: { write: () => true }, err: { write: () => true } };
const w1 = (well: string) => join(BBBC, "images", readdirSync(join(BBBC, "images")).find((f) => f.includes(`_${well}_w1_`))!);

/** Union of a well's per-worm masks. */
async function wormMask(well: string): Promise<{ m: Uint8Array; w: number; h: number }> {
  const files = readdirSync(join(BBBC, "masks_eachworm")).filter((f) => f.startsWith(`${well}_`));
  let out: Uint8Array | null = null, w = 0, h = 0;
  for (const f of files) {
    const img = await readImage(join(BBBC, "masks_eachworm", f));
    (w = img.width), (h = img.height);
    out ??= new Uint8Array(w * h);
    for (let i = 0; i < w * h; i++) if (img.data[i]) out[i] = 1;
  }
  return { m: out!, w, h };
}
const cover = (mask: { m: Uint8Array; w: number }, x: number, y: number, s: number) => {
  let n = 0;
  for (let j = y; j < y + s; j++) for (let i = x; i < x + s; i++) n += mask.m[j * mask.w + i];
  return n / (s * s);
};
const WORM = 0.02; // a tile is a worm tile when worm pixels cover at least 2% of it (a worm end)

test("bie search on BBBC010: the query crop ranks first, precision@5 of worm tiles against the masks, distinct hits, table and figure", { timeout: 300_000 }, async () => {
  // Training tiles: 64×64 crops of A01's fluorescence channel, as 16-bit PNGs.
  const a01 = await readImage(w1("A01"));
  mkdirSync(join(work, "tiles"));
  for (const t of gridTiles({ t: 1, c: 1, z: 1, y: a01.height, x: a01.width }, { size: 64 })) {
    const px = new Uint16Array(64 * 64);
    for (let j = 0; j < 64; j++) px.set((a01.data as Uint16Array).subarray((t.y0 + j) * a01.width + t.x0, (t.y0 + j) * a01.width + t.x0 + 64), j * 64);
    writeFileSync(join(work, "tiles", `${t.y0}_${t.x0}.png`), encode({ width: 64, height: 64, data: px, depth: 16, channels: 1 }));
  }
  const train = ["model=resnet18_ae", "latent_dim=16", "data.image_size=32", "batch_size=16", "epochs=1", "data.workers=0", "engine.threads=1", `runs_dir=${work}`, "name=worms", "optim.warmup_epochs=0"];
  assert.equal(await run(["train", `data.path=${join(work, "tiles")}`, ...train], quiet), 0);

  // The query: A13's tile (on the 32-pixel grid) with the most worm.
  const mask = await wormMask("A13");
  const grid = gridTiles({ t: 1, c: 1, z: 1, y: mask.h, x: mask.w }, { size: 64, stride: 32 });
  const q = grid.reduce((best, t) => (cover(mask, t.x0, t.y0, 64) > cover(mask, best.x0, best.y0, 64) ? t : best));
  const out = join(work, "found");
  const said: string[] = [];
  const io = { out: { write: (s: string) => (said.push(s), true) }, err: { write: () => true } };
  const code = await run(["search", join(work, "worms"), `query=${w1("A13")}`, `box=${q.x0},${q.y0},64,64`, `in=${w1("A13")}`, "k=10", "tile=64", "stride=32", `out=${out}`], io);
  assert.equal(code, 0, said.join(""));

  const { header, rows } = parseCsv(readFileSync(join(out, "hits.csv"), "utf8"));
  assert.deepEqual(header, ["rank", "score", "image", "level", "x", "y", "w", "h"]);
  assert.equal(rows.length, 10);
  const hit = (r: string[]) => ({ x: +r[4], y: +r[5], score: +r[1] });
  assert.deepEqual([hit(rows[0]).x, hit(rows[0]).y], [q.x0, q.y0], "the crop itself at rank 1");
  assert.ok(hit(rows[0]).score > 0.9999);
  // Hits are distinct places: none covers more than 25% of a better one (the default overlap=0.25).
  const boxes = rows.map(hit);
  for (let i = 1; i < boxes.length; i++)
    for (let j = 0; j < i; j++) {
      const ix = Math.max(0, 64 - Math.abs(boxes[i].x - boxes[j].x)), iy = Math.max(0, 64 - Math.abs(boxes[i].y - boxes[j].y));
      assert.ok((ix * iy) / 4096 <= 0.25, `hits ${j + 1} and ${i + 1} overlap`);
    }
  const worms = rows.slice(1, 6).map((r) => cover(mask, hit(r).x, hit(r).y, 64) >= WORM);
  const p5 = worms.filter(Boolean).length / 5;
  const base = grid.filter((t) => cover(mask, t.x0, t.y0, 64) >= WORM).length / grid.length;
  console.log(`precision@5 ${p5} (worm tiles in A13: ${base.toFixed(3)} of ${grid.length}); hits ${rows.slice(1, 6).map((r) => `${r[4]},${r[5]}`).join(" ")}`);
  assert.ok(p5 >= 0.8 && p5 > base + 0.3, `precision@5 ${p5} vs base rate ${base.toFixed(3)}`);

  // The figure: the whole image with outlines (query cyan, hits red→yellow).
  const png = decode(readFileSync(join(out, "hits.png")));
  assert.deepEqual([png.width, png.height, png.channels], [mask.w, mask.h, 3]);
  const at = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 3, (y * png.width + x) * 3 + 3));
  assert.deepEqual(at(q.x0 - 3, q.y0 + 40), [0, 220, 255], "the query outline");
  const h2 = hit(rows[1]);
  assert.deepEqual(at(h2.x, h2.y + 40).slice(0, 1), [255], "a hit outline");
  const summary = JSON.parse(readFileSync(join(out, "search.json"), "utf8"));
  assert.equal(summary.tiles, grid.length);
});

test("bie search in a dataset (folder of images): one candidate per image, the query image itself first", { timeout: 300_000 }, async () => {
  const dir = join(work, "tiles");
  const files = readdirSync(dir).sort();
  const query = join(dir, files[7]);
  const io = { out: { write: () => true }, err: { write: () => true } };
  assert.equal(await run(["search", join(work, "worms"), `query=${query}`, `in=${dir}`, "k=3", `out=${join(work, "ds")}`], io), 0);
  const { rows } = parseCsv(readFileSync(join(work, "ds", "hits.csv"), "utf8"));
  assert.equal(rows[0][2], query);
  assert.deepEqual(rows[0].slice(4), ["0", "0", "64", "64"]);
  const strip = decode(readFileSync(join(work, "ds", "hits.png")));
  assert.equal(strip.width, 4 * (96 + 6) + 6, "query + 3 hits side by side");
});
