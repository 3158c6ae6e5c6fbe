// Masked autoencoder (He et al., CVPR 2022) on the ViT encoder, with the official code's parameter names
// (decoder_embed, mask_token, decoder_pos_embed, decoder_blocks, decoder_norm, decoder_pred). The encoder sees
// only the visible 25% of patches; the decoder gets mask tokens in the gaps and predicts every patch's pixels;
// the loss counts the masked patches. The embedding is the encoder on the whole image (no masking), pooled.
import { cat, noGrad, type Tensor } from "../../engine/index.ts";
import { ConfigError } from "../../errors.ts";
import { Sequential } from "../nn/module.ts";
import { LayerNorm, Linear } from "../nn/layers.ts";
import type { EmbeddingModel, LossTerms, ModelSpec } from "../types.ts";
import { Block, LN_EPS } from "./block.ts";
import { initLinear, tokenInit } from "./init.ts";
import { cropFromGrid, patchify, unpatchify, type PatchGrid } from "./patch.ts";
import { positionsFor } from "./position.ts";
import { sincos2d } from "./sincos.ts";
import { fixedNoise, randomMasking } from "./masking.ts";
import { maskedPatchLoss, predictionPixels } from "./loss.ts";
import { VisionTransformer, type VitOptions } from "./vit.ts";
import { DEFAULT_DECODER, DEFAULT_MASK_RATIO, type TransformerShape } from "./sizes.ts";

export interface MaeOptions extends VitOptions {
  /** Registry name, for the spec. */
  name: string;
  /** Fraction of patch tokens removed per image in training (default 0.75). */
  maskRatio?: number;
  /** Loss against per-patch normalised pixels (MAE's norm_pix_loss; default off: absolute intensity matters in microscopy). */
  normPixLoss?: boolean;
  decoder?: Partial<TransformerShape>;
}

/** How one batch's tokens map back to pixels. */
export interface TokenLayout {
  grid: PatchGrid;
  /** Channel ids of the input's channels (the channel-agnostic variant embeds them; plain MAE: 0..C-1). */
  channelIds: number[];
  batch: number;
}

export interface MaskedForward {
  loss: Tensor;
  /** Decoder output [B, L, P] (normalised units when normPixLoss). */
  pred: Tensor;
  /** Raw target pixels [B, L, P]. */
  target: Tensor;
  /** [B, L], 1 = masked. */
  mask: Tensor;
  layout: TokenLayout;
  /** [B, width]: the encoding of the visible patches, pooled (the latent contrastive terms use). */
  latent: Tensor;
}

/** Validation masks come from this seed, so val losses of different epochs compare like with like. */
const VALIDATION_MASK_SEED = 1234;

export class MaskedAutoencoder extends VisionTransformer implements EmbeddingModel {
  readonly spec: ModelSpec;
  readonly maskRatio: number;
  readonly normPixLoss: boolean;
  readonly decoderEmbed: Linear;
  readonly maskToken: Tensor;
  readonly decoderPosEmbed: Tensor;
  readonly decoderBlocks: Sequential;
  readonly decoderNorm: LayerNorm;
  readonly decoderPred: Linear;

  /** family: the spec's family; patchChannels: channels per patch token (CA-MAE: 1). */
  constructor(o: MaeOptions, family = "mae", patchChannels = o.inChannels) {
    super({ ...o, inChannels: patchChannels });
    const dec = { ...DEFAULT_DECODER, ...o.decoder };
    this.maskRatio = o.maskRatio ?? DEFAULT_MASK_RATIO;
    this.normPixLoss = o.normPixLoss ?? false;
    this.spec = { name: o.name, family, inChannels: o.inChannels, latentDim: o.width, imageSize: [o.imageSize[0], o.imageSize[1]] };
    const [gh, gw] = this.builtGrid;
    this.decoderEmbed = this.child("decoder_embed", initLinear(new Linear(o.width, dec.width)));
    this.maskToken = this.param("mask_token", tokenInit([1, 1, dec.width]));
    this.decoderPosEmbed = this.buffer("decoder_pos_embed", sincos2d(dec.width, gh, gw));
    this.decoderBlocks = this.child("decoder_blocks", new Sequential(...Array.from({ length: dec.depth }, () => new Block(dec.width, dec.heads, o.mlpRatio ?? 4))));
    this.decoderNorm = this.child("decoder_norm", new LayerNorm(dec.width, LN_EPS));
    this.decoderPred = this.child("decoder_pred", initLinear(new Linear(dec.width, o.patchSize * o.patchSize * patchChannels)));
  }

  // --- token layout (overridden by the channel-agnostic variant) ---

