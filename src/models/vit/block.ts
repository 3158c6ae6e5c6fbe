// The pre-norm transformer block (timm names: norm1, attn, norm2, mlp.fc1, mlp.fc2), LayerNorm eps 1e-6 as
// in timm's ViT and MAE.
import type { Tensor } from "../../engine/index.ts";
import { Module } from "../nn/module.ts";
import { LayerNorm, Linear } from "../nn/layers.ts";
import { Attention } from "./attention.ts";
import { initLinear } from "./init.ts";

export const LN_EPS = 1e-6;

export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.child("fc1", initLinear(new Linear(dim, hidden)));
    this.fc2 = this.child("fc2", initLinear(new Linear(hidden, dim)));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).gelu());
  }
}

export class Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  constructor(dim: number, heads: number, mlpRatio = 4) {
    super();
    this.norm1 = this.child("norm1", new LayerNorm(dim, LN_EPS));
    this.attn = this.child("attn", new Attention(dim, heads));
    this.norm2 = this.child("norm2", new LayerNorm(dim, LN_EPS));
    this.mlp = this.child("mlp", new Mlp(dim, Math.floor(dim * mlpRatio)));
  }
  /** x [B, N, dim]: x + attn(norm1(x)), then + mlp(norm2(·)). */
  forward(x: Tensor): Tensor {
    const h = x.add(this.attn.forward(this.norm1.forward(x)));
    return h.add(this.mlp.forward(this.norm2.forward(h)));
  }
}
