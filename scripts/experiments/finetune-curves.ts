// Validation-loss curves of runs trained on the same data (issue 13, fine-tuning): one column per run, one row
// per epoch, and for each run the first epoch whose val loss reaches the reference run's best (default: the first
// run given, e.g. the from-scratch run).
// Usage: node --import tsx scripts/experiments/finetune-curves.ts runs/scratchB runs/ftB [runs/ftB_frozen ...]
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";

const dirs = process.argv.slice(2);
if (dirs.length < 2) throw new Error("give the reference run folder first, then the others");
const curves = dirs.map((d) =>
  readFileSync(join(d, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.split === "val").map((r) => r.loss as number),
);
const target = Math.min(...curves[0]);
const epochs = Math.max(...curves.map((c) => c.length));
console.log(`| epoch | ${dirs.map((d) => basename(d)).join(" | ")} |`);
console.log(`|---|${dirs.map(() => "---").join("|")}|`);
for (let e = 0; e < epochs; e++) console.log(`| ${e + 1} | ${curves.map((c) => (c[e] === undefined ? "" : c[e].toFixed(5))).join(" | ")} |`);
console.log(`\nreference: best val loss of ${basename(dirs[0])} = ${target.toFixed(5)} (epoch ${curves[0].indexOf(target) + 1})`);
for (const [i, c] of curves.entries()) {
  const first = c.findIndex((v) => v <= target);
  console.log(`${basename(dirs[i])}: reaches it at epoch ${first < 0 ? "never" : first + 1}; best ${Math.min(...c).toFixed(5)}`);
}
