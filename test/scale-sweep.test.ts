// A sweep of 8 trials with ASHA on two queue workers, one SIGKILLed mid-trial: every trial still gets its result,
// the killed trial resumes from its checkpoint (no duplicated epochs in its log), promotions follow ASHA.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { queueSweep } from "../src/distributed/queue-submit.ts";
import { queueStatus } from "../src/distributed/queue-status.ts";
import { readPlan, readTrialStates } from "../src/distributed/sweep-state.ts";
import { alive, jurkatManifest, spawnBie, startRedis, TINY, waitFor, type BieProc, type TestRedis } from "./scale-helpers.ts";
import { tempDir } from "./temp-dir.ts";

const work = tempDir("scale-sweep");
let redis: TestRedis;
const workers: BieProc[] = [];

before(async () => {
  mkdirSync(join(work, "redis"));
  redis = await startRedis(join(work, "redis"));
});
after(async () => {
  for (const w of workers) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
  await redis?.stop();
  if (!process.env.BIE_KEEP_TEST_DIRS) rmSync(work, { recursive: true, force: true });
});

test("8-trial ASHA sweep on 2 workers, one SIGKILLed mid-trial: completes, no trial lost", { timeout: 600_000 }, async () => {
  const cells = jurkatManifest(join(work, "cells.csv"), 24);
  const set = [...TINY, `data.path=${cells}`].map((o) => `  ${o.replace("=", ": ")}`).join("\n");
  const spec = join(work, "sweep.yaml");
  const dir = join(work, "sweep");
  writeFileSync(spec, `name: asha8\nout: ${dir}\nset:\n${set}\nparams:\n  optim.lr: [0.001, 0.003]\n  latent_dim: [8, 16]\n  seed: [1, 2]\nasha: {min_epochs: 1, max_epochs: 4, reduction_factor: 2}\n`);
  const q = await queueSweep({ redis: redis.url, queue: "sweep", spec, retry: { attempts: 3, backoffMs: 500 } });
  assert.deepEqual([q.trials, q.queued, q.rungs], [8, 8, [1, 2, 4]]);

  const args = ["worker", `redis=${redis.url}`, "queue=sweep", "lock_ms=3000", "stalled_ms=1000"];
  const start = (i: number) => {
    const w = spawnBie(args, join(work, `worker_${i}.log`));
    workers.push(w);
    return w;
  };
  const victim = start(1);
  start(2);
  // Kill the victim once it is inside a trial (holding the trial's lock), i.e. mid-training.
  const at = await waitFor("the victim to be training a trial", () => {
    const m = [...victim.output().matchAll(/started (\S+-trial-(\d+)-rung-\d+) .* in sandbox pid (\d+)/g)].at(-1);
    return m && existsSync(join(dir, "trials", `trial_00${m[2]}.lock`)) ? { job: m[1], trial: Number(m[2]), pid: Number(m[3]) } : null;
  }, 240_000, 50);
  victim.proc.kill("SIGKILL");
  await victim.exited;
  await waitFor("the victim's sandbox to exit", () => !alive(at.pid), 60_000);
  start(3);

  await waitFor("the sweep to finish", async () => {
    const s = existsSync(join(dir, "sweep.json")) && JSON.parse(readFileSync(join(dir, "sweep.json"), "utf8"));
    if (!s?.done) return false;
    const c = (await queueStatus(redis.url, "sweep")).counts;
    return c.active + c.waiting + c.prioritized + c.delayed === 0;
  }, 500_000, 500);

  const plan = await readPlan(dir);
  const states = await readTrialStates(plan);
  assert.equal(states.length, 8);
  for (const s of states) {
    assert.ok(["paused", "finished"].includes(s.status), `trial ${s.trial} ended ${s.status}`);
    assert.ok(s.losses[0] !== undefined && Number.isFinite(s.losses[0]), `trial ${s.trial} has its rung-0 result`);
    const epochs = readFileSync(join(s.dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.split === "val").map((r) => r.epoch);
    assert.deepEqual(epochs, Array.from({ length: s.epochsDone }, (_, i) => i + 1), `trial ${s.trial}: one validation line per epoch`);
  }
  const reached = (r: number) => states.filter((s) => s.losses[r] !== undefined).length;
  assert.ok(reached(1) >= 4, `at least 8/2 trials promoted to rung 1 (got ${reached(1)})`);
  assert.ok(reached(2) >= 2, `at least 4/2 trials promoted to rung 2 (got ${reached(2)})`);
  assert.ok(states.filter((s) => s.status === "finished").every((s) => s.epochsDone === 4));
  const starts = workers.reduce((n, w) => n + [...w.output().matchAll(new RegExp(`started ${at.job} `, "g"))].length, 0);
  assert.ok(starts >= 2, `${at.job} was run again after its worker was killed`);

  const summary = JSON.parse(readFileSync(join(dir, "sweep.json"), "utf8"));
  assert.equal(summary.trials.length, 8);
  assert.equal(summary.best.best_val_loss, Math.min(...states.map((s) => s.bestVal!)));
  assert.equal(readFileSync(join(dir, "sweep.csv"), "utf8").trim().split("\n").length, 9);
  assert.equal((await queueStatus(redis.url, "sweep")).counts.failed, 0);
  for (const w of workers) if (w.proc.exitCode === null) w.proc.kill("SIGTERM");
  await Promise.all(workers.map((w) => w.exited));
});
