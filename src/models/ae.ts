// Plain autoencoder: z = fc(pool(ResNet(x))), reconstruction = decoder(z), loss = MSE.
import type { Tensor } from "../engine/index.ts";
import { ResNetAutoencoder } from "./autoencoder.ts";
import type { ResNetDepth } from "./resnet.ts";
import type { LossTerms, ModelSpec } from "./types.ts";

export class ResNetAE extends ResNetAutoencoder {
  constructor(spec: ModelSpec, depth: ResNetDepth) {
    super(spec, depth, spec.latentDim);
  }
  embed(x: Tensor): Tensor {
    return this.encodeHead(x);
  }
  reconstruct(x: Tensor): Tensor {
    this.checkDecodable(x);
    return this.decodeLike(this.encodeHead(x), x);
  }
  lossTerms(x: Tensor): LossTerms {
    this.checkDecodable(x);
    const latent = this.encodeHead(x);
    const recon = this.decodeLike(latent, x);
    const r = this.reconLoss(recon, x);
    return { total: r, terms: { recon: r }, recon, latent };
  }
}
