// Training you can trust: a run killed with SIGKILL and resumed ends with the same weights as one that was
// never interrupted; a diverging run stops with a clear message and keeps its last good checkpoint; embedding
// writes one row per item in dataset order, the same in Parquet, .npy and index.csv.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parquetReadObjects } from "hyparquet";
import { loadSafetensors } from "../src/engine/index.ts";
import { readNpy } from "../src/io/npy.ts";
import { tempDir } from "./temp-dir.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const bie = join(root, "bin", "bie.js");
const work = tempDir("train");

// 64 demo cells, 32×32, tiny batches: enough steps per epoch to kill mid-epoch, fast on 2 cores.
const manifest = join(work, "cells.csv");
{
  const lines = readFileSync(join(root, "demo-data/jurkat/manifest.csv"), "utf8").trim().split("\n");
  const header = lines[0];
  const rows = lines.slice(1).filter((_, i) => i % 4 === 0).slice(0, 64).map((l) => l.replace(/^([^,]+)/, (p) => join(root, "demo-data/jurkat", p)));
  writeFileSync(manifest, [header, ...rows].join("\n") + "\n");
}
const base = [`data.path=${manifest}`, "model=resnet18_ae", "latent_dim=16", "data.image_size=32", "batch_size=4", "epochs=3", "data.workers=0", "engine.threads=1", "log_every=1", `runs_dir=${work}`, "optim.warmup_epochs=0.5"];

function run(args: string[], opts: { killWhen?: (out: string) => boolean; env?: Record<string, string> } = {}): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bie, ...args], { cwd: work, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true", ...opts.env } });
    let out = "";
    const onData = (d: Buffer) => {
      out += d;
      if (opts.killWhen?.(out)) p.kill("SIGKILL");
    };
    p.stdout.on("data", onData);
    p.stderr.on("data", onData);
    p.on("close", (code, signal) => resolve({ code, signal, out }));
  });
}

async function weights(runDir: string): Promise<Map<string, Float32Array>> {
  const { tensors } = await loadSafetensors(join(runDir, "checkpoints", "last.safetensors"));
  const out = new Map<string, Float32Array>();
  for (const [k, t] of tensors) if (k.startsWith("model.") && t.dtype === "float32") out.set(k, t.toArray() as Float32Array);
  return out;
}

test("SIGKILL mid-epoch then --resume ends with the same weights as an uninterrupted run", { timeout: 300_000 }, async () => {
  const full = await run(["train", ...base, "name=full"]);
  assert.equal(full.code, 0, full.out);
  // Kill once epoch 1 is checkpointed and epoch 2 is under way (the metrics log reaches step 20 of 16/epoch).
  const runDir = join(work, "killed");
  let killed = false;
  const first = await run(["train", ...base, "name=killed"], {
    killWhen: () => {
      if (killed || !existsSync(join(runDir, "metrics.jsonl"))) return false;
      const steps = readFileSync(join(runDir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).step as number);
      return (killed = Math.max(...steps) >= 20 && existsSync(join(runDir, "checkpoints", "last.safetensors")));
    },
  });
  assert.equal(first.signal, "SIGKILL", `the run should have been killed mid-way: ${first.out}`);
  assert.equal(JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")).status, "running");
  const resumed = await run(["train", "--resume", runDir]);
  assert.equal(resumed.code, 0, resumed.out);
  assert.match(resumed.out, /resuming/);

  const a = await weights(join(work, "full")), b = await weights(runDir);
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let maxDiff = 0;
  for (const [k, va] of a) {
    const vb = b.get(k)!;
    for (let i = 0; i < va.length; i++) maxDiff = Math.max(maxDiff, Math.abs(va[i] - vb[i]));
  }
  // Same seed, same data order, restored optimizer + RNG state: equal up to float noise.
  assert.ok(maxDiff < 1e-5, `max weight difference ${maxDiff}`);
  // The resumed log reads as one run: steps strictly increasing, no duplicates.
  const steps = readFileSync(join(runDir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.split === "train").map((r) => r.step);
  assert.deepEqual(steps, [...steps].sort((x, y) => x - y));
  assert.equal(new Set(steps).size, steps.length);
});

test("a diverging run stops with a clear NaN/Inf message and keeps the last good checkpoint", { timeout: 120_000 }, async () => {
  // Epoch 1 (16 steps) trains normally; the failpoint makes step 20's loss NaN, in epoch 2.
  const r = await run(["train", ...base, "name=nan"], { env: { BIE_FAILPOINT_NAN_STEP: "20" } });
  assert.equal(r.code, 2, r.out); // a BieError: clear message, no stack
  assert.doesNotMatch(r.out, /\n\s+at /);
  assert.match(r.out, /loss became NaN at epoch 2, step 20/);
  const info = JSON.parse(readFileSync(join(work, "nan", "run.json"), "utf8"));
  assert.equal(info.status, "failed");
  assert.equal(info.epochs_done, 1);
  // The epoch-1 checkpoint is the last good one: still there, finite, and resumable.
  const w = await weights(join(work, "nan"));
  assert.ok(w.size > 0);
  for (const v of w.values()) assert.ok(v.every(Number.isFinite), "checkpoint holds non-finite weights");
});

test("embed writes one row per item, in dataset order, identical in parquet, npy and index.csv", { timeout: 120_000 }, async () => {
  const runDir = join(work, "full");
  const r = await run(["embed", runDir]);
  assert.equal(r.code, 0, r.out);
  const { data, shape } = await readNpy(join(runDir, "embeddings.npy"));
  assert.deepEqual(shape, [64, 16]);
  const index = readFileSync(join(runDir, "index.csv"), "utf8").trim().split("\n").slice(1);
  assert.equal(index.length, 64);
  const manifestPaths = readFileSync(manifest, "utf8").trim().split("\n").slice(1).map((l) => l.split(",")[0]);
  assert.deepEqual(index.map((l) => l.split(",")[2]), manifestPaths);
  const buf = readFileSync(join(runDir, "embeddings.parquet"));
  const rows = (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer })) as Record<string, unknown>[];
  assert.equal(rows.length, 64);
  for (let i = 0; i < 64; i += 7) for (let d = 0; d < 16; d++) assert.ok(Math.abs(Number(rows[i][`z_${d}`]) - (data as Float32Array)[i * 16 + d]) < 1e-6);
  assert.equal(rows[5].path, manifestPaths[5]);
  // Re-running is a no-op on finished outputs (parts are gone, tables rewritten identically).
  const again = await run(["embed", runDir]);
  assert.equal(again.code, 0, again.out);
  assert.deepEqual((await readNpy(join(runDir, "embeddings.npy"))).data, data);
});

test("max_minutes stops after the last epoch that fits the time budget, with a checkpoint and a clear status", { timeout: 120_000 }, async () => {
  // A budget of ~0.06 s: the first epoch already takes longer, so training stops after it (not mid-epoch).
  const r = await run(["train", ...base, "name=budget", "max_minutes=0.001", "checkpoint_every=2"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /time budget of 0\.001 min: stopped after epoch 1\/3/);
  const info = JSON.parse(readFileSync(join(work, "budget", "run.json"), "utf8"));
  assert.equal(info.status, "stopped_time");
  assert.equal(info.epochs_done, 1);
  // checkpoint_every=2 would not have saved epoch 1: the budget stop does, so the run can be resumed or embedded.
  assert.ok(existsSync(join(work, "budget", "checkpoints", "last.safetensors")));
});