  /** Image → encoder tokens with positions [B, L, width] and their target pixels [B, L, P]. */
  protected tokenize(x: Tensor, channelIds?: number[]): { tokens: Tensor; target: Tensor; layout: TokenLayout } {
    const c = x.shape[1];
    if (c !== this.spec.inChannels)
      throw new ConfigError("data.channels", `${this.spec.name} was built for ${this.spec.inChannels} channels but got ${c}; a *_camae model takes any number of channels`);
    const { tokens, grid } = this.patchTokens(x);
    const target = patchify(this.padded(x, grid), this.patch);
    return { tokens, target, layout: { grid, channelIds: channelIds ?? [...Array(c).keys()], batch: x.shape[0] } };
  }
  /** [1, 1 + L, decoder width]: CLS row first. */
  protected decoderPositions(layout: TokenLayout): Tensor {
    return positionsFor(this.decoderPosEmbed, "sincos", this.builtGrid, layout.grid.gh, layout.grid.gw);
  }
  /** Per-token pixels [B, L, P] → image [B, C, H, W] at the input's size. */
  protected toImage(pixels: Tensor, layout: TokenLayout): Tensor {
    const { grid } = layout;
    return cropFromGrid(unpatchify(pixels, this.patch, grid.gh, grid.gw, layout.channelIds.length), grid);
  }

  // --- the model ---

  /**
   * Decoder: embed the encoded tokens, put mask tokens where patches were removed (idsRestore unshuffles;
   * null = nothing was masked), add positions, run the blocks → [B, L, P] predicted pixels.
   */
  decode(latent: Tensor, idsRestore: Tensor | null, layout: TokenLayout): Tensor {
    const h = this.decoderEmbed.forward(latent);
    const [b, n1, dd] = h.shape;
    let body = h.narrow(1, 1, n1 - 1);
    if (idsRestore) {
      const l = idsRestore.shape[1];
      body = cat([body, this.maskToken.expand([b, l + 1 - n1, dd]).to(body.dtype)], 1);
      body = body.gather(1, idsRestore.unsqueeze(-1).expand([b, l, dd]));
    }
    const full = cat([h.narrow(1, 0, 1), body], 1).add(this.decoderPositions(layout));
    const out = this.decoderPred.forward(this.decoderNorm.forward(this.decoderBlocks.forward(full)));
    return out.narrow(1, 1, out.shape[1] - 1);
  }

  /** One masked forward. noise [B, L] fixes the mask (tests, validation); default torch.rand. */
  forwardMasked(x: Tensor, opts: { noise?: Tensor | ((b: number, l: number) => Tensor); channelIds?: number[] } = {}): MaskedForward {
    const { tokens, target, layout } = this.tokenize(x, opts.channelIds);
    const [b, l] = tokens.shape;
    const noise = typeof opts.noise === "function" ? opts.noise(b, l) : opts.noise;
    const { visible, mask, idsRestore } = randomMasking(tokens, this.maskRatio, noise);
    const encoded = this.encode(visible, layout.grid);
    const pred = this.decode(encoded, idsRestore, layout);
    return { loss: maskedPatchLoss(pred, target, mask, this.normPixLoss), pred, target, mask, layout, latent: this.pool(encoded) };
  }

  /** The MAE picture: visible patches from the input, masked ones from the decoder. */
  pastedReconstruction(f: MaskedForward): Tensor {
    return noGrad(() => {
      const pix = predictionPixels(f.pred.detach(), f.target, this.normPixLoss);
      const m = f.mask.unsqueeze(-1);
      return this.toImage(pix.mul(m).add(f.target.mul(m.rsub(1))), f.layout);
    });
  }

  lossTerms(x: Tensor): LossTerms {
    const noise = this.training ? undefined : (b: number, l: number) => fixedNoise([b, l], VALIDATION_MASK_SEED);
    const f = this.forwardMasked(x, { noise });
    return { total: f.loss, terms: { recon: f.loss }, recon: this.pastedReconstruction(f), latent: f.latent };
  }

  /** [B, width]: the encoder on every patch (no masking), pooled (mean of patch tokens by default). */
  embed(x: Tensor, channelIds?: number[]): Tensor {
    const { tokens, layout } = this.tokenize(x, channelIds);
    return this.pool(this.encode(tokens, layout.grid));
  }

  /**
   * Every patch predicted by the decoder from the unmasked encoding (deterministic). With normPixLoss the
   * per-patch mean and spread come from the input, as in MAE's visualisation.
   */
  reconstruct(x: Tensor, channelIds?: number[]): Tensor {
    const { tokens, target, layout } = this.tokenize(x, channelIds);
    const pred = this.decode(this.encode(tokens, layout.grid), null, layout);
    return this.toImage(predictionPixels(pred, target, this.normPixLoss), layout);
  }
}
