// The shard contract, merge checks, sweep plans, ASHA, and Slurm array scripts run locally with the array
// variables set. Merged shards must be byte-identical to one single-process `bie embed`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { embedShard } from "../src/distributed/embed-shard.ts";
import { mergeShards } from "../src/distributed/merge.ts";
import { parseShard } from "../src/distributed/shard.ts";
import { promotions, rungBudgets } from "../src/distributed/asha.ts";
import { planSweep } from "../src/distributed/sweep-spec.ts";
import { shardItems } from "../src/train/embed.ts";
import { bieJs, jurkatManifest, runBie, startSlurm, TINY, trainTinyRun, waitFor } from "./scale-helpers.ts";
import { tempDir } from "./temp-dir.ts";

const work = tempDir("scale-shard");
let run = "";
let manifest = "";
const ref = join(work, "ref");
const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

before(async () => {
  run = await trainTinyRun(work);
  manifest = jurkatManifest(join(work, "cells.csv"), 90);
  await embedShard(run, [`data.path=${manifest}`], { out: ref }); // the single-process reference
});
after(() => rmSync(work, { recursive: true, force: true }));

test("shard=i/N parses and rejects what is not a shard", () => {
  assert.deepEqual(parseShard("3/8"), { index: 3, count: 8 });
  for (const bad of ["8/8", "1/0", "a/2", "1", "-1/2"]) assert.throws(() => parseShard(bad), /shard=/);
});

test("shard i of N takes the blocks i, i+N, ... of one embedding batch each: every item exactly once, in order", () => {
  assert.deepEqual(shardItems(10, { index: 0, count: 2 }, 3), [0, 1, 2, 6, 7, 8]);
  assert.deepEqual(shardItems(10, { index: 1, count: 2 }, 3), [3, 4, 5, 9]);
  assert.deepEqual(shardItems(2, { index: 1, count: 4 }, 3), []);
  for (const [total, count, block] of [[90, 3, 32], [1000, 7, 64], [5, 8, 1]]) {
    const seen = Array.from({ length: count }, (_, index) => shardItems(total, { index, count }, block)).flat().sort((a, b) => a - b);
    assert.deepEqual(seen, Array.from({ length: total }, (_, j) => j));
  }
});

test("ASHA: rung budgets and promotion of the top 1/η at each rung", () => {
  assert.deepEqual(rungBudgets(1, 9, 3), [1, 3, 9]);
  assert.deepEqual(rungBudgets(1, 4, 2), [1, 2, 4]);
  assert.deepEqual(rungBudgets(2, 10, 3), [2, 6, 10]);
  assert.deepEqual(rungBudgets(5, 5, 3), [5]);
  const t = (trial: number, losses: (number | undefined)[], terminal = false) => ({ trial, losses, terminal });
  // Two of four at rung 0 → top floor(2/2)=1 promoted; trial 3 has not reported yet.
  assert.deepEqual(promotions([t(0, [0.5]), t(1, [0.3]), t(2, []), t(3, [])], 3, 2), [{ trial: 1, rung: 1 }]);
  // Already promoted trials are not promoted again; a diverged (terminal) trial never is; higher rungs first.
  const s = [t(0, [0.2, 0.1]), t(1, [0.3, 0.4]), t(2, [0.1, undefined]), t(3, [Infinity], true)];
  assert.deepEqual(promotions(s, 3, 2), [{ trial: 0, rung: 2 }, { trial: 2, rung: 1 }]);
});

