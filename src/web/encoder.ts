// The run's ONNX encoder for the page. Until src/export exists this says so (501) rather than guessing.
// Filled in against src/export/index.ts once it lands.
import { HttpError } from "./http-errors.ts";

export type EncoderSource = () => Promise<Uint8Array>;

export function encoderFor(_runDir: string): EncoderSource {
  return async () => {
    throw new HttpError(501, "ONNX export is not available in this checkout yet (src/export/index.ts is missing), so the page cannot embed new images");
  };
}
