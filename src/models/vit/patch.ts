// Patches: the patch-embedding convolution (timm's patch_embed.proj), MAE's patchify/unpatchify pixel layout
// (per patch: rows, columns, then channels), and padding of images whose size is not a multiple of the patch.
import { F, type Tensor } from "../../engine/index.ts";
import { Module } from "../nn/module.ts";
import { Conv2d } from "../nn/layers.ts";
import { xavierUniformInPlace } from "./init.ts";

export class PatchEmbed extends Module {
  readonly proj: Conv2d;
  constructor(readonly inChannels: number, readonly dim: number, readonly patch: number) {
    super();
    this.proj = this.child("proj", new Conv2d(inChannels, dim, patch, patch));
    xavierUniformInPlace(this.proj.weight); // MAE: as a linear layer over the flattened patch
  }
  /** [B, C, H, W] (H, W multiples of the patch) → [B, gh·gw, dim], patches in row-major order. */
  forward(x: Tensor): Tensor {
    return this.proj.forward(x).flatten(2).transpose(1, 2);
  }
}

/** Where an image sits inside its padded, patch-aligned canvas. */
export interface PatchGrid {
  gh: number;
  gw: number;
  /** Original height and width, and the top/left padding added to reach gh·p × gw·p. */
  h: number;
  w: number;
  top: number;
  left: number;
}

export function gridFor(h: number, w: number, patch: number): PatchGrid {
  const gh = Math.ceil(h / patch), gw = Math.ceil(w / patch);
  return { gh, gw, h, w, top: Math.floor((gh * patch - h) / 2), left: Math.floor((gw * patch - w) / 2) };
}

/** Zero-pad (centred) to the grid's canvas; a no-op when the size is already a multiple of the patch. */
export function padToGrid(x: Tensor, g: PatchGrid, patch: number): Tensor {
  const bottom = g.gh * patch - g.h - g.top, right = g.gw * patch - g.w - g.left;
  if (g.top + bottom + g.left + right === 0) return x;
  return F.pad(x, [g.left, right, g.top, bottom]);
}

/** Undo padToGrid. */
export function cropFromGrid(x: Tensor, g: PatchGrid): Tensor {
  if (x.shape[2] === g.h && x.shape[3] === g.w) return x;
  return x.narrow(2, g.top, g.h).narrow(3, g.left, g.w);
}

/** [B, C, gh·p, gw·p] → [B, gh·gw, p·p·C] (MAE's "nchpwq->nhwpqc"). */
export function patchify(x: Tensor, patch: number): Tensor {
  const [b, c, h, w] = x.shape;
  const gh = h / patch, gw = w / patch;
  return x.reshape([b, c, gh, patch, gw, patch]).permute([0, 2, 4, 3, 5, 1]).reshape([b, gh * gw, patch * patch * c]);
}

/** Inverse of patchify. */
export function unpatchify(x: Tensor, patch: number, gh: number, gw: number, channels: number): Tensor {
  const b = x.shape[0];
  return x.reshape([b, gh, gw, patch, patch, channels]).permute([0, 5, 1, 3, 2, 4]).reshape([b, channels, gh * patch, gw * patch]);
}
