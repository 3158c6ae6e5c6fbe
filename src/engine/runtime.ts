// Process-wide engine settings: seeding, threads, gradient mode, bf16 autocast, RNG state.
import { native } from "./native.ts";
import { Tensor } from "./tensor.ts";

export function manualSeed(seed: number): void {
  native().manualSeed(seed);
}
/** Set intra-op threads (0 keeps libtorch's default); returns the count in force. */
export function setThreads(n: number): number {
  return native().setThreads(n);
}
export function getThreads(): number {
  return native().getThreads();
}
export function engineInfo() {
  return native().version();
}
/** Run fn with autograd off (inference, EMA updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = native().setGradEnabled(false);
  try {
    return fn();
  } finally {
    native().setGradEnabled(prev);
  }
}
export function isGradEnabled(): boolean {
  return native().isGradEnabled();
}
/** Run fn with CPU autocast to bfloat16 (convs/matmuls in bf16, master weights and losses stay fp32). */
export function autocast<T>(enabled: boolean, fn: () => T): T {
  if (!enabled) return fn();
  const prev = native().setAutocast(true, "bfloat16");
  try {
    return fn();
  } finally {
    native().setAutocast(prev);
  }
}
export function getRngState(): Tensor {
  return new Tensor(native().getRngState());
}
export function setRngState(state: Tensor): void {
  native().setRngState(state.handle);
}
