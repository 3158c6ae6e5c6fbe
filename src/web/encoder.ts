// The run's ONNX encoder for the page: the file `bie export RUN format=onnx` writes (<run>/<name>.embed.onnx),
// exported through src/export on first request when missing or older than the checkpoint. The export layer
// (and the native engine under it) is imported only then, so serving the map never waits for it.
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { checkpointOf } from "../train/index.ts";
import { HttpError } from "./http-errors.ts";

export type EncoderSource = () => Promise<Uint8Array>;

/** Where `bie export RUN format=onnx` puts the encoder (its default `out`). */
export const encoderPath = (runDir: string) => join(runDir, `${basename(runDir)}.embed.onnx`);

export function encoderFor(runDir: string, log: (s: string) => void = () => {}): EncoderSource {
  let pending: Promise<Uint8Array> | null = null;
  return () => {
    pending ??= load(runDir, log).catch((e) => {
      pending = null; // a failed export is retried on the next request
      throw e;
    });
    return pending;
  };
}

async function load(runDir: string, log: (s: string) => void): Promise<Uint8Array> {
  const file = encoderPath(runDir);
  let checkpoint: string;
  try {
    checkpoint = checkpointOf(runDir);
  } catch (e) {
    throw new HttpError(409, `this run has no checkpoint to export (${(e as Error).message})`);
  }
  if (!existsSync(file) || statSync(file).mtimeMs < statSync(checkpoint).mtimeMs) {
    log(`exporting the encoder to ONNX for the page (once): ${file}`);
    const { exportRun } = await import("../export/index.ts");
    try {
      await exportRun(runDir, ["format=onnx", "path=embed", `out=${file}`], log);
    } catch (e) {
      throw new HttpError(500, `ONNX export of this run failed: ${(e as Error).message}`);
    }
  }
  return new Uint8Array(await readFile(file));
}
