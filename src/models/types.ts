// The contract between models and everything that trains or embeds with them (train/, eval/, export/).
import type { Tensor } from "../engine/index.ts";
import type { Module } from "./nn/module.ts";

export interface ModelSpec {
  /** Registry name, e.g. "resnet18_vae". */
  name: string;
  /** Kind of objective: "ae" | "vae" | "vqvae" (others may add e.g. "mae"). */
  family: string;
  inChannels: number;
  latentDim: number;
  /** [H, W] the decoder is sized for; inputs padding to the same multiple-of-32 grid are accepted. */
  imageSize: [number, number];
}

export interface LossTerms {
  /** Weighted sum that training back-propagates. */
  total: Tensor;
  /** Named scalar terms, unweighted (e.g. recon, kl; or recon, vq, commitment, perplexity). */
  terms: Record<string, Tensor>;
  /** The reconstruction, same shape as the input. */
  recon: Tensor;
  /** [B, D] latent of this forward pass (what embed() gives, still in the graph), so contrastive terms need no second pass. */
  latent?: Tensor;
}

export interface EmbeddingModel extends Module {
  readonly spec: ModelSpec;
  /** [B, latentDim], deterministic (a VAE gives mu). The caller sets eval() and noGrad. */
  embed(x: Tensor): Tensor;
  /** Same shape as x; deterministic. */
  reconstruct(x: Tensor): Tensor;
  /** Training forward: the loss terms and the reconstruction. */
  lossTerms(x: Tensor): LossTerms;
  /** Fold batch norm into the preceding convolutions for faster inference (eval only afterwards). */
  fuseForInference?(): void;
}

/** What createModel takes; registry defaults fill the optional fields. */
export interface ModelOptions {
  inChannels: number;
  latentDim: number;
  imageSize: [number, number];
  /** VAE: weight of the KL term (KL per input element, see vae.ts). */
  beta?: number;
  /** VQ-VAE: number of codebook vectors. */
  vqCodebookSize?: number;
  /** VQ-VAE: weight of the commitment loss. */
  vqCommitment?: number;
  /** VQ-VAE: EMA decay of the codebook updates. */
  vqDecay?: number;
  /** VQ-VAE: size of each quantised chunk of the latent; default the largest divisor of latentDim ≤ 8. */
  vqCodeDim?: number;
}
