// `bie worker redis=...`: a BullMQ worker that runs shards and trials in sandbox processes. BullMQ gives the
// fault tolerance: the job lock is renewed from this (idle) process; a worker that dies stops renewing, and after
// lockDuration another worker's stalled-job check puts the job back in the queue; failures are retried with
// exponential backoff. Our jobs are idempotent (done markers, checkpoints), so running one twice costs time only.
import { hostname } from "node:os";
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import { addJobs, DEFAULT_QUEUE, redisOptions, type JobData } from "./queue.ts";
import { Sandbox, SandboxError } from "./sandbox.ts";

export interface WorkerOptions {
  redis: string;
  queue?: string;
  /** Jobs at once, each in its own sandbox process (default 1). */
  concurrency?: number;
  /** Engine threads per embedding job (default: the run's setting). */
  threads?: number;
  /** Lock duration: how long a dead worker's job waits before another worker takes it (default 30 s). */
  lockMs?: number;
  /** How often this worker looks for stalled jobs (default 30 s). */
  stalledMs?: number;
  /** Exit once the queue has nothing waiting, delayed or running. */
  idleExit?: boolean;
  onLog?: (line: string) => void;
}

/** Errors that another try cannot fix: bad config, bad input, a folder that is not what the job says. */
const PERMANENT = new Set(["USAGE", "BAD_CONFIG", "BAD_INPUT", "NOT_A_RUN", "NO_CHECKPOINT", "NOT_A_SWEEP", "SWEEP_CHANGED", "SHARD_MISMATCH", "MIXED_SHARDS"]);
const BUSY_RETRY_MS = 15_000;

export async function runWorker(o: WorkerOptions): Promise<{ completed: number; failed: number }> {
  const log = o.onLog ?? ((l: string) => console.error(l));
  const connection = redisOptions(o.redis);
  const name = o.queue ?? DEFAULT_QUEUE;
  const me = `${hostname()}:${process.pid}`;
  const queue = new Queue(name, { connection });
  const free = Array.from({ length: Math.max(1, o.concurrency ?? 1) }, () => new Sandbox(o.threads));
  const all = [...free];
  let completed = 0, failed = 0, running = 0;

  const process_ = async (job: Job<JobData>, token?: string) => {
    const box = free.pop()!;
    running++;
    let lastProgress = 0;
    try {
      log(`worker ${me}: started ${job.id} (${job.name}, attempt ${job.attemptsMade + 1}) in sandbox pid ${await box.started()}`);
      const out = await box.run(
        job.data,
        o.threads,
        (done, total) => {
          const now = Date.now(); // at most one progress write a second per job: cheap for Redis at 50 workers
          if (now - lastProgress < 1000 && done < total) return;
          lastProgress = now;
          void job.updateProgress({ done, total }).catch(() => {});
        },
        (line) => log(`[${job.id}] ${line}`),
      );
      if (out.busy) {
        await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
        throw new DelayedError();
      }
      const backoff = job.opts.backoff;
      await addJobs(queue, out.followUps, { attempts: job.opts.attempts, backoffMs: typeof backoff === "object" ? backoff.delay : backoff });
      return out.result;
    } catch (e) {
      if (e instanceof SandboxError && e.code && PERMANENT.has(e.code)) throw new UnrecoverableError(e.message);
      throw e;
    } finally {
      running--;
      free.push(box);
    }
  };

  const worker = new Worker<JobData>(name, process_, {
    connection,
    concurrency: all.length,
    name: me,
    lockDuration: o.lockMs ?? 30_000,
    stalledInterval: o.stalledMs ?? 30_000,
    // A job whose worker died is not the job's fault: let it be recovered many times (retries are for failures).
    maxStalledCount: 10,
  });
  let lastError = "";
  const onError = (e: Error) => {
    if (e.message !== lastError) log(`worker ${me}: ${e.message}`); // once per distinct error while Redis is away
    lastError = e.message;
  };
  worker.on("error", onError);
  queue.on("error", onError);
  worker.on("ready", () => (lastError = ""));
  worker.on("completed", (job) => {
    completed++;
    log(`worker ${me}: completed ${job.id}`);
  });
  worker.on("failed", (job, err) => {
    if (err instanceof DelayedError || err?.name === "DelayedError") return;
    failed++;
    log(`worker ${me}: ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`);
  });
  await worker.waitUntilReady();
  log(`worker ${me}: listening on queue '${name}' at ${o.redis} (${all.length} slot${all.length > 1 ? "s" : ""}, sandbox per slot)`);
  // Boot the sandboxes now (tsx, libtorch), not inside the first job's time.
  for (const b of all) b.started().then((pid) => log(`worker ${me}: sandbox pid ${pid} ready`), (e: Error) => log(`worker ${me}: sandbox failed to start: ${e.message}`));

  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (why: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(idleTimer);
      process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
      log(`worker ${me}: ${why}`);
      await worker.close().catch(() => {});
      for (const b of all) b.kill("SIGTERM");
      await queue.close().catch(() => {});
      resolve({ completed, failed });
    };
    let signals = 0;
    const onSignal = () => {
      if (++signals > 1) {
        for (const b of all) b.kill();
        process.exit(130);
      }
      void stop("stopping after the current job (signal again to stop now; the job is then recovered by another worker)");
    };
    process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
    let idleChecks = 0;
    const idleTimer = setInterval(async () => {
      if (!o.idleExit || running > 0) return void (idleChecks = 0);
      const c = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children").catch(() => null);
      const left = c ? Object.values(c).reduce((a, b) => a + b, 0) : 1;
      idleChecks = left === 0 ? idleChecks + 1 : 0;
      // Before its first job a worker waits longer (30 s): it may have been started before the jobs were queued.
      if (idleChecks >= (completed + failed > 0 ? 2 : 15)) void stop("queue is empty; exiting");
    }, 2000);
  });
}
