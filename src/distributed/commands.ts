// The scale-out verbs of `bie`, as library calls the CLI wires up: embed shard=i/N, merge, sweep, queue
// embed|sweep|status, worker, slurm embed|sweep. Their own options are key=value like config overrides
// (redis=..., shards=8); whatever is not one of them is passed on as a config override.
import { resolve } from "node:path";
import { BieError } from "../errors.ts";
import { takeOptions } from "../config/verb-options.ts";
import { embedShard, defaultEmbedOut, runConfig } from "./embed-shard.ts";
import { mergeShards } from "./merge.ts";
import { DEFAULT_REDIS } from "./queue.ts";
import { queueEmbed, queueSweep, ITEMS_PER_SHARD } from "./queue-submit.ts";
import { formatQueueStatus, queueStatus } from "./queue-status.ts";
import { parseShard } from "./shard.ts";
import { writeSlurmScripts, submitSlurm, TASK_PLACEHOLDER, CPUS_PLACEHOLDER, type SbatchSettings } from "./slurm.ts";
import { prepareSweep, runSweep } from "./sweep-run.ts";
import { runWorker } from "./worker.ts";
import { listItems } from "../data/index.ts";

export interface CommandIO {
  /** Result lines (stdout). */
  say(line: string): void;
  /** Log lines (stderr, kept clear of a progress bar). */
  log(line: string): void;
  progress?(done: number, total: number, perSec?: number): void;
}

const str = (v: unknown) => (v === undefined ? undefined : String(v));
const num = (v: unknown) => (v === undefined ? undefined : Number(v));
const redisOf = (v: unknown) => str(v) ?? process.env.BIE_REDIS ?? DEFAULT_REDIS;
const retryOf = (o: Record<string, unknown>) => ({ attempts: num(o.attempts), backoffMs: num(o.backoff_ms) });

/** `bie embed RUN shard=i/N out=DIR ...`: one shard (idempotent), or the whole set into out=. */
export async function embedCommand(run: string, args: string[], io: CommandIO): Promise<void> {
  const { opts, rest } = takeOptions(args, { shard: "string", out: "string", part_size: "int" });
  const shard = opts.shard !== undefined ? parseShard(String(opts.shard)) : undefined;
  const r = await embedShard(run, rest, { shard, out: str(opts.out), partSize: num(opts.part_size), onProgress: io.progress, onLog: io.log });
  const what = shard ? `shard ${shard.index}/${shard.count}` : "embeddings";
  io.say(`${what}: ${r.dir} (${r.rows} rows × ${r.dim} dims${r.skipped ? ", already finished" : ""})`);
  if (shard) io.say(`when all ${shard.count} shards are done: bie merge ${r.out}`);
}

export async function mergeCommand(out: string, io: CommandIO): Promise<void> {
  const r = await mergeShards(out, { onLog: io.log });
  io.say(`merged ${r.shards} shards: ${r.out}/embeddings.parquet, embeddings.npy, index.csv (${r.rows} rows × ${r.dim} dims)`);
}

export async function sweepCommand(spec: string, args: string[], io: CommandIO): Promise<void> {
  const { opts, rest } = takeOptions(args, { trial: "int", out: "string" });
  if (rest.length) throw new BieError("USAGE", `bie sweep takes trial=K and out=DIR; put config settings in the spec's set: (got ${rest.join(" ")})`);
  const s = await runSweep(spec, { trial: num(opts.trial), out: str(opts.out), onLog: io.log });
  io.say(`sweep ${s.name}: ${s.trials.length} trials${s.done ? "" : " (not finished: run `bie sweep` again to continue)"} → ${s.dir}/sweep.json, sweep.csv, val_curves.svg`);
  if (s.best) io.say(`best: trial ${s.best.trial} (val loss ${s.best.best_val_loss}) ${Object.entries(s.best.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ")}; run ${s.best.run}`);
}

export async function queueEmbedCommand(run: string, args: string[], io: CommandIO): Promise<void> {
  const { opts, rest } = takeOptions(args, { redis: "string", queue: "string", shards: "int", out: "string", part_size: "int", attempts: "int", backoff_ms: "int" });
  const redis = redisOf(opts.redis);
  const r = await queueEmbed({ redis, queue: str(opts.queue), run, overrides: rest, out: str(opts.out), shards: num(opts.shards), partSize: num(opts.part_size), retry: retryOf(opts) });
  io.say(`queued ${r.shards} embedding shards → ${r.out} (merged automatically after the last one)${r.retried ? `; ${r.retried} failed job(s) put back in the queue` : ""}`);
  io.say(`start workers: bie worker redis=${redis}; watch: bie queue status redis=${redis}`);
}

export async function queueSweepCommand(spec: string, args: string[], io: CommandIO): Promise<void> {
  const { opts, rest } = takeOptions(args, { redis: "string", queue: "string", out: "string", attempts: "int", backoff_ms: "int" });
  if (rest.length) throw new BieError("USAGE", `unknown options ${rest.join(" ")} (config settings belong in the spec's set:)`);
  const redis = redisOf(opts.redis);
  const r = await queueSweep({ redis, queue: str(opts.queue), spec, out: str(opts.out), retry: retryOf(opts) });
  io.say(`queued ${r.queued} trial jobs of ${r.trials} trials (rungs at epochs ${r.rungs.join(", ")}) → ${r.dir}${r.retried ? `; ${r.retried} failed job(s) put back in the queue` : ""}`);
  io.say(`start workers: bie worker redis=${redis}; watch: bie queue status redis=${redis}`);
}

