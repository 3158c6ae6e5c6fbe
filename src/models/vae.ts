// β-VAE: the encoder's fc gives [mu, logvar]; training samples z = mu + σ·ε (reparameterisation).
// The KL term is reported per input element (KL per sample / (C·H·W)) so it sits on the same scale as the
// per-element MSE: β = 1 then weighs them as a Gaussian-likelihood ELBO would, whatever the image size.
import { F, randnLike, type Tensor } from "../engine/index.ts";
import { ResNetAutoencoder } from "./autoencoder.ts";
import type { ResNetDepth } from "./resnet.ts";
import type { LossTerms, ModelSpec } from "./types.ts";

// Keeps exp(logvar) finite early in training (as diffusers' DiagonalGaussianDistribution).
const LOGVAR_RANGE: [number, number] = [-30, 20];

export class ResNetVAE extends ResNetAutoencoder {
  constructor(spec: ModelSpec, depth: ResNetDepth, readonly beta: number) {
    super(spec, depth, 2 * spec.latentDim);
  }
  /** [mu, logvar], each [B, latentDim]. */
  encodeGaussian(x: Tensor): [Tensor, Tensor] {
    let h = this.encodeHead(x);
    if (h.dtype !== "float32") h = h.to("float32"); // under bf16 autocast: keep the KL and sampling in fp32
    const d = this.spec.latentDim;
    return [h.narrow(1, 0, d), h.narrow(1, d, d).clamp(...LOGVAR_RANGE)];
  }
  embed(x: Tensor): Tensor {
    return this.encodeGaussian(x)[0];
  }
  reconstruct(x: Tensor): Tensor {
    this.checkDecodable(x);
    return this.decodeLike(this.embed(x), x);
  }
  lossTerms(x: Tensor): LossTerms {
    this.checkDecodable(x);
    const [mu, logvar] = this.encodeGaussian(x);
    // sample in training; the mean in eval so validation losses are deterministic
    const z = this.training ? mu.add(logvar.mul(0.5).exp().mul(randnLike(mu))) : mu;
    const recon = this.decodeLike(z, x);
    const r = this.reconLoss(recon, x);
    const perElement = x.size / x.shape[0];
    const kl = F.gaussianKl(mu, logvar).div(perElement);
    return { total: r.add(kl.mul(this.beta)), terms: { recon: r, kl }, recon, latent: mu };
  }
}
