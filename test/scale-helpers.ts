// Shared pieces of the scale-out tests: a private redis-server on a loopback port (appendonly, in a temp dir),
// manifests made from the demo Jurkat cells, a tiny trained run, `bie` child processes, and bounded waiting.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "../src/config/index.ts";
import { trainFromConfig } from "../src/train/index.ts";

export const root = fileURLToPath(new URL("../", import.meta.url));
export const bieJs = join(root, "bin", "bie.js");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Poll `cond` every `everyMs` until it holds; throw after `timeoutMs` naming what was awaited. */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, timeoutMs = 120_000, everyMs = 200): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface TestRedis {
  url: string;
  port: number;
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
}

/** redis-server on 127.0.0.1 with appendonly (fsync always, so a restart loses nothing acknowledged). */
export async function startRedis(dir: string): Promise<TestRedis> {
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const start = async () => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes"];
    const p = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    proc = p;
    let out = "";
    p.stdout!.on("data", (d) => (out += d));
    p.stderr!.on("data", (d) => (out += d));
    await waitFor("redis-server to accept connections", () => out.includes("Ready to accept connections") || p.exitCode !== null, 20_000, 50);
    if (p.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
  };
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once("exit", r));
    p.kill(signal);
    await gone;
    proc = null;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
}

/** A manifest of n rows cycling through the demo cells, each row its own id (so n distinct items). */
export function jurkatManifest(file: string, n: number): string {
  const lines = readFileSync(join(root, "demo-data/jurkat/manifest.csv"), "utf8").trim().split("\n");
  const rows = lines.slice(1);
  const out = ["id,path,label"];
  for (let i = 0; i < n; i++) {
    const cells = rows[i % rows.length].split(",");
    out.push(`cell_${String(i).padStart(5, "0")},${join(root, "demo-data/jurkat", cells[0])},${cells[1]}`);
  }
  writeFileSync(file, out.join("\n") + "\n");
  return file;
}

/** Settings of every tiny test model: resnet18_ae, 32×32, one thread, in-process decoding. */
export const TINY = ["model=resnet18_ae", "latent_dim=16", "data.image_size=32", "batch_size=8", "data.workers=0", "engine.threads=1", "recon_every=100", "optim.warmup_epochs=0"];

/** Train the tiny model for one epoch on a few cells (in this process); returns the run folder. */
export async function trainTinyRun(work: string, name = "tiny", extra: string[] = []): Promise<string> {
  const manifest = jurkatManifest(join(work, `${name}_train.csv`), 24);
  const cfg = resolveConfig({ overrides: [...TINY, ...extra, `data.path=${manifest}`, "epochs=1", `runs_dir=${work}`, `name=${name}`] });
  return (await trainFromConfig(cfg)).runDir;
}

export interface BieProc {
  proc: ChildProcess;
  log: string;
  /** Text written so far (stdout and stderr). */
  output(): string;
  exited: Promise<number | null>;
}

/** `bie ...` as a child process, its output teed to a log file for post-mortems. */
export function spawnBie(args: string[], log: string, cwd = root): BieProc {
  const proc = spawn(process.execPath, [bieJs, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" } });
  let text = "";
  const file = createWriteStream(log, { flags: "a" });
  const onData = (d: Buffer) => {
    text += d;
    file.write(d);
  };
  proc.stdout!.on("data", onData);
  proc.stderr!.on("data", onData);
  const exited = new Promise<number | null>((r) => proc.once("close", (code) => (file.end(), r(code))));
  return { proc, log, output: () => text, exited };
}

export async function runBie(args: string[], log: string, cwd = root): Promise<{ code: number | null; out: string }> {
  const p = spawnBie(args, log, cwd);
  const code = await p.exited;
  return { code, out: p.output() };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface TestSlurm {
  /** Environment that points sbatch/squeue at this cluster. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A private one-node Slurm cluster from Debian's slurm-wlm (slurmctld + slurmd + munged), configured in `dir` on
 * free loopback ports, selected with SLURM_CONF. Null when the daemons are not installed or we are not root.
 */
export async function startSlurm(dir: string): Promise<TestSlurm | null> {
  const bins = ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch"];
  if (process.getuid?.() !== 0 || !bins.every((b) => existsSync(b))) return null;
  for (const d of ["munge", "ctld", "slurmd"]) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, "munge"), 0o711);
  writeFileSync(join(dir, "munge", "key"), randomBytes(1024), { mode: 0o600 });
  const node = hostname().split(".")[0];
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const sock = join(dir, "munge", "sock");
  writeFileSync(
    join(dir, "slurm.conf"),
    [
      "ClusterName=bietest",
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      "AuthType=auth/munge",
      `AuthInfo=socket=${sock}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      `StateSaveLocation=${join(dir, "ctld")}`,
      `SlurmdSpoolDir=${join(dir, "slurmd")}`,
      `SlurmctldPidFile=${join(dir, "ctld.pid")}`,
      `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core",
      "ReturnToService=2",
      "MpiDefault=none",
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN`,
      `PartitionName=test Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      "",
    ].join("\n"),
  );
  const env = { SLURM_CONF: join(dir, "slurm.conf") };
  const daemon = (cmd: string, args: string[], log: string) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    const f = createWriteStream(join(dir, log));
    p.stdout!.pipe(f, { end: false });
    p.stderr!.pipe(f, { end: false });
    return p;
  };
  const procs: ChildProcess[] = [];
  const stop = async () => {
    for (const p of procs.reverse()) if (p.exitCode === null) {
      const gone = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      await gone;
    }
  };
  procs.push(daemon("/usr/sbin/munged", ["-F", "-f", `--socket=${sock}`, `--key-file=${join(dir, "munge", "key")}`, `--log-file=${join(dir, "munge", "log")}`, `--pid-file=${join(dir, "munge", "pid")}`, `--seed-file=${join(dir, "munge", "seed")}`], "munged.log"));
  await waitFor("munged's socket", () => existsSync(sock), 20_000, 50);
  procs.push(daemon("/usr/sbin/slurmctld", ["-D", "-i"], "slurmctld.log"));
  procs.push(daemon("/usr/sbin/slurmd", ["-D", "-N", node], "slurmd.log"));
  try {
    await waitFor("the one-node cluster to be idle", () => {
      const r = spawnSync("sinfo", ["-h", "-o", "%T"], { env: { ...process.env, ...env }, encoding: "utf8" });
      return r.status === 0 && /idle/.test(r.stdout);
    }, 60_000, 500);
  } catch (e) {
    await stop();
    throw e;
  }
  return { env, stop };
}
