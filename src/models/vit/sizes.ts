// Standard ViT sizes (Dosovitskiy et al.; timm's vit_{tiny,small,base}) and this project's defaults for small
// bio images: patch 8 (a 40×40 Jurkat crop → 5×5 patches; 16 would leave a 3×3 grid) and a light MAE decoder.
export type VitSize = "tiny" | "small" | "base";

export interface TransformerShape {
  width: number;
  depth: number;
  heads: number;
}

export const VIT_SIZES: Record<VitSize, TransformerShape> = {
  tiny: { width: 192, depth: 12, heads: 3 },
  small: { width: 384, depth: 12, heads: 6 },
  base: { width: 768, depth: 12, heads: 12 },
};

export const DEFAULT_PATCH = 8;
/** MAE's paper decoder is 8 × 512; with ≤ 100 patches per image 4 × 256 (8 heads of 32) reconstructs as well at a quarter of the cost. */
export const DEFAULT_DECODER: TransformerShape = { width: 256, depth: 4, heads: 8 };
/**
 * The channel-agnostic decoder sees C× more tokens (every channel's patches), so it is lighter still: 128 × 2
 * (4 heads) keeps it near a third of a ViT-tiny encoder's cost on 3-channel 40×40 crops.
 */
export const DEFAULT_CAMAE_DECODER: TransformerShape = { width: 128, depth: 2, heads: 4 };
export const DEFAULT_MASK_RATIO = 0.75;
/** Channel embeddings of the channel-agnostic MAE: inputs may have up to this many channels. */
export const DEFAULT_MAX_CHANNELS = 8;
