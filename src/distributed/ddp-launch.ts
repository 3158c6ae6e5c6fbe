// The one-machine launcher (`distributed.procs=N`): N child processes, each a rank with its share of the
// threads, rendezvousing on the master port; rank 0's callbacks (progress, log lines) are relayed back here.
// When a rank fails, the others fail on their next collective by themselves (a dead peer is noticed at once,
// a hung one after the collective timeout); any still alive after that timeout are stopped, so it never hangs.
import { fork, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { DistributedError } from "../engine/dist.ts";
import { BieError } from "../errors.ts";
import type { ChildRequest, ChildMessage } from "./ddp-child.ts";

export interface LaunchOptions {
  procs: number;
  host: string;
  /** 0 picks a free port on this machine. */
  port: number;
  /** The group's collective timeout: how long survivors may take to notice a failure. */
  timeoutMs: number;
  /** Intra-op threads for each rank. */
  threadsPerRank: number;
  /** Module (file URL) and export each rank calls as fn(...args), the last arg getting the callbacks. */
  module: string;
  fn: string;
  args: unknown[];
  /** Callbacks of rank 0, called here when rank 0 calls them there (arguments must be plain data). */
  callbacks?: Record<string, (...a: never[]) => void>;
  /** Extra environment for every rank. */
  env?: Record<string, string>;
}

/** A TCP port nobody listens on right now (for the store of a one-machine group). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `port` if nothing listens on it, else a free one (a one-machine group's port is private to the launcher). */
export async function freePortOr(host: string, port: number): Promise<number> {
  if (port === 0) return freePort(host);
  const free = await new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
  return free ? port : freePort(host);
}

interface RankOutcome {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: { name: string; message: string; code?: string };
  result?: unknown;
}

const GRACE_MS = 5000;

/** Run the ranks; resolves with rank 0's return value, rejects with the first failure when any rank fails. */
export async function launchLocalRanks(o: LaunchOptions): Promise<unknown> {
  const port = o.port || (await freePort(o.host));
  const childFile = fileURLToPath(new URL("./ddp-child.ts", import.meta.url));
  const tsx = import.meta.resolve("tsx");
  const outcomes: RankOutcome[] = [];
  const children: ChildProcess[] = [];
  let deadline: NodeJS.Timeout | undefined;
  const stopped = new Set<number>();
  const stopAll = () =>
    children.forEach((c, rank) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      stopped.add(rank);
      c.kill("SIGTERM");
    });
  process.once("exit", stopAll);

  const done = Array.from({ length: o.procs }, (_, rank) => {
    const env = {
      ...process.env,
      ...o.env,
      RANK: String(rank),
      LOCAL_RANK: String(rank),
      WORLD_SIZE: String(o.procs),
      MASTER_ADDR: o.host,
      MASTER_PORT: String(port),
      BIE_RANK_THREADS: String(o.threadsPerRank),
      OMP_NUM_THREADS: String(o.threadsPerRank),
    };
    const child = fork(childFile, [], { execArgv: ["--import", tsx], env, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    children.push(child);
    const outcome: RankOutcome = { rank, code: null, signal: null };
    child.on("message", (m: ChildMessage) => {
      if (m.type === "callback") o.callbacks?.[m.name]?.(...(m.args as never[]));
      else if (m.type === "result") outcome.result = m.value;
      else if (m.type === "error") outcome.error = m.error;
    });
    const request: ChildRequest = { type: "run", module: o.module, fn: o.fn, args: o.args, callbacks: rank === 0 ? Object.keys(o.callbacks ?? {}) : [] };
    child.send(request);
    return new Promise<void>((resolve) => {
      child.once("close", (code, signal) => {
        outcome.code = code;
        outcome.signal = signal;
        outcomes.push(outcome);
        // First failure: the others notice it at their next collective and report; any still running after
        // the collective timeout (plus a grace period) are stopped.
        if ((code !== 0 || signal) && !deadline) deadline = setTimeout(stopAll, o.timeoutMs + GRACE_MS);
        resolve();
      });
    });
  });
  await Promise.all(done);
  clearTimeout(deadline);
  process.removeListener("exit", stopAll);

  const failed = outcomes.filter((r) => r.code !== 0 || r.signal);
  if (failed.length === 0) return outcomes.find((r) => r.rank === 0)?.result;
  // The root cause is the rank that died without a word (killed), else the first error that is not just a
  // failed collective (bad data, a config error), else the first failure.
  const own = failed.filter((r) => !stopped.has(r.rank));
  const root = own.find((r) => !r.error) ?? own.find((r) => r.error!.name !== "DistributedError") ?? own[0] ?? failed[0];
  const others = own.filter((r) => r !== root && (r.error?.message ?? "") !== (root.error?.message ?? "-"));
  const describe = (r: RankOutcome) =>
    r.error ? `rank ${r.rank}: ${r.error.message}` : `rank ${r.rank} ${r.signal ? `was killed (${r.signal})` : `exited with code ${r.code}`}`;
  if (root.error && root.error.name !== "DistributedError" && others.every((r) => r.error?.name === "DistributedError")) {
    // A rank's own error (the others merely lost it): report it as it is, code and all.
    throw new BieError(root.error.code ?? "ENGINE", root.error.message);
  }
  throw new DistributedError(`distributed run failed: ${[root, ...others].map(describe).join("; ")}`);
}
