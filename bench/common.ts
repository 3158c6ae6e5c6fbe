// Helpers shared by benchmarks: medians, running child processes that print JSON lines, atomic result files.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/io/atomic.ts";

export const repoRoot = fileURLToPath(new URL("../", import.meta.url));
export const sharedDir = fileURLToPath(new URL("../../shared/", import.meta.url));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Run a command; return the JSON objects it printed one per line. */
export function runJsonLines(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err.slice(-2000)}`));
      resolve(out.split("\n").filter((l) => l.trim().startsWith("{")).map((l) => JSON.parse(l)));
    });
  });
}

export async function writeResult(name: string, result: unknown): Promise<string> {
  const file = `${repoRoot}bench/results/${name}.json`;
  await writeFileAtomic(file, JSON.stringify(result, null, 2) + "\n");
  return file;
}

export const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
