// `bie train distributed.procs=2` end to end: two local ranks train one run (rank 0 alone writes it, the
// global batch split 2+2, batch norm synchronised), a rank SIGKILLed mid-run fails the whole group with a clear
// error naming it, and `bie train --resume` restarts the group from the last checkpoint and finishes the run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { distAvailable } from "../src/engine/dist.ts";
import { tempDir } from "./temp-dir.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const bie = join(root, "bin", "bie.js");
const work = tempDir("ddp");
const skip = distAvailable() ? false : "engine built without Gloo";

// 24 demo cells at 32×32, global batch 4 (2 per rank): 4 steps per epoch after the val/test split.
const manifest = join(work, "cells.csv");
{
  const lines = readFileSync(join(root, "demo-data/jurkat/manifest.csv"), "utf8").trim().split("\n");
  const rows = lines.slice(1).filter((_, i) => i % 8 === 0).slice(0, 24).map((l) => l.replace(/^([^,]+)/, (p) => join(root, "demo-data/jurkat", p)));
  writeFileSync(manifest, [lines[0], ...rows].join("\n") + "\n");
}
const base = [`data.path=${manifest}`, "model=resnet18_ae", "latent_dim=8", "data.image_size=32", "batch_size=4", "data.workers=0", "engine.threads=2", "log_every=1", `runs_dir=${work}`, "optim.warmup_epochs=0"];

function run(args: string[], killChildWhen?: (out: string) => boolean): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bie, ...args], { cwd: work, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" } });
    let out = "";
    const onData = (d: Buffer) => void (out += d);
    p.stdout.on("data", onData);
    p.stderr.on("data", onData);
    // Polled rather than on output: progress lines come at their own pace.
    const poll = killChildWhen
      ? setInterval(() => {
          if (!killChildWhen(out)) return;
          // The launcher's children are the ranks; each one's RANK is in its environment.
          const pids = execFileSync("ps", ["-o", "pid=", "--ppid", String(p.pid)], { encoding: "utf8" }).trim().split(/\s+/).filter(Boolean).map(Number);
          const rank1 = pids.find((pid) => readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes("RANK=1"));
          if (rank1 === undefined) return;
          clearInterval(poll);
          process.kill(rank1, "SIGKILL");
        }, 100)
      : undefined;
    p.on("close", (code) => {
      clearInterval(poll);
      resolve({ code, out });
    });
  });
}

const metrics = (dir: string) => readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step: number; split: string; loss: number });

test("distributed.procs=2: a killed rank fails the group clearly; --resume finishes the run from the checkpoint", { skip, timeout: 240_000 }, async () => {
  const dir = join(work, "ddp");
  const first = await run(["train", ...base, "epochs=3", "name=ddp", "distributed.procs=2", "distributed.sync_bn=true"], () => {
    if (!existsSync(join(dir, "checkpoints", "last.safetensors")) || !existsSync(join(dir, "metrics.jsonl"))) return false;
    return Math.max(...metrics(dir).map((r) => r.step)) >= 6; // in epoch 2, after epoch 1's checkpoint
  });
  assert.equal(first.code, 2, first.out);
  assert.match(first.out, /starting 2 local ranks × 1 thread/);
  assert.match(first.out, /rank (\d) was killed \(SIGKILL\); rank (\d): distributed: .*failed on rank \2 of 2/);
  assert.match(first.out, /Restart the whole group from the last checkpoint with: bie train --resume /);
  assert.equal(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).status, "failed");

  const resumed = await run(["train", "--resume", dir]);
  assert.equal(resumed.code, 0, resumed.out);
  assert.match(resumed.out, /resuming .* at epoch [23]\/3/);
  const info = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
  assert.equal(info.status, "finished");
  assert.equal(info.epochs_done, 3);
  // Rank 0 alone writes: each step logged once, in order, across the restart.
  const steps = metrics(dir).filter((r) => r.split === "train").map((r) => r.step);
  assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1));

  // With synchronised batch norm the first step's forward is the one of one process with the whole batch, and
  // the logged loss is the mean over the global batch.
  const single = await run(["train", ...base, "epochs=1", "name=single"]);
  assert.equal(single.code, 0, single.out);
  const a = metrics(join(work, "single"))[0].loss, b = metrics(dir)[0].loss;
  assert.ok(Math.abs(a - b) < 1e-5 * a, `first-step loss ${a} alone vs ${b} on 2 ranks`);
});
