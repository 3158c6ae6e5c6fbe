// Data-parallel training on c10d/Gloo over loopback: 2 ranks × batch 8 train exactly like 1 process × batch 16
// (GroupNorm model; batch norm when synchronised), and a rank that dies or hangs makes the others fail with a
// clear error instead of hanging. Each rank is a real process (test/ddp-rank.ts), as in production.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../src/distributed/ddp-launch.ts";
import { ddpSettings, parseMaster, perRankBatch } from "../src/distributed/ddp-settings.ts";
import { shardSlice } from "../src/data/index.ts";
import { distAvailable, backwardWithCollectives, DistributedError } from "../src/engine/dist.ts";
import { EngineError } from "../src/errors.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const skip = distAvailable() ? false : "engine built without Gloo";

interface Proc {
  p: ChildProcess;
  out: string;
  err: string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

function start(env: Record<string, string>): Proc {
  const p = spawn(process.execPath, ["--import", "tsx", "test/ddp-rank.ts"], { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const r: Proc = { p, out: "", err: "", exited: new Promise((resolve) => p.on("close", (code, signal) => resolve({ code, signal }))) };
  p.stdout!.on("data", (d) => (r.out += d));
  p.stderr!.on("data", (d) => (r.err += d));
  return r;
}

async function ranks(n: number, env: Record<string, string>): Promise<Proc[]> {
  const port = await freePort();
  return Array.from({ length: n }, (_, rank) => start({ ...env, RANK: String(rank), WORLD_SIZE: String(n), MASTER_ADDR: "127.0.0.1", MASTER_PORT: String(port) }));
}

type Result = { done: string; losses: number[]; weights: Record<string, number[]>; overlappedBuckets: number };
async function results(p: Proc): Promise<Record<string, Result>> {
  const { code } = await p.exited;
  assert.equal(code, 0, p.err);
  const rs = p.out.split("\n").filter((l) => l.includes('"done"')).map((l) => JSON.parse(l) as Result);
  return Object.fromEntries(rs.map((r) => [r.done, r]));
}

function maxWeightDiff(a: Result, b: Result): number {
  assert.deepEqual(Object.keys(a.weights).sort(), Object.keys(b.weights).sort());
  let m = 0;
  for (const k of Object.keys(a.weights)) a.weights[k].forEach((v, i) => (m = Math.max(m, Math.abs(v - b.weights[k][i]))));
  return m;
}

/** Tolerance: the same sums in another order (8+8 rows vs 16) differ by float32 rounding, ~1e-7 here. */
const TOL = 1e-5;

test("2 ranks × batch 8 give the loss curve and weights of 1 process × batch 16 (GroupNorm; BatchNorm when synchronised)", { skip, timeout: 90_000 }, async () => {
  const env = { GLOBAL_BATCH: "16", NORMS: "gn,bn" };
  const single = start(env);
  const [r0, r1] = await ranks(2, env);
  const [a, b0, b1] = await Promise.all([results(single), results(r0), results(r1)]);
  for (const norm of ["gn", "bn"]) {
    const what = norm === "gn" ? "GroupNorm" : "synchronised BatchNorm (running stats included)";
    assert.equal(a[norm].losses.length, 6);
    a[norm].losses.forEach((l, i) => assert.ok(Math.abs(l - b0[norm].losses[i]) <= TOL * Math.max(1, Math.abs(l)), `${what}, step ${i}: loss ${l} alone vs ${b0[norm].losses[i]} on 2 ranks`));
    assert.ok(a[norm].losses[5] < a[norm].losses[0], "the model should be learning");
    assert.ok(maxWeightDiff(a[norm], b0[norm]) <= TOL, `${what}: max weight difference ${maxWeightDiff(a[norm], b0[norm])}`);
    assert.equal(maxWeightDiff(b0[norm], b1[norm]), 0, "the two ranks must hold identical weights");
    assert.ok(b0[norm].overlappedBuckets > 0, "gradient buckets should start during backward");
  }
});

async function untilStep(p: Proc, step: number): Promise<void> {
  while (!new RegExp(`"step":${step}\\b`).test(p.out)) {
    if (p.p.exitCode !== null) throw new Error(`rank exited early: ${p.err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Rank 0 serves the rendezvous store too; test/ddp-train.test.ts kills rank 1 under the launcher.
for (const victim of [0]) {
  test(`SIGKILL of rank ${victim}: the other rank exits with a clear error within the collective timeout`, { skip, timeout: 90_000 }, async () => {
    const timeoutS = 30;
    const procs = await ranks(2, { HANG: "1", TIMEOUT_S: String(timeoutS) });
    await Promise.all(procs.map((p) => untilStep(p, 2)));
    const t0 = performance.now();
    procs[victim].p.kill("SIGKILL");
    const other = procs[1 - victim];
    const { code } = await other.exited;
    const waitedS = (performance.now() - t0) / 1000;
    assert.notEqual(code, 0);
    assert.match(other.err, new RegExp(`distributed: .*failed on rank ${1 - victim} of 2 .*another rank has died`), other.err);
    assert.ok(waitedS < timeoutS, `the survivor took ${waitedS.toFixed(1)} s, more than the ${timeoutS} s timeout`);
  });
}

test("a hung rank (SIGSTOP) fails the others when the collective timeout passes, not never", { skip, timeout: 90_000 }, async () => {
  const procs = await ranks(2, { HANG: "1", TIMEOUT_S: "3" });
  await Promise.all(procs.map((p) => untilStep(p, 2)));
  procs[1].p.kill("SIGSTOP");
  const { code } = await procs[0].exited;
  procs[1].p.kill("SIGKILL");
  assert.notEqual(code, 0);
  // Gloo words it "Timed out ..." or "Application timeout caused pair closure", depending on which side notices.
  assert.match(procs[0].err, /failed on rank 0 of 2 \(collective timeout 3000 ms\): .*([Tt]imed out|[Tt]imeout)/, procs[0].err);
});

test("settings: env (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) wins over the config; procs launches; bad values are named", () => {
  const cfg = { world_size: 1, rank: 0, master: "127.0.0.1:29500", procs: 0, timeout_s: 60, sync_bn: false };
  assert.equal(ddpSettings(cfg, {}).mode, "single");
  assert.deepEqual(
    { ...ddpSettings(cfg, { RANK: "3", WORLD_SIZE: "4", MASTER_ADDR: "10.0.0.5", MASTER_PORT: "1234" }) },
    { mode: "rank", worldSize: 4, rank: 3, host: "10.0.0.5", port: 1234, timeoutMs: 60000, syncBn: false, threads: undefined },
  );
  assert.equal(ddpSettings({ ...cfg, procs: 2 }, {}).mode, "launch");
  assert.equal(ddpSettings({ ...cfg, procs: 2 }, { RANK: "1", WORLD_SIZE: "2" }).mode, "rank", "a launched rank never launches again");
  assert.equal(ddpSettings({ ...cfg, world_size: 2, rank: 1, master: "[::1]:7000" }, {}).host, "::1");
  assert.throws(() => ddpSettings(cfg, { RANK: "2", WORLD_SIZE: "2" }), /rank 2 is not below the world size 2/);
  assert.throws(() => ddpSettings(cfg, { RANK: "x" }), /RANK='x'/);
  assert.throws(() => parseMaster("nohost"), /host:port/);
  assert.equal(perRankBatch(16, 2), 8);
  assert.throws(() => perRankBatch(10, 4), /multiple of 4/);
});

test("sharded batch plans: the ranks' slices put together are the global batch, in order", () => {
  const batch = [5, 9, 2, 7, 1, 3, 8, 6, 4];
  for (const count of [1, 2, 3, 4]) {
    const parts = Array.from({ length: count }, (_, rank) => shardSlice(batch, { rank, count }));
    assert.deepEqual(parts.flat(), batch);
    assert.ok(Math.max(...parts.map((p) => p.length)) - Math.min(...parts.map((p) => p.length)) <= 1);
  }
});

test("a collective that fails inside backward (gradient hooks) gives the same clear distributed error", () => {
  const raw = new EngineError("backward: all-reduce failed on rank 0 of 2 (collective timeout 60000 ms): [./gloo/transport/tcp/pair.cc:589] Read error [127.0.0.1]:16283: Connection reset by peer");
  assert.throws(
    () => backwardWithCollectives(() => { throw raw; }),
    (e: unknown) => e instanceof DistributedError && /^distributed: all-reduce failed on rank 0 of 2 .*reset by peer; another rank has died or stopped answering$/.test((e as Error).message),
  );
  // Any other backward error passes through untouched.
  const other = new EngineError("backward: element 0 of tensors does not require grad");
  assert.throws(() => backwardWithCollectives(() => { throw other; }), (e: unknown) => e === other);
});
