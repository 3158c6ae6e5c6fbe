// Rebuilds the demo sample from ../shared/data (read-only source). Deterministic: same files every run.
//   node --import tsx demo-data/make-demo-data.ts [SHARED_DATA_DIR]
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCsv } from "../src/data/csv.ts";
import { Rng } from "../src/data/rng.ts";

const here = dirname(fileURLToPath(import.meta.url));
const shared = process.argv[2] ?? join(here, "../../shared/data");
const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const toCsv = (header: string[], rows: string[][]) => [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";

// Jurkat: ~300 crops. The rare mitotic classes are kept whole up to CAP; the rest of the budget is shared
// equally by the large classes, so every class has enough examples to show up in an embedding plot.
const TOTAL = 300, CAP = 50;
const jk = parseCsv(readFileSync(join(shared, "jurkat/cells_exp1.csv"), "utf8"));
const byClass = new Map<string, string[][]>();
for (const r of jk.rows) byClass.set(r[2], [...(byClass.get(r[2]) ?? []), r]);
const classes = [...byClass.keys()].sort();
const rng = new Rng(42);
const quota = new Map<string, number>();
const small = classes.filter((c) => byClass.get(c)!.length <= CAP * 2);
for (const c of small) quota.set(c, Math.min(CAP, byClass.get(c)!.length));
const large = classes.filter((c) => !small.includes(c));
let left = TOTAL - [...quota.values()].reduce((a, b) => a + b, 0);
large.forEach((c, i) => {
  const q = Math.floor(left / (large.length - i));
  quota.set(c, q);
  left -= q;
});
const jOut = join(here, "jurkat");
rmSync(jOut, { recursive: true, force: true });
const jRows: string[][] = [];
for (const c of classes) {
  const pick = rng.shuffle([...byClass.get(c)!]).slice(0, quota.get(c)).sort((a, b) => Number(a[0]) - Number(b[0]));
  mkdirSync(join(jOut, c), { recursive: true });
  for (const r of pick) {
    const file = `${r[0].padStart(4, "0")}.tif`;
    copyFileSync(join(shared, "jurkat/cells_exp1", c, file), join(jOut, c, file));
    jRows.push([`${c}/${file}`, c, r[0], r[3], r[4], r[5]]);
  }
}
writeFileSync(join(jOut, "manifest.csv"), toCsv(["path", "label", "source_index", "montage", "tile_col", "tile_row"], jRows));
console.log("jurkat:", Object.fromEntries(quota), "total", jRows.length);

// BBBC010: 200 single-worm masks, 100 alive + 100 dead by label_bioimage_embed (the reference labels).
const bb = parseCsv(readFileSync(join(shared, "bbbc010/labels.csv"), "utf8"));
const col = (n: string) => bb.header.indexOf(n);
const keepCols = bb.header.filter((h) => !h.startsWith("image_w")); // raw images are not shipped
const bOut = join(here, "bbbc010");
rmSync(bOut, { recursive: true, force: true });
mkdirSync(join(bOut, "masks"), { recursive: true });
const bRows: string[][] = [];
const brng = new Rng(42);
for (const label of ["alive", "dead"]) {
  const rows = bb.rows.filter((r) => r[col("label_bioimage_embed")] === label);
  for (const r of brng.shuffle([...rows]).slice(0, 100)) {
    const src = r[col("mask_file")];
    const rel = `masks/${src.split("/").pop()}`;
    copyFileSync(join(shared, "bbbc010", src), join(bOut, rel));
    bRows.push([rel, label, ...keepCols.map((h) => (h === "mask_file" ? rel : r[col(h)]))]);
  }
}
bRows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
writeFileSync(join(bOut, "labels.csv"), toCsv(["path", "label", ...keepCols], bRows));
console.log("bbbc010:", bRows.length, "masks");
