// Process-wide engine settings: seeding, threads, gradient mode, bf16 autocast, RNG state.
import { native, nativeLoaded } from "./native.ts";
import { Tensor } from "./tensor.ts";

export function manualSeed(seed: number): void {
  native().manualSeed(seed);
}
/** Set intra-op threads (0 keeps libtorch's default); returns the count in force. */
export function setThreads(n: number): number {
  // OpenMP sizes its pool from the environment when libtorch loads; set_num_threads alone left an extra pool
  // thread spinning (a 1-thread embedding used 1.42 cores, 1.19 with this). Only possible before the first load.
  if (n > 0 && !nativeLoaded() && !process.env.OMP_NUM_THREADS) process.env.OMP_NUM_THREADS = String(n);
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
