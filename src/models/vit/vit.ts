// The Vision Transformer encoder with timm/MAE parameter names (patch_embed.proj, cls_token, pos_embed,
// blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}, norm), so MAE and timm checkpoints load by name.
import { cat, type Tensor } from "../../engine/index.ts";
import { ConfigError } from "../../errors.ts";
import { Module, Sequential } from "../nn/module.ts";
import { LayerNorm } from "../nn/layers.ts";
import { Block, LN_EPS } from "./block.ts";
import { PatchEmbed, gridFor, padToGrid, type PatchGrid } from "./patch.ts";
import { positionsFor, type PosEmbedKind } from "./position.ts";
import { sincos2d } from "./sincos.ts";
import { tokenInit } from "./init.ts";
import type { TransformerShape } from "./sizes.ts";

export type Pooling = "mean" | "cls";

export interface VitOptions extends TransformerShape {
  /** Channels the patch embedding reads (1 for the channel-agnostic variant, which patches channels one by one). */
  inChannels: number;
  /** Size the position table is built for; other sizes work (sin-cos recomputed, learned resampled). */
  imageSize: [number, number];
  patchSize: number;
  mlpRatio?: number;
  /** "sincos" (fixed, MAE's default; stored as a buffer) or "learned" (a parameter, N(0, 0.02²)). */
  posEmbed?: PosEmbedKind;
  /** Embedding = mean of the patch tokens (default) or the CLS token, after the final norm. */
  pool?: Pooling;
}

export class VisionTransformer extends Module {
  readonly patchEmbed: PatchEmbed;
  readonly clsToken: Tensor;
  readonly posEmbed: Tensor;
  readonly blocks: Sequential;
  readonly norm: LayerNorm;
  readonly patch: number;
  readonly width: number;
  readonly posKind: PosEmbedKind;
  readonly pooling: Pooling;
  /** The grid the position table was built for. */
  readonly builtGrid: [number, number];

  constructor(o: VitOptions) {
    super();
    if (!(Number.isInteger(o.patchSize) && o.patchSize > 0)) throw new ConfigError("model.patch_size", `must be a positive integer, got ${o.patchSize}`);
    this.patch = o.patchSize;
    this.width = o.width;
    this.posKind = o.posEmbed ?? "sincos";
    this.pooling = o.pool ?? "mean";
    const g = gridFor(o.imageSize[0], o.imageSize[1], o.patchSize);
    this.builtGrid = [g.gh, g.gw];
    this.patchEmbed = this.child("patch_embed", new PatchEmbed(o.inChannels, o.width, o.patchSize));
    this.clsToken = this.param("cls_token", tokenInit([1, 1, o.width]));
    this.posEmbed =
      this.posKind === "sincos"
        ? this.buffer("pos_embed", sincos2d(o.width, g.gh, g.gw))
        : this.param("pos_embed", tokenInit([1, 1 + g.gh * g.gw, o.width]));
    this.blocks = this.child("blocks", new Sequential(...Array.from({ length: o.depth }, () => new Block(o.width, o.heads, o.mlpRatio ?? 4))));
    this.norm = this.child("norm", new LayerNorm(o.width, LN_EPS));
  }

  /** The patch grid an input of this height and width is cut into (after centred zero padding). */
  grid(x: Tensor): PatchGrid {
    return gridFor(x.shape[2], x.shape[3], this.patch);
  }
  padded(x: Tensor, g: PatchGrid): Tensor {
    return padToGrid(x, g, this.patch);
  }
  /** [1, 1 + gh·gw, width] for this grid, CLS row first. */
  positions(g: PatchGrid): Tensor {
    return positionsFor(this.posEmbed, this.posKind, this.builtGrid, g.gh, g.gw);
  }
  /** Image → patch tokens with positions added, [B, gh·gw, width]. */
  patchTokens(x: Tensor): { tokens: Tensor; grid: PatchGrid } {
    const g = this.grid(x);
    const tokens = this.patchEmbed.forward(this.padded(x, g)).add(this.positions(g).narrow(1, 1, g.gh * g.gw));
    return { tokens, grid: g };
  }
  /** Tokens [B, L, width] (any subset, any order) → [B, 1 + L, width]: CLS prepended, blocks, final norm. */
  encode(tokens: Tensor, g: PatchGrid): Tensor {
    const b = tokens.shape[0];
    const cls = this.clsToken.add(this.positions(g).narrow(1, 0, 1)).expand([b, 1, this.width]);
    return this.norm.forward(this.blocks.forward(cat([cls, tokens], 1)));
  }
  /** Encoded [B, 1 + L, width] → [B, width]. */
  pool(h: Tensor): Tensor {
    return this.pooling === "cls" ? h.select(1, 0) : h.narrow(1, 1, h.shape[1] - 1).mean(1);
  }
  /** Pooled features of whole images (no masking). */
  forward(x: Tensor): Tensor {
    const { tokens, grid } = this.patchTokens(x);
    return this.pool(this.encode(tokens, grid));
  }
}
