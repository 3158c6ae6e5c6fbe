// ViT backbones, MAE and the channel-agnostic MAE; importing this registers the vit_* models.
import { registerVitModels } from "./register.ts";

export { VisionTransformer, type VitOptions, type Pooling } from "./vit.ts";
export { MaskedAutoencoder, type MaeOptions, type MaskedForward, type TokenLayout } from "./mae.ts";
export { ChannelAgnosticMAE, type CaMaeOptions } from "./camae.ts";
export { Block, Mlp } from "./block.ts";
export { Attention } from "./attention.ts";
export { PatchEmbed, patchify, unpatchify, gridFor, type PatchGrid } from "./patch.ts";
export { randomMasking, keptCount, type Masked } from "./masking.ts";
export { sincos2d } from "./sincos.ts";
export { VIT_SIZES, DEFAULT_PATCH, DEFAULT_DECODER, DEFAULT_CAMAE_DECODER, DEFAULT_MASK_RATIO, DEFAULT_MAX_CHANNELS, type VitSize, type TransformerShape } from "./sizes.ts";
export { registerVitModels, VIT_MODEL_NAMES, type VitExtraOptions } from "./register.ts";

registerVitModels();
