// Training and embedding: the library calls behind `bie train` and `bie embed`.
export { trainFromConfig, modelForConfig, type Progress, type TrainOptions, type TrainResult } from "./trainer.ts";
export { embedRun, loadRunModel, releaseKeptModel, checkpointOf, embedBatchSize, shardItems, type EmbedOptions, type EmbedResult } from "./embed.ts";
export { RunFolder, type RunInfo } from "./run-folder.ts";
export { learningRateAt } from "./schedule.ts";
