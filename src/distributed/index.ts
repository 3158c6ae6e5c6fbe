// Public face of scale-out: shards and merge, sweeps with ASHA, the Redis/BullMQ queue and worker, Slurm arrays.
export { parseShard, shardDir, shardName, readShardDone, type ShardRef, type ShardDone } from "./shard.ts";
export { embedShard, defaultEmbedOut, type EmbedShardOptions, type EmbedShardResult } from "./embed-shard.ts";
export { mergeShards, allShardsDone, type MergeResult } from "./merge.ts";
export { planSweep, readSweepSpec, trialParams, sweepSchema, type SweepSpec, type SweepPlan, type Trial } from "./sweep-spec.ts";
export { rungBudgets, promotions, type TrialRungs } from "./asha.ts";
export { runSweep, prepareSweep, advanceTrial, runAllTrials, type SweepRunOptions } from "./sweep-run.ts";
export { readPlan, readTrialState, readTrialStates, type TrialState } from "./sweep-state.ts";
export { summarizeSweep, type SweepSummary } from "./sweep-summary.ts";
export { runTrial } from "./trial.ts";
export { redisOptions, openQueue, addJobs, jobId, type JobData } from "./queue.ts";
export { queueEmbed, queueSweep } from "./queue-submit.ts";
export { queueStatus, formatQueueStatus, type QueueStatus } from "./queue-status.ts";
export { runWorker, type WorkerOptions } from "./worker.ts";
export { arrayScript, finishScript, writeSlurmScripts, submitSlurm, type SlurmPlan } from "./slurm.ts";
