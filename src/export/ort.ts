// Running ONNX models with onnxruntime-node (CPU): one session per model, float32 batches in and out.
import * as ort from "onnxruntime-node";
import { BieError } from "../errors.ts";

export interface OnnxRunner {
  readonly inputName: string;
  readonly outputName: string;
  /** One batch: NCHW (or any layout the model takes) float32 in, the first output out. */
  run(x: Float32Array, shape: number[]): Promise<{ data: Float32Array; shape: number[] }>;
  release(): Promise<void>;
}

/** A session over model bytes (or a file path). threads: intra-op threads, 0 = onnxruntime's default. */
export async function onnxRunner(model: Uint8Array | string, opts: { threads?: number; source?: string } = {}): Promise<OnnxRunner> {
  let session: ort.InferenceSession;
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    interOpNumThreads: 1,
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
  };
  try {
    session = typeof model === "string" ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (e) {
    throw new BieError("BAD_INPUT", `${opts.source ?? "ONNX model"}: onnxruntime cannot load it: ${(e as Error).message.split("\n")[0]}`, { cause: e });
  }
  const inputName = session.inputNames[0], outputName = session.outputNames[0];
  return {
    inputName,
    outputName,
    async run(x, shape) {
      const r = await session.run({ [inputName]: new ort.Tensor("float32", x, shape) });
      const out = r[outputName];
      if (out.type !== "float32") throw new BieError("BAD_INPUT", `${opts.source ?? "ONNX model"}: output '${outputName}' is ${out.type}, expected float32`);
      return { data: out.data as Float32Array, shape: out.dims.map(Number) };
    },
    release: () => session.release(),
  };
}
