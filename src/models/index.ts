// Public API of the models layer: the registry, the model contract, and the building blocks.
export type { EmbeddingModel, ModelSpec, ModelOptions, LossTerms } from "./types.ts";
export { registerModel, createModel, listModels, getModelEntry, type ModelEntry, type BuildOptions } from "./registry.ts";
export { ResNetEncoder, BasicBlock, Bottleneck, resnetWidth, RESNET_DEPTHS, type ResNetDepth } from "./resnet.ts";
export { UpDecoder } from "./decoder.ts";
export { ResNetAutoencoder, gridFor } from "./autoencoder.ts";
export { ResNetAE } from "./ae.ts";
export { ResNetVAE } from "./vae.ts";
export { ResNetVQVAE, type VQOptions } from "./vqvae.ts";
export { VectorQuantizerEMA, type Quantized } from "./quantizer.ts";
export { Module, Sequential } from "./nn/module.ts";
export * from "./nn/layers.ts";
// ViT/MAE models register themselves on import, so every registry name works wherever models are used.
export * from "./vit/index.ts";
