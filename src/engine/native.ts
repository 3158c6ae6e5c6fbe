// The one module that knows how the native addon is found and loaded. Everything else in the project
// talks to libtorch through src/engine's typed API.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EngineError } from "../errors.ts";

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL("../../", import.meta.url));

/** Raw binding surface. Tensor handles are opaque externals; see tensor.ts for the typed API. */
export interface NativeBinding {
  opId(name: string): number;
  call(id: number, args: unknown[], discard?: boolean): unknown;
  fromBuffer(data: ArrayBufferView, shape: number[], dtype: string): unknown;
  toBuffer(h: unknown): ArrayBuffer;
  info(h: unknown): { shape: number[]; dtype: string; device: string; requiresGrad: boolean };
  shape(h: unknown): number[];
  dispose(h: unknown): void;
  isDisposed(h: unknown): boolean;
  item(h: unknown): number;
  reshape(h: unknown, shape: number[]): unknown;
  expand(h: unknown, shape: number[]): unknown;
  zeros(shape: number[], dtype: string): unknown;
  full(shape: number[], value: number, dtype: string): unknown;
  randn(shape: number[], dtype: string): unknown;
  rand(shape: number[], dtype: string): unknown;
  randperm(n: number): unknown;
  arange(start: number, end: number, step: number, dtype: string): unknown;
  toDevice(h: unknown, device: string): unknown;
  toMemoryFormat(h: unknown, format: string): unknown;
  isChannelsLast(h: unknown): boolean;
  setRequiresGrad(h: unknown, on: boolean): void;
  backward(h: unknown, grad?: unknown): void;
  grad(h: unknown): unknown | null;
  setGrad(h: unknown, g: unknown | null): void;
  zeroGrad(hs: unknown[]): void;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  setData(h: unknown, src: unknown): void;
  setAutocast(on: boolean, dtype?: string): boolean;
  manualSeed(seed: number): void;
  getRngState(): unknown;
  setRngState(h: unknown): void;
  setThreads(n: number): number;
  getThreads(): number;
  version(): { torch: string; cuda: boolean; mkldnn: boolean; config: string };
  adamStep(params: unknown[], m: unknown[], v: unknown[], o: Record<string, number | boolean>): void;
  lambStep(params: unknown[], m: unknown[], v: unknown[], o: Record<string, number | boolean>): void;
  sgdStep(params: unknown[], bufs: unknown[], o: Record<string, number | boolean>): void;
  clipGradNorm(params: unknown[], maxNorm: number): number;
  dist?: Record<string, (...args: unknown[]) => unknown>;
}

function load(): NativeBinding {
  const candidates = [
    process.env.BIE_ENGINE_ADDON,
    `${root}native/build/Release/bie_engine.node`,
    `${root}native/build/Debug/bie_engine.node`,
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new EngineError(
      "the libtorch engine is not built. Run `npm run setup` (installs Debian's libtorch-dev with apt and builds the addon), " +
        "or set LIBTORCH=/path/to/libtorch and run `npm run build:native`.",
    );
  }
  try {
    return require(found) as NativeBinding;
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /libtorch|libc10|cannot open shared object/.test(msg)
      ? " libtorch's shared libraries were not found: install Debian's libtorch-dev (`apt-get install libtorch-dev`) or set LIBTORCH and rebuild with `npm run build:native`."
      : "";
    throw new EngineError(`cannot load the engine addon ${found}: ${msg}.${hint}`, { cause: e });
  }
}

let binding: NativeBinding | undefined;
/** The loaded addon; loaded on first use so that modules which never train do not need libtorch. */
export function native(): NativeBinding {
  return (binding ??= load());
}
/** Whether the addon (and with it libtorch and OpenMP) has been loaded in this process. */
export function nativeLoaded(): boolean {
  return binding !== undefined;
}
