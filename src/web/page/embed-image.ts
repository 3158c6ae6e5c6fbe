// Embedding a dropped image in the browser, with no server compute: the same decoding (src/io), per-channel
// percentile normalisation (src/data/normalise) and fit to image_size (src/data/prepare's render) as training
// and `bie embed` use — bundled from the very same source files — then the run's ONNX encoder in
// onnxruntime-web (WebAssembly, files served by our server).
import type * as Ort from "onnxruntime-web";
import type { AugmentConfig } from "../../config/schema.ts";
import { render, type PrepOptions } from "../../data/prepare.ts";
import { normaliseImage } from "../../data/normalise.ts";
import { decodeImage, type PlanarImage } from "../../io/image.ts";
import type { ModelInput } from "../run-data.ts";
import { getEncoder } from "./api.ts";

// A variable, so neither tsc nor esbuild try to resolve it: the browser loads it from our server.
const ORT_URL = "/ort/ort.wasm.min.mjs";

let session: Promise<{ ort: typeof Ort; s: Ort.InferenceSession }> | null = null;

function encoderSession(): Promise<{ ort: typeof Ort; s: Ort.InferenceSession }> {
  session ??= (async () => {
    const ort = (await import(ORT_URL)) as typeof Ort;
    ort.env.wasm.wasmPaths = "/ort/";
    ort.env.wasm.numThreads = 1; // threads need cross-origin isolation; one thread is plenty for one image
    const s = await ort.InferenceSession.create(await getEncoder(), { executionProviders: ["wasm"] });
    return { ort, s };
  })().catch((e) => {
    session = null; // e.g. the export failed: try again on the next drop
    throw e;
  });
  return session;
}

export async function decodeFile(file: File): Promise<PlanarImage> {
  return decodeImage(new Uint8Array(await file.arrayBuffer()), file.name);
}

/** The model input for one image, C×H×W in [0,1], exactly as the data loader makes it (no augmentation). */
export function modelInput(img: PlanarImage, input: ModelInput): Float32Array {
  if (img.channels !== input.channels) throw new Error(`the image has ${img.channels} channel(s); this run's model takes ${input.channels}`);
  const prep: PrepOptions = {
    height: input.height, width: input.width, fit: input.fit, normalise: input.normalise, pLow: input.pLow, pHigh: input.pHigh,
    channels: input.channels, channelsFrom: "the run", skipBad: false,
    augment: {} as AugmentConfig, // read only when augmenting, which embedding never does
  };
  const planes = normaliseImage(img, input.normalise, input.pLow, input.pHigh);
  const out = new Float32Array(input.channels * input.height * input.width);
  render(planes, img.channels, img.width, img.height, prep, null, out, 0);
  return out;
}

/** The embedding of a prepared input: one row, or one row per channel concatenated (channel_mode=batch). */
export async function encode(x: Float32Array, input: ModelInput): Promise<Float32Array> {
  const { ort, s } = await encoderSession();
  const { channels: C, height: H, width: W } = input;
  const shape = input.channelMode === "batch" ? [C, 1, H, W] : [1, C, H, W];
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor("float32", x, shape) });
  const y = out[s.outputNames[0]];
  if (!(y.data instanceof Float32Array)) throw new Error(`the encoder's output is ${y.type}, expected float32`);
  return y.data;
}

/** A small picture of the prepared input (first channel grey, or the first three as RGB), as a data URL. */
export function inputPreview(x: Float32Array, input: ModelInput): string {
  const { height: H, width: W } = input, n = H * W;
  const c = document.createElement("canvas");
  c.width = W;
  c.height = H;
  const ctx = c.getContext("2d")!;
  const im = ctx.createImageData(W, H);
  const rgb = input.channels >= 3;
  for (let i = 0; i < n; i++)
    for (let k = 0; k < 3; k++) im.data[4 * i + k] = Math.round(255 * x[(rgb ? k : 0) * n + i]);
  for (let i = 0; i < n; i++) im.data[4 * i + 3] = 255;
  ctx.putImageData(im, 0, 0);
  return c.toDataURL("image/png");
}
