// Worker thread body: prepares batches on request and sends the pixels back without copying.
import { parentPort, workerData } from "node:worker_threads";
import { prepareBatch, type PrepOptions } from "./prepare.ts";
import { serialiseError, type TaskMessage, type ResultMessage } from "./protocol.ts";

const prep = (workerData as { prep: PrepOptions }).prep;

parentPort!.on("message", async (task: TaskMessage) => {
  let msg: ResultMessage;
  try {
    const r = await prepareBatch(task.items, prep, task.aug);
    msg = { id: task.id, ok: true, ...r };
    parentPort!.postMessage(msg, [r.x.buffer as ArrayBuffer]);
  } catch (e) {
    msg = { id: task.id, ok: false, error: serialiseError(e) };
    parentPort!.postMessage(msg);
  }
});