export async function queueStatusCommand(args: string[], io: CommandIO): Promise<void> {
  const { opts, rest } = takeOptions(args, { redis: "string", queue: "string", json: "bool" });
  if (rest.length) throw new BieError("USAGE", `unknown options ${rest.join(" ")}`);
  const s = await queueStatus(redisOf(opts.redis), str(opts.queue));
  io.say(opts.json ? JSON.stringify(s, null, 2) : formatQueueStatus(s).trimEnd());
}

export async function workerCommand(args: string[], io: CommandIO): Promise<void> {
  const { opts, rest } = takeOptions(args, { redis: "string", queue: "string", concurrency: "int", threads: "int", lock_ms: "int", stalled_ms: "int", idle_exit: "bool" });
  if (rest.length) throw new BieError("USAGE", `unknown options ${rest.join(" ")} (worker options: redis= queue= concurrency= threads= lock_ms= stalled_ms= idle_exit=)`);
  const r = await runWorker({
    redis: redisOf(opts.redis),
    queue: str(opts.queue),
    concurrency: num(opts.concurrency),
    threads: num(opts.threads),
    lockMs: num(opts.lock_ms),
    stalledMs: num(opts.stalled_ms),
    idleExit: opts.idle_exit === true,
    onLog: io.log,
  });
  io.say(`worker done: ${r.completed} jobs completed, ${r.failed} failed attempts`);
}

const SBATCH_KEYS = { parallel: "int", submit: "bool", partition: "string", time: "string", cpus: "int", mem: "string", account: "string", qos: "string", gres: "string" } as const;
const settingsOf = (o: Record<string, unknown>): SbatchSettings => ({ partition: str(o.partition), time: str(o.time), cpus: num(o.cpus), mem: str(o.mem), account: str(o.account), qos: str(o.qos), gres: str(o.gres) });

export async function slurmEmbedCommand(run: string, args: string[], io: CommandIO): Promise<void> {
  const { opts, rest } = takeOptions(args, { ...SBATCH_KEYS, shards: "int", out: "string", part_size: "int" });
  const runDir = resolve(run);
  const cfg = runConfig(runDir, rest);
  const out = opts.out ? resolve(String(opts.out)) : await defaultEmbedOut(runDir, cfg);
  const shards = num(opts.shards) ?? Math.max(1, Math.ceil(listItems(cfg.data).items.length / ITEMS_PER_SHARD));
  const threads = rest.some((a) => a.startsWith("engine.threads=")) ? [] : [`engine.threads=${CPUS_PLACEHOLDER}`];
  const partSize = opts.part_size !== undefined ? [`part_size=${opts.part_size}`] : [];
  const scripts = await writeSlurmScripts({
    kind: "embed",
    tasks: shards,
    parallel: num(opts.parallel),
    dir: resolve(out, "slurm"),
    cwd: process.cwd(),
    taskArgs: ["embed", runDir, ...rest, ...threads, `shard=${TASK_PLACEHOLDER}/${shards}`, `out=${out}`, ...partSize],
    finishArgs: ["merge", out],
    settings: settingsOf(opts),
    label: `${shards} shards of ${runDir}`,
  });
  io.say(`wrote ${scripts.array} (array 0-${shards - 1}${opts.parallel ? `%${opts.parallel}` : ""}) and ${scripts.finish} (bie merge)`);
  if (opts.submit) {
    const j = submitSlurm(scripts, "embed");
    io.say(`submitted array job ${j.arrayJob} and merge job ${j.finishJob} (afterok:${j.arrayJob})`);
  } else io.say(`submit: sbatch ${scripts.array}, then sbatch --dependency=afterok:<array job id> ${scripts.finish} (or add submit=true)`);
}

export async function slurmSweepCommand(spec: string, args: string[], io: CommandIO): Promise<void> {
  const { opts, rest } = takeOptions(args, { ...SBATCH_KEYS, out: "string" });
  if (rest.length) throw new BieError("USAGE", `unknown options ${rest.join(" ")} (config settings belong in the spec's set:)`);
  const plan = await prepareSweep(spec, str(opts.out));
  const specAbs = resolve(spec);
  const outArg = [`out=${plan.dir}`];
  const scripts = await writeSlurmScripts({
    kind: "sweep",
    tasks: plan.trials.length,
    parallel: num(opts.parallel),
    dir: resolve(plan.dir, "slurm"),
    cwd: process.cwd(),
    taskArgs: ["sweep", specAbs, `trial=${TASK_PLACEHOLDER}`, ...outArg],
    finishArgs: ["sweep", specAbs, ...outArg],
    settings: settingsOf(opts),
    label: `${plan.trials.length} trials of ${specAbs}`,
  });
  io.say(`wrote ${scripts.array} (one trial per task) and ${scripts.finish} (finishes ASHA promotions, writes sweep.json)`);
  if (opts.submit) {
    const j = submitSlurm(scripts, "sweep");
    io.say(`submitted array job ${j.arrayJob} and finishing job ${j.finishJob} (afterany:${j.arrayJob})`);
  } else io.say(`submit: sbatch ${scripts.array}, then sbatch --dependency=afterany:<array job id> ${scripts.finish} (or add submit=true)`);
}
