// Shared body of the ResNet autoencoders: input checks, pad to a multiple of 32 and crop back, the
// encoder (torchvision ResNet whose fc gives the latent) and the mirrored decoder.
import { F, type Tensor } from "../engine/index.ts";
import { BadInputError } from "../errors.ts";
import { Module } from "./nn/module.ts";
import { ResNetEncoder, resnetWidth, type ResNetDepth } from "./resnet.ts";
import { UpDecoder, UPSAMPLE_STAGES } from "./decoder.ts";
import type { EmbeddingModel, LossTerms, ModelSpec } from "./types.ts";

const STRIDE = 2 ** UPSAMPLE_STAGES; // 32

/** The feature grid [h, w] an image of this size is padded to: ceil(size / 32). */
export function gridFor([h, w]: [number, number]): [number, number] {
  return [Math.ceil(h / STRIDE), Math.ceil(w / STRIDE)];
}

export abstract class ResNetAutoencoder extends Module implements EmbeddingModel {
  readonly encoder: ResNetEncoder;
  readonly decoder: UpDecoder;
  readonly grid: [number, number];
  #channelsLast = false;

  /** @param headDim features the encoder's fc produces (latent, or 2×latent for mean and log-variance) */
  constructor(readonly spec: ModelSpec, depth: ResNetDepth, headDim: number) {
    super();
    this.grid = gridFor(spec.imageSize);
    this.encoder = this.child("encoder", new ResNetEncoder(depth, spec.inChannels, headDim));
    this.decoder = this.child("decoder", new UpDecoder(spec.latentDim, resnetWidth(depth), this.grid, spec.inChannels));
  }

  abstract embed(x: Tensor): Tensor;
  abstract reconstruct(x: Tensor): Tensor;
  abstract lossTerms(x: Tensor): LossTerms;

  /** Encoder fc output for x (any H×W; padded to a multiple of 32 with zeros at the bottom/right). */
  protected encodeHead(x: Tensor): Tensor {
    this.check(x);
    return this.encoder.forward(this.pad(x));
  }
  /** Decode a latent and crop to x's H×W. */
  protected decodeLike(z: Tensor, x: Tensor): Tensor {
    const [, , h, w] = x.shape;
    const y = this.decoder.forward(z);
    return y.shape[2] === h && y.shape[3] === w ? y : y.narrow(2, 0, h).narrow(3, 0, w);
  }
  protected reconLoss(recon: Tensor, x: Tensor): Tensor {
    return F.mseLoss(recon, x, "mean");
  }
  /** Inputs whose size pads to another grid than the decoder's cannot be reconstructed (embed is fine). */
  protected checkDecodable(x: Tensor): void {
    const [gh, gw] = gridFor([x.shape[2], x.shape[3]]);
    if (gh !== this.grid[0] || gw !== this.grid[1])
      throw new BadInputError("input", `${this.spec.name} was built for ${this.spec.imageSize.join("×")} images (decoder grid ${this.grid.join("×")}); a ${x.shape[2]}×${x.shape[3]} input pads to grid ${gh}×${gw}`);
  }

  private check(x: Tensor): void {
    const s = x.shape;
    if (s.length !== 4 || s[1] !== this.spec.inChannels)
      throw new BadInputError("input", `${this.spec.name} takes [B, ${this.spec.inChannels}, H, W] tensors, got [${s.join(", ")}]`);
  }
  private pad(x: Tensor): Tensor {
    const [, , h, w] = x.shape;
    const ph = (STRIDE - (h % STRIDE)) % STRIDE;
    const pw = (STRIDE - (w % STRIDE)) % STRIDE;
    const y = ph || pw ? F.pad(x, [0, pw, 0, ph]) : x;
    return this.#channelsLast ? y.contiguous("channels_last") : y;
  }

  override toMemoryFormat(format: "contiguous" | "channels_last"): this {
    this.#channelsLast = format === "channels_last";
    return super.toMemoryFormat(format);
  }
  fuseForInference(): void {
    this.eval();
    this.encoder.fold();
    this.decoder.fold();
  }
}