test("sweep trials are a pure function of the spec: grid order, seeded random, keys checked", () => {
  const spec = (body: string) => {
    const f = join(work, `spec_${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, `out: ${join(work, "sw")}\nset: {data.path: ${manifest}}\n${body}`);
    return f;
  };
  const grid = planSweep(spec("params:\n  optim.lr: [0.001, 0.01]\n  latent_dim: [8, 16, 32]\n"));
  assert.equal(grid.trials.length, 6);
  assert.deepEqual(grid.trials[1].params, { "optim.lr": 0.001, latent_dim: 16 });
  assert.ok(grid.trials[5].overrides.includes(`name=trial_005`));
  const rnd = "method: random\ntrials: 5\nseed: 3\nparams:\n  optim.lr: {min: 0.0001, max: 0.1, log: true}\n  batch_size: {min: 4, max: 32, int: true}\n";
  const a = planSweep(spec(rnd)), b = planSweep(spec(rnd));
  assert.deepEqual(a.trials, b.trials);
  assert.notDeepEqual(planSweep(spec(rnd.replace("seed: 3", "seed: 4"))).trials.map((t) => t.params), a.trials.map((t) => t.params));
  for (const t of a.trials) assert.ok((t.params["optim.lr"] as number) >= 1e-4 && (t.params["optim.lr"] as number) <= 0.1 && Number.isInteger(t.params.batch_size));
  const asha = planSweep(spec("params:\n  optim.lr: [0.001]\nasha: {min_epochs: 1, max_epochs: 9, reduction_factor: 3}\n"));
  assert.deepEqual(asha.rungs, [1, 3, 9]);
  assert.ok(asha.trials[0].overrides.includes("epochs=9"));
  assert.throws(() => planSweep(spec("params:\n  optim.learning_rate: [0.1]\n")), /optim\.learning_rate.*unknown key/);
  assert.throws(() => planSweep(spec("params:\n  optim.lr: {min: 0.1, max: 1}\n")), /grid needs a list/);
});

test("shards are deterministic and idempotent; the merged table is byte-identical to one process", async () => {
  const out = join(work, "sharded");
  // Blocks of one embedding batch (batch_size 8 × 4 = 32 items): shards 0 and 1 hold 32, shard 2 the last 26.
  for (const index of [2, 0, 1]) {
    const r = await embedShard(run, [`data.path=${manifest}`], { shard: { index, count: 3 }, out, partSize: 7 });
    assert.equal(r.rows, [32, 32, 26][index]);
    assert.equal(r.skipped, false);
  }
  const done = join(out, "shards", "shard_1_of_3", "DONE.json");
  const mtime = statSync(done).mtimeMs;
  const again = await embedShard(run, [`data.path=${manifest}`], { shard: { index: 1, count: 3 }, out });
  assert.equal(again.skipped, true);
  assert.equal(statSync(done).mtimeMs, mtime, "a finished shard is not touched again");
  const m = await mergeShards(out);
  assert.deepEqual([m.rows, m.shards], [90, 3]);
  for (const f of ["embeddings.npy", "embeddings.parquet", "index.csv"]) assert.ok(same(join(out, f), join(ref, f)), `${f} differs from the single-process output`);
});

test("merge refuses missing, unfinished, mixed and foreign shards", async () => {
  const src = join(work, "sharded", "shards");
  const fresh = (name: string, shards: string[]) => {
    const out = join(work, name);
    for (const s of shards) cpSync(join(src, s), join(out, "shards", s), { recursive: true });
    return out;
  };
  const missing = fresh("m1", ["shard_0_of_3", "shard_2_of_3"]);
  await assert.rejects(mergeShards(missing), /of 3 shards, missing: 1;/);
  mkdirSync(join(missing, "shards", "shard_1_of_3"));
  await assert.rejects(mergeShards(missing), /of 3 shards, unfinished \(no DONE.json\): 1;/);
  const mixed = fresh("m2", ["shard_0_of_3", "shard_1_of_3", "shard_2_of_3"]);
  mkdirSync(join(mixed, "shards", "shard_0_of_4"));
  await assert.rejects(mergeShards(mixed), /2 different counts \(N = 3, 4\)/);
  const foreign = fresh("m3", ["shard_0_of_3", "shard_1_of_3", "shard_2_of_3"]);
  const f = join(foreign, "shards", "shard_1_of_3", "DONE.json");
  writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, "utf8")), source: "another-checkpoint" }));
  await assert.rejects(mergeShards(foreign), /another checkpoint or data settings/);
  const blocks = fresh("m4", ["shard_0_of_3", "shard_1_of_3", "shard_2_of_3"]);
  const b = join(blocks, "shards", "shard_2_of_3", "DONE.json");
  writeFileSync(b, JSON.stringify({ ...JSON.parse(readFileSync(b, "utf8")), block: 64 }));
  await assert.rejects(mergeShards(blocks), /blocks of 32, 64 items/);
  assert.ok(!existsSync(join(foreign, "embeddings.npy")), "nothing is written when a check fails");
});

test("Slurm: the array script runs one shard per SLURM_ARRAY_TASK_ID; its follow-up merges", { timeout: 240_000 }, async () => {
  const out = join(work, "slurm_out");
  const gen = await runBie(["slurm", "embed", run, "shards=2", "parallel=2", `out=${out}`, "time=00:10:00", `data.path=${manifest}`], join(work, "slurm.log"));
  assert.equal(gen.code, 0, gen.out);
  const script = join(out, "slurm", "embed_array.sbatch");
  const text = readFileSync(script, "utf8");
  assert.match(text, /^#SBATCH --array=0-1%2$/m);
  assert.match(text, /^#SBATCH --time=00:10:00$/m);
  assert.match(text, /shard="\$\{SLURM_ARRAY_TASK_ID\}"\/2/);
  const bash = (file: string, env: Record<string, string>) => spawnSync("bash", [file], { env: { ...process.env, ...env }, encoding: "utf8" });
  const { SLURM_ARRAY_TASK_ID: _, ...clean } = process.env;
  const noTask = spawnSync("bash", [script], { env: clean, encoding: "utf8" });
  assert.notEqual(noTask.status, 0);
  assert.match(noTask.stderr, /SLURM_ARRAY_TASK_ID: is not set/);
  for (const id of ["0", "1"]) {
    const r = bash(script, { SLURM_ARRAY_TASK_ID: id, SLURM_ARRAY_TASK_COUNT: "2", SLURM_CPUS_PER_TASK: "1" });
    assert.equal(r.status, 0, r.stderr);
  }
  const redo = bash(script, { SLURM_ARRAY_TASK_ID: "1", SLURM_CPUS_PER_TASK: "1" });
  assert.match(redo.stdout, /already finished/);
  const fin = bash(join(out, "slurm", "embed_finish.sbatch"), {});
  assert.equal(fin.status, 0, fin.stderr);
  for (const f of ["embeddings.npy", "embeddings.parquet", "index.csv"]) assert.ok(same(join(out, f), join(ref, f)), `${f} differs`);
  if (spawnSync("sh", ["-c", "command -v sbatch"]).status !== 0) {
    const submit = await runBie(["slurm", "embed", run, "shards=2", `out=${out}`, `data.path=${manifest}`, "submit=true"], join(work, "slurm.log"));
    assert.equal(submit.code, 2);
    assert.match(submit.out, /sbatch is not installed here/);
  }
});

test("Slurm: submit=true on a real one-node cluster (Debian slurm-wlm, private config) runs the array and the merge", { timeout: 300_000 }, async (t) => {
  const slurm = await startSlurm(join(work, "cluster"));
  if (!slurm) return t.skip("slurmctld/slurmd/munged not installed, or not root (apt-get install slurmctld slurmd slurm-client munge)");
  try {
    const out = join(work, "slurm_real");
    const env = { ...process.env, ...slurm.env };
    const sub = spawnSync(process.execPath, [bieJs, "slurm", "embed", run, "shards=2", "parallel=2", `out=${out}`, `data.path=${manifest}`, "submit=true"], { env, encoding: "utf8" });
    assert.equal(sub.status, 0, sub.stderr);
    const [, arrayJob, mergeJob] = /submitted array job (\d+) and merge job (\d+) \(afterok:\d+\)/.exec(sub.stdout) ?? [];
    assert.ok(arrayJob && mergeJob, sub.stdout);
    await waitFor("the merge job to write the joined table", () => existsSync(join(out, "merged.json")), 240_000, 500);
    for (const f of ["embeddings.npy", "embeddings.parquet", "index.csv"]) assert.ok(same(join(out, f), join(ref, f)), `${f} differs`);
    assert.ok(existsSync(join(out, "slurm", "logs", `bie-embed_${arrayJob}_1.out`)), "each array task logs to its own file");
  } finally {
    await slurm.stop();
  }
});

test("Slurm sweep: one trial per task, then the finishing job writes the summary", { timeout: 240_000 }, async () => {
  const spec = join(work, "slurm_sweep.yaml");
  const set = [...TINY, `data.path=${join(work, "tiny_train.csv")}`, "epochs=1"].map((o) => `  ${o.replace("=", ": ")}`).join("\n");
  writeFileSync(spec, `name: s\nout: ${join(work, "slurm_sweep")}\nset:\n${set}\nparams:\n  optim.lr: [0.001, 0.003]\n`);
  const gen = await runBie(["slurm", "sweep", spec, "parallel=2"], join(work, "slurm.log"));
  assert.equal(gen.code, 0, gen.out);
  const dir = join(work, "slurm_sweep", "slurm");
  assert.match(readFileSync(join(dir, "sweep_array.sbatch"), "utf8"), /^#SBATCH --array=0-1%2$/m);
  for (const id of ["0", "1"]) {
    const r = spawnSync("bash", [join(dir, "sweep_array.sbatch")], { env: { ...process.env, SLURM_ARRAY_TASK_ID: id }, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  }
  const fin = spawnSync("bash", [join(dir, "sweep_finish.sbatch")], { encoding: "utf8" });
  assert.equal(fin.status, 0, fin.stderr);
  const summary = JSON.parse(readFileSync(join(work, "slurm_sweep", "sweep.json"), "utf8"));
  assert.equal(summary.done, true);
  assert.deepEqual(summary.trials.map((t: { status: string }) => t.status), ["finished", "finished"]);
  assert.ok(summary.best && [0, 1].includes(summary.best.trial));
  assert.ok(existsSync(join(work, "slurm_sweep", "sweep.csv")) && existsSync(join(work, "slurm_sweep", "val_curves.svg")));
});
