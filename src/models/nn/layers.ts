// Layers with PyTorch's parameter names, shapes and default initialisation.
import { Tensor, F, rand, zeros, ones, randn, full, noGrad, op, tidy, type DType } from "../../engine/index.ts";
import { EngineError } from "../../errors.ts";
import { Module } from "./module.ts";

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (Array.isArray(v) ? v : [v, v]);

/** U(-bound, bound) */
export function uniform(shape: number[], bound: number): Tensor {
  return noGrad(() => {
    const r = rand(shape);
    const out = r.mul(2 * bound).sub(bound);
    r.dispose();
    return out;
  });
}
/** N(0, std²) */
export function normal(shape: number[], std: number): Tensor {
  return noGrad(() => {
    const r = randn(shape);
    const out = r.mul(std);
    r.dispose();
    return out;
  });
}
/** torchvision's ResNet init: kaiming normal, fan_out, ReLU gain. */
export function kaimingNormalFanOut(shape: number[]): Tensor {
  const fanOut = shape[0] * shape.slice(2).reduce((a, b) => a * b, 1);
  return normal(shape, Math.sqrt(2 / fanOut));
}

export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernel: Pair, readonly stride: Pair = 1, readonly padding: Pair = 0, opts: { bias?: boolean; groups?: number; dilation?: Pair; init?: "torch" | "kaiming_fan_out" } = {}) {
    super();
    const [kh, kw] = pair(kernel);
    this.groups = opts.groups ?? 1;
    this.dilation = opts.dilation ?? 1;
    const shape = [outChannels, inChannels / this.groups, kh, kw];
    const fanIn = (inChannels / this.groups) * kh * kw;
    this.weight = this.param("weight", opts.init === "kaiming_fan_out" ? kaimingNormalFanOut(shape) : uniform(shape, 1 / Math.sqrt(fanIn)));
    this.bias = opts.bias === false ? null : this.param("bias", uniform([outChannels], 1 / Math.sqrt(fanIn)));
  }
  readonly groups: number;
  readonly dilation: Pair;
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.stride, this.padding, this.dilation, this.groups);
  }
  /**
   * Fold an eval-mode batch norm that follows this conv into its weight and bias (y = conv'(x) = bn(conv(x))),
   * and make the batch norm an identity. For inference only: the batch norm cannot train afterwards.
   */
  foldBatchNorm(bn: BatchNorm2d): void {
    noGrad(() =>
      tidy(() => {
        const scale = bn.weight.mul(bn.runningVar.add(bn.eps).rsqrt());
        this.weight.setData(this.weight.mul(scale.reshape([-1, 1, 1, 1])));
        let shift = bn.bias.sub(bn.runningMean.mul(scale));
        if (this.bias) shift = shift.add(this.bias.mul(scale));
        if (this.bias) this.bias.setData(shift);
        else this.bias = this.param("bias", shift.clone());
      }),
    );
    bn.folded = true;
  }
}

export class ConvTranspose2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernel: Pair, readonly stride: Pair = 1, readonly padding: Pair = 0, readonly outputPadding: Pair = 0, opts: { bias?: boolean } = {}) {
    super();
    const [kh, kw] = pair(kernel);
    const fanIn = outChannels * kh * kw; // torch computes fan_in from weight dim 1 for transposed convs
    this.weight = this.param("weight", uniform([inChannels, outChannels, kh, kw], 1 / Math.sqrt(fanIn)));
    this.bias = opts.bias === false ? null : this.param("bias", uniform([outChannels], 1 / Math.sqrt(fanIn)));
  }
  forward(x: Tensor): Tensor {
    return F.convTranspose2d(x, this.weight, this.bias, this.stride, this.padding, this.outputPadding);
  }
}

export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    const b = 1 / Math.sqrt(inFeatures);
    this.weight = this.param("weight", uniform([outFeatures, inFeatures], b));
    this.bias = opts.bias === false ? null : this.param("bias", uniform([outFeatures], b));
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

export class BatchNorm2d extends Module {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  numBatchesTracked: Tensor;
  constructor(readonly channels: number, readonly eps = 1e-5, readonly momentum = 0.1) {
    super();
    this.weight = this.param("weight", ones([channels]));
    this.bias = this.param("bias", zeros([channels]));
    this.runningMean = this.buffer("running_mean", zeros([channels]));
    this.runningVar = this.buffer("running_var", ones([channels]));
    this.numBatchesTracked = this.buffer("num_batches_tracked", zeros([], "int64"));
  }
  /** Set when the preceding conv absorbed this layer (Conv2d.foldBatchNorm): forward is then the identity. */
  folded = false;
  forward(x: Tensor): Tensor {
    if (this.folded) {
      if (this.training) throw new EngineError("this batch norm was folded into its conv for inference (fuseForInference) and cannot train; rebuild the model to train");
      return x;
    }
    if (this.training) noGrad(() => this.numBatchesTracked.addInPlace(1));
    return F.batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, this.training, this.momentum, this.eps);
  }
}

export class GroupNorm extends Module {
  weight: Tensor;
  bias: Tensor;
  constructor(readonly groups: number, readonly channels: number, readonly eps = 1e-5) {
    super();
    this.weight = this.param("weight", ones([channels]));
    this.bias = this.param("bias", zeros([channels]));
  }
  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.groups, this.weight, this.bias, this.eps);
  }
}

export class LayerNorm extends Module {
  weight: Tensor;
  bias: Tensor;
  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = this.param("weight", ones([dim]));
    this.bias = this.param("bias", zeros([dim]));
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, [this.dim], this.weight, this.bias, this.eps);
  }
}

export class Embedding extends Module {
  weight: Tensor;
  constructor(readonly count: number, readonly dim: number) {
    super();
    this.weight = this.param("weight", normal([count, dim], 1));
  }
  forward(idx: Tensor): Tensor {
    return F.embedding(this.weight, idx);
  }
}

/** Wraps a stateless function as a module (activations, pooling) so Sequential can hold it. */
export class Lambda extends Module {
  constructor(readonly fn: (x: Tensor) => Tensor) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}

export { full, op };
export type { DType };
