// Multi-head self-attention, timm's layout (one qkv linear, one output projection). libtorch 1.13 has no public
// fused attention, so the core is F.scaledDotProductAttention (composed matmul → softmax → matmul).
import { F, op, type Tensor } from "../../engine/index.ts";
import { ConfigError } from "../../errors.ts";
import { Module } from "../nn/module.ts";
import { Linear } from "../nn/layers.ts";
import { initLinear } from "./init.ts";

export class Attention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly headDim: number;
  constructor(readonly dim: number, readonly heads: number) {
    super();
    if (dim % heads !== 0) throw new ConfigError("model.heads", `width ${dim} is not divisible by ${heads} heads`);
    this.headDim = dim / heads;
    this.qkv = this.child("qkv", initLinear(new Linear(dim, dim * 3)));
    this.proj = this.child("proj", initLinear(new Linear(dim, dim)));
  }
  /** x [B, N, dim] → [B, N, dim]. */
  forward(x: Tensor): Tensor {
    const [b, n] = x.shape;
    const qkv = this.qkv.forward(x).reshape([b, n, 3, this.heads, this.headDim]).permute([2, 0, 3, 1, 4]);
    const [q, k, v] = op<Tensor[]>("unbind.int", qkv, 0); // each [B, heads, N, headDim]
    const out = F.scaledDotProductAttention(q, k, v); // [B, heads, N, headDim]
    return this.proj.forward(out.transpose(1, 2).reshape([b, n, this.dim]));
  }
}
