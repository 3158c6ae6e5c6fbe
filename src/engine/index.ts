// The engine's public face: tensors, functions, autograd helpers, optimizers, serialisation.
export * from "./tensor.ts";
export * as F from "./functional.ts";
export * from "./runtime.ts";
export * from "./optim.ts";
export { tidy, keep, dispose } from "./scope.ts";
export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors } from "./safetensors.ts";
export { warmUp } from "./warm-up.ts";
