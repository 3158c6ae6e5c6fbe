// Worker thread: grows the trees it is asked for and sends them back (buffers transferred, not copied).
import { parentPort } from "node:worker_threads";
import { buildTree, type TrainingSet, type Tree } from "./tree.ts";

export interface BuildRequest { job: number; first: number; seeds: number[]; maxFeatures: number; ts: TrainingSet }
export interface BuildReply { job: number; first: number; trees?: Tree[]; error?: string }

parentPort!.on("message", (req: BuildRequest) => {
  try {
    const trees = req.seeds.map((s) => buildTree(req.ts, s, req.maxFeatures));
    const transfer = trees.flatMap((t) => [t.feature.buffer, t.threshold.buffer, t.left.buffer, t.right.buffer, t.value.buffer]) as ArrayBuffer[];
    parentPort!.postMessage({ job: req.job, first: req.first, trees } satisfies BuildReply, transfer);
  } catch (e) {
    parentPort!.postMessage({ job: req.job, first: req.first, error: (e as Error).stack ?? String(e) } satisfies BuildReply);
  }
});
