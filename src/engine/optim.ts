// Optimizers: state tensors live here (checkpointable), the update runs natively in one call per step.
import { native } from "./native.ts";
import { Tensor, zerosLike } from "./tensor.ts";
import { keep } from "./scope.ts";
import { noGrad } from "./runtime.ts";

export type OptimizerName = "sgd" | "adam" | "adamw" | "lamb";
export interface OptimizerOptions {
  lr: number;
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
  momentum?: number;
  nesterov?: boolean;
}

export class Optimizer {
  readonly name: OptimizerName;
  readonly params: Tensor[];
  lr: number;
  stepCount = 0;
  readonly opts: Required<OptimizerOptions>;
  #m: Tensor[];
  #v: Tensor[];

  constructor(name: OptimizerName, params: Tensor[], opts: OptimizerOptions) {
    this.name = name;
    this.params = params;
    this.lr = opts.lr;
    this.opts = {
      lr: opts.lr,
      weightDecay: opts.weightDecay ?? (name === "adamw" ? 1e-2 : 0),
      betas: opts.betas ?? [0.9, 0.999],
      eps: opts.eps ?? (name === "lamb" ? 1e-6 : 1e-8),
      momentum: opts.momentum ?? 0,
      nesterov: opts.nesterov ?? false,
    };
    this.#m = noGrad(() => params.map((p) => keep(zerosLike(p))));
    this.#v = name === "sgd" ? [] : noGrad(() => params.map((p) => keep(zerosLike(p))));
  }

  zeroGrad(): void {
    native().zeroGrad(this.params.map((p) => p.handle));
  }

  step(): void {
    this.stepCount++;
    const h = (ts: Tensor[]) => ts.map((t) => t.handle);
    const o = this.opts;
    const common = { lr: this.lr, weightDecay: o.weightDecay, step: this.stepCount };
    switch (this.name) {
      case "sgd":
        native().sgdStep(h(this.params), h(this.#m), { ...common, momentum: o.momentum, nesterov: o.nesterov });
        break;
      case "adam":
      case "adamw":
        native().adamStep(h(this.params), h(this.#m), h(this.#v), { ...common, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, decoupled: this.name === "adamw" });
        break;
      case "lamb":
        native().lambStep(h(this.params), h(this.#m), h(this.#v), { ...common, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps });
        break;
    }
  }

  /** State tensors by name, for checkpoints: "m.<i>", "v.<i>". */
  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.#m.forEach((t, i) => out.set(`m.${i}`, t));
    this.#v.forEach((t, i) => out.set(`v.${i}`, t));
    return out;
  }
  loadStateTensors(state: Map<string, Tensor>, stepCount: number): void {
    noGrad(() => {
      this.#m.forEach((t, i) => { const s = state.get(`m.${i}`); if (s) t.copyFrom(s); });
      this.#v.forEach((t, i) => { const s = state.get(`v.${i}`); if (s) t.copyFrom(s); });
    });
    this.stepCount = stepCount;
  }
  dispose(): void {
    for (const t of [...this.#m, ...this.#v]) t.dispose();
  }
}

/** Scale gradients so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return native().clipGradNorm(params.map((p) => p.handle), maxNorm);
}
