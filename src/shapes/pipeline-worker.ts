// Worker thread for masksToDistanceMatrices: receives batches of mask paths, returns the matrices' buffers
// (transferred, not copied). Errors are sent back as data so the caller can rethrow the same tagged error.
import { parentPort } from "node:worker_threads";
import { BadInputError, ConfigError } from "../errors.ts";
import { readMaskSync } from "./mask-io.ts";
import { maskToDistanceMatrix, type DistanceOptions } from "./pipeline.ts";

parentPort!.on("message", async (msg: { job: number; batch: number; paths: string[]; opts: DistanceOptions }) => {
  try {
    const buffers: ArrayBuffer[] = [];
    for (const p of msg.paths) {
      const mask = await readMaskSync(p);
      buffers.push(maskToDistanceMatrix(mask, msg.opts, p).buffer as ArrayBuffer);
    }
    parentPort!.postMessage({ job: msg.job, batch: msg.batch, buffers }, buffers);
  } catch (e) {
    const err = e as Error & { file?: string; field?: string };
    parentPort!.postMessage({
      job: msg.job,
      batch: msg.batch,
      error: {
        name: err.name, message: err.message,
        file: err instanceof BadInputError ? err.file : undefined,
        field: err instanceof ConfigError ? err.field : undefined,
      },
    });
  }
});
