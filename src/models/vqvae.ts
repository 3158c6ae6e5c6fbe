// VQ-VAE on the latent vector: the encoder's fc output z_e [B, L] is cut into L/D chunks of D values, each
// snapped to its nearest codebook vector (EMA codebook), and the decoder sees the quantised vector.
// embed() returns z_e, the continuous pre-quantisation latent (deterministic, keeps more information).
import type { Tensor } from "../engine/index.ts";
import { ResNetAutoencoder } from "./autoencoder.ts";
import { VectorQuantizerEMA, type Quantized } from "./quantizer.ts";
import type { ResNetDepth } from "./resnet.ts";
import type { LossTerms, ModelSpec } from "./types.ts";

export interface VQOptions {
  codebookSize: number;
  codeDim: number;
  commitment: number;
  decay: number;
}

export class ResNetVQVAE extends ResNetAutoencoder {
  readonly quantizer: VectorQuantizerEMA;
  constructor(spec: ModelSpec, depth: ResNetDepth, readonly vq: VQOptions) {
    super(spec, depth, spec.latentDim);
    this.quantizer = this.child("quantizer", new VectorQuantizerEMA(vq.codebookSize, vq.codeDim, vq.decay));
  }
  embed(x: Tensor): Tensor {
    return this.encodeHead(x);
  }
  /** z_e → quantiser output, with the latent reshaped back to [B, L]. */
  quantize(ze: Tensor, update: boolean): Quantized & { zq: Tensor } {
    const [b, l] = ze.shape;
    const q = this.quantizer.forward(ze.reshape([-1, this.vq.codeDim]), update);
    return { ...q, zq: q.quantized.reshape([b, l]) };
  }
  reconstruct(x: Tensor): Tensor {
    this.checkDecodable(x);
    return this.decodeLike(this.quantize(this.encodeHead(x), false).zq, x);
  }
  lossTerms(x: Tensor): LossTerms {
    this.checkDecodable(x);
    const ze = this.encodeHead(x);
    const q = this.quantize(ze, this.training); // the codebook learns in training only
    const recon = this.decodeLike(q.zq, x);
    const r = this.reconLoss(recon, x);
    return {
      total: r.add(q.commitment.mul(this.vq.commitment)),
      terms: { recon: r, vq: q.codebookLoss, commitment: q.commitment, perplexity: q.perplexity },
      recon,
      latent: ze,
    };
  }
}
