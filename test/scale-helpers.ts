// Shared pieces of the scale-out tests: a private redis-server on a loopback port (appendonly, in a temp dir),
// manifests made from the demo Jurkat cells, a tiny trained run, `bie` child processes, and bounded waiting.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
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
export async function trainTinyRun(work: string, name = "tiny"): Promise<string> {
  const manifest = jurkatManifest(join(work, `${name}_train.csv`), 24);
  const cfg = resolveConfig({ overrides: [...TINY, `data.path=${manifest}`, "epochs=1", `runs_dir=${work}`, `name=${name}`] });
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
