// A worker's sandbox: one long-lived child process per concurrency slot, reused across jobs (loading libtorch and
// tsx once), replaced when it dies. The worker's own process only talks to Redis, so a job that computes for hours
// never starves lock renewal. (Like BullMQ's sandboxed processors, but the child also exits with its parent.)
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { JobData } from "./queue.ts";
import type { JobOutcome } from "./jobs.ts";

export type ParentMessage = { type: "run"; id: number; data: JobData; threads?: number };
export type ChildMessage =
  | { type: "ready" }
  | { type: "progress"; id: number; done: number; total: number }
  | { type: "log"; id: number; line: string }
  | { type: "done"; id: number; outcome: JobOutcome }
  | { type: "error"; id: number; error: { name: string; code?: string; message: string; stack?: string } };

/** An error raised in the sandbox, carried across with its tagged-error name and code. */
export class SandboxError extends Error {
  constructor(
    message: string,
    readonly errorName: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "SandboxError";
  }
}

const boot = fileURLToPath(new URL("./sandbox-boot.mjs", import.meta.url));

export class Sandbox {
  private child: ChildProcess | null = null;
  /**
   * @param threads engine threads the jobs will use. Also pinned in the child's environment, because OpenMP and
   *   MKL size their pools from it at first use: `set_num_threads(1)` alone still left a second OpenMP thread
   *   spinning (measured: 1.42 cores per single-threaded embedding job, 1.19 with the variable set).
   */
  constructor(private readonly threads?: number) {}
  private ready: Promise<ChildProcess> | null = null;
  private seq = 0;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The running child, once it has said it listens (a message sent before that could be lost). */
  private start(): Promise<ChildProcess> {
    if (this.child && this.ready) return this.ready;
    // execArgv set here so a worker started under a debugger or with tsx flags still boots the child the same way.
    const env = this.threads ? { ...process.env, OMP_NUM_THREADS: String(this.threads), MKL_NUM_THREADS: String(this.threads) } : process.env;
    // One engine thread: V8 does its garbage collection on this thread too instead of four helper threads, so a
    // slot really costs one core (measured: same images/s alone, +5 % with two slots on two cores).
    const execArgv = this.threads === 1 ? ["--single-threaded-gc"] : [];
    const child = fork(boot, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv, env });
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      child.on("message", (m: ChildMessage) => m.type === "ready" && resolve(child));
      child.once("exit", (code, signal) => reject(new SandboxError(`job process exited (${signal ?? `code ${code}`}) while starting`, "SandboxExit")));
    });
    child.on("exit", () => {
      if (this.child === child) this.child = this.ready = null;
    });
    return this.ready;
  }

  /** Start the child if needed; its pid. */
  async started(): Promise<number> {
    return (await this.start()).pid!;
  }

  async run(data: JobData, threads: number | undefined, onProgress: (done: number, total: number) => void, onLog: (line: string) => void): Promise<JobOutcome> {
    const child = await this.start();
    const id = ++this.seq;
    return new Promise<JobOutcome>((resolve, reject) => {
      const onMessage = (m: ChildMessage) => {
        if (m.type === "ready" || m.id !== id) return;
        if (m.type === "progress") onProgress(m.done, m.total);
        else if (m.type === "log") onLog(m.line);
        else {
          cleanup();
          if (m.type === "done") resolve(m.outcome);
          else {
            const e = new SandboxError(m.error.message, m.error.name, m.error.code);
            e.stack = m.error.stack ?? e.stack;
            reject(e);
          }
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new SandboxError(`job process ${child.pid} exited (${signal ?? `code ${code}`}) while running the job`, "SandboxExit"));
      };
      const cleanup = () => {
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.send({ type: "run", id, data, threads } satisfies ParentMessage);
    });
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    this.child?.kill(signal);
    this.child = this.ready = null;
  }
}
