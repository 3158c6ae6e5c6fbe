// Process groups on libtorch's c10d (Gloo): rendezvous through a TCP store served by rank 0, then collectives
// on CPU tensors between processes and machines. Calls block the calling thread until the collective completes
// or fails; a peer that dies or stops answering fails it within the group's timeout, never hangs it.
import { native } from "./native.ts";
import { Tensor } from "./tensor.ts";
import { EngineError } from "../errors.ts";

export type ReduceOp = "sum" | "avg" | "max" | "min" | "product";

export interface RendezvousOptions {
  /** Address of rank 0, which serves the store (MASTER_ADDR). */
  host: string;
  /** Store port on rank 0 (MASTER_PORT). */
  port: number;
  worldSize: number;
  rank: number;
  /** Applies to the rendezvous and to every collective. Default 60 s. */
  timeoutMs?: number;
  /** Gloo worker threads (default 2). */
  threads?: number;
}

export interface CollectiveOptions {
  /** Tensors are packed into flat buffers of at most this many bytes per collective (default 25 MB, as in DDP). */
  bucketBytes?: number;
}

/** A failed or timed-out collective: some rank died, hangs, or is running different code. */
export class DistributedError extends EngineError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = "DistributedError";
  }
}

type Dist = Record<string, (...args: unknown[]) => unknown>;

function dist(): Dist {
  const d = native().dist;
  if (!d)
    throw new EngineError(
      "this engine build has no distributed support (built without Gloo). Install libgloo-dev (`npm run setup` does) and rebuild with `npm run build:native`.",
    );
  return d;
}

/** True when the engine was built with c10d/Gloo. */
export function distAvailable(): boolean {
  return !!native().dist;
}

const handles = (ts: Tensor[]) => ts.map((t) => t.handle);

export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly timeoutMs: number;
  #h: unknown;

  private constructor(h: unknown) {
    this.#h = h;
    const i = dist().info(h) as { rank: number; worldSize: number; timeoutMs: number };
    this.rank = i.rank;
    this.worldSize = i.worldSize;
    this.timeoutMs = i.timeoutMs;
  }

  /** Join the group: blocks until all worldSize ranks have connected (or the timeout passes). */
  static init(o: RendezvousOptions): ProcessGroup {
    return new ProcessGroup(wrapErrors(() => dist().init({ timeoutMs: 60_000, threads: 2, ...o })));
  }

  get handle(): unknown {
    if (this.#h === null) throw new DistributedError("the process group was destroyed");
    return this.#h;
  }

  /** Reduce tensors over all ranks, in place. avg = sum / world size. */
  allReduce(tensors: Tensor[], opts: CollectiveOptions & { op?: ReduceOp; scale?: number } = {}): void {
    if (tensors.length) wrapErrors(() => dist().allReduce(this.handle, handles(tensors), opts));
  }

  /** Average parameter gradients over ranks in buckets, after backward (see gradSync for the overlapped way). */
  allReduceGrads(params: Tensor[], opts: CollectiveOptions = {}): void {
    wrapErrors(() => dist().allReduceGrads(this.handle, handles(params), opts));
  }

  /**
   * Gradient averaging overlapped with backward: hooks on the parameters launch each bucket's all-reduce as soon
   * as backward has produced all its gradients. Call arm() before backward and finish() after it.
   */
  gradSync(params: Tensor[], opts: CollectiveOptions = {}): GradSync {
    return new GradSync(wrapErrors(() => dist().gradSync(this.handle, handles(params), opts)));
  }

  /** Copy root's values into every rank's tensors, in place. */
  broadcast(tensors: Tensor[], opts: CollectiveOptions & { root?: number } = {}): void {
    if (tensors.length) wrapErrors(() => dist().broadcast(this.handle, handles(tensors), opts));
  }

  barrier(): void {
    wrapErrors(() => dist().barrier(this.handle));
  }

  /** Sum over ranks as a new tensor that autograd can pass through (its backward sums gradients over ranks). */
  allReduceSum(t: Tensor): Tensor {
    return new Tensor(wrapErrors(() => dist().allReduceSum(this.handle, t.handle)));
  }

  /** Numbers reduced over ranks (float64), e.g. loss sums and counts. */
  reduceNumbers(values: number[], op: ReduceOp = "sum"): number[] {
    const t = new Tensor(native().fromBuffer(Float64Array.from(values), [values.length], "float64"));
    try {
      this.allReduce([t], { op });
      return Array.from(t.toArray() as Float64Array);
    } finally {
      t.dispose();
    }
  }

  /** Leave the group. Rank 0 stops serving the store, so call it last there (after a barrier). */
  destroy(): void {
    if (this.#h === null) return;
    dist().destroy(this.#h);
    this.#h = null;
  }
}

export class GradSync {
  #h: unknown;
  constructor(h: unknown) {
    this.#h = h;
  }
  arm(): void {
    wrapErrors(() => dist().gradSyncArm(this.#h));
  }
  /**
   * Wait for the buckets; every gradient then holds its average over ranks (its sum with average: false, when
   * the losses were already divided by the world size). Returns how many buckets were launched during backward
   * (the rest, with unused parameters, went after it).
   */
  finish(opts: { average?: boolean } = {}): number {
    return wrapErrors(() => dist().gradSyncFinish(this.#h, opts)) as number;
  }
  /** Remove the hooks (the parameters then train without it). */
  dispose(): void {
    if (this.#h !== null) dist().gradSyncDispose(this.#h);
    this.#h = null;
  }
}

const PEER_LOST = /closed by peer|reset by peer|timed out|broken pipe|connection refused/i;

function wrapErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw toDistributedError(e);
  }
}

function toDistributedError(e: unknown): DistributedError {
  const msg = (e as Error).message.replace(/^(dist\.\w+|backward): /, "");
  const hint = PEER_LOST.test(msg) ? "; another rank has died or stopped answering" : "";
  return new DistributedError(`distributed: ${msg}${hint}`, { cause: e });
}

/**
 * Run a backward pass whose gradient hooks launch collectives (GradSync): a collective that fails inside it
 * surfaces as the same clear distributed error as one that fails outside, not as a bare backward error.
 */
export function backwardWithCollectives(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof DistributedError || !/failed on rank \d+ of \d+/.test((e as Error).message)) throw e;
    throw toDistributedError(e);
  }
}
