// The sandbox process: runs a worker's jobs one at a time, away from the worker's event loop (which keeps renewing
// the job lock with Redis however long a training epoch takes). It dies with its worker: when the IPC channel to
// the parent closes — the worker exited or was SIGKILLed — it exits too, leaving the job to stalled-job recovery.
import { setThreads, warmUp } from "../engine/index.ts";
import { runJob } from "./jobs.ts";
import type { ChildMessage, ParentMessage } from "./sandbox.ts";

const send = (m: ChildMessage) => {
  if (process.connected) process.send!(m);
};

process.on("disconnect", () => process.exit(0));
process.on("message", async (m: ParentMessage) => {
  if (m.type !== "run") return;
  try {
    const outcome = await runJob(m.data, {
      threads: m.threads,
      onProgress: (done, total) => send({ type: "progress", id: m.id, done, total }),
      onLog: (line) => send({ type: "log", id: m.id, line }),
    });
    send({ type: "done", id: m.id, outcome });
  } catch (e) {
    const err = e as Error & { code?: string };
    send({ type: "error", id: m.id, error: { name: err?.name ?? "Error", code: err?.code, message: err?.message ?? String(e), stack: err?.stack } });
  }
});
// Start libtorch's kernels while no job waits (≈ 0.25 s); a failure here is left for the first job to report.
try {
  const threads = Number(process.env.OMP_NUM_THREADS);
  if (threads > 0) setThreads(threads);
  warmUp();
} catch {
  /* the job that needs the engine will say what is wrong */
}
send({ type: "ready" });
