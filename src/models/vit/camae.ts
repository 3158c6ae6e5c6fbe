// Channel-agnostic MAE (Kraus et al., CVPR 2024): every channel is patched on its own by one shared 1-channel
// patch embedding, and a learned channel embedding (encoder and decoder) says which channel a token came from.
// Tokens are channel-major ([all patches of channel a, then b, ...]); masking, attention and pooling run over all
// of them, so one model takes 1..maxChannels channels in any order, named by channel ids.
import { cat, rand, randperm, tensor, zeros, op, type Tensor } from "../../engine/index.ts";
import { ConfigError } from "../../errors.ts";
import type { LossTerms } from "../types.ts";
import { tokenInit } from "./init.ts";
import { patchify, unpatchify, cropFromGrid } from "./patch.ts";
import { positionsFor } from "./position.ts";
import { MaskedAutoencoder, type MaeOptions, type TokenLayout } from "./mae.ts";
import { DEFAULT_CAMAE_DECODER, DEFAULT_MAX_CHANNELS } from "./sizes.ts";

export interface CaMaeOptions extends MaeOptions {
  /** Size of the channel-embedding table: channel ids run 0..maxChannels-1 (default 8). */
  maxChannels?: number;
  /**
   * Train on channel subsets: each training batch uses all channels with probability 1/2, otherwise a random
   * non-empty proper subset (engine RNG), so the model also learns to embed 1- and 2-channel inputs. Default on.
   */
  channelSubsets?: boolean;
}

const channelIndex = (ids: number[]): Tensor => tensor(new BigInt64Array(ids.map(BigInt)), [ids.length]);

export class ChannelAgnosticMAE extends MaskedAutoencoder {
  readonly channelEmbed: Tensor;
  readonly decoderChannelEmbed: Tensor;
  readonly maxChannels: number;
  readonly channelSubsets: boolean;

  constructor(o: CaMaeOptions) {
    super({ ...o, decoder: { ...DEFAULT_CAMAE_DECODER, ...o.decoder } }, "camae", 1);
    this.maxChannels = o.maxChannels ?? DEFAULT_MAX_CHANNELS;
    if (o.inChannels > this.maxChannels)
      throw new ConfigError("data.channels", `${o.name} has ${this.maxChannels} channel embeddings but the data has ${o.inChannels} channels`);
    this.channelSubsets = o.channelSubsets ?? true;
    this.channelEmbed = this.param("channel_embed", tokenInit([this.maxChannels, o.width]));
    this.decoderChannelEmbed = this.param("decoder_channel_embed", tokenInit([this.maxChannels, this.decoderPosEmbed.shape[2]]));
  }

  protected override tokenize(x: Tensor, channelIds?: number[]): { tokens: Tensor; target: Tensor; layout: TokenLayout } {
    const [b, c] = x.shape;
    const ids = this.checkedIds(channelIds ?? [...Array(c).keys()], c);
    const g = this.grid(x);
    const n = g.gh * g.gw;
    const single = this.padded(x, g).reshape([b * c, 1, g.gh * this.patch, g.gw * this.patch]);
    const perChannel = this.patchEmbed.forward(single).reshape([b, c, n, this.width]);
    const pos = this.positions(g).narrow(1, 1, n).unsqueeze(1); // [1, 1, n, D], shared by every channel
    const chan = this.channelEmbed.indexSelect(0, channelIndex(ids)).reshape([1, c, 1, this.width]);
    const tokens = perChannel.add(pos).add(chan).reshape([b, c * n, this.width]);
    const target = patchify(single, this.patch).reshape([b, c * n, this.patch * this.patch]);
    return { tokens, target, layout: { grid: g, channelIds: ids, batch: b } };
  }

  protected override decoderPositions(layout: TokenLayout): Tensor {
    const { grid, channelIds } = layout;
    const pos = positionsFor(this.decoderPosEmbed, "sincos", this.builtGrid, grid.gh, grid.gw);
    const [, n1, dd] = pos.shape;
    const c = channelIds.length;
    const chan = this.decoderChannelEmbed.indexSelect(0, channelIndex(channelIds)).reshape([1, c, 1, dd]);
    const body = pos.narrow(1, 1, n1 - 1).unsqueeze(1).add(chan).reshape([1, c * (n1 - 1), dd]);
    return cat([pos.narrow(1, 0, 1), body], 1);
  }

  protected override toImage(pixels: Tensor, layout: TokenLayout): Tensor {
    const { grid, channelIds, batch } = layout;
    const c = channelIds.length;
    const single = unpatchify(pixels.reshape([batch * c, grid.gh * grid.gw, this.patch * this.patch]), this.patch, grid.gh, grid.gw, 1);
    return cropFromGrid(single.reshape([batch, c, grid.gh * this.patch, grid.gw * this.patch]), grid);
  }

  /** In training, optionally a random channel subset; the reconstruction has every channel (zeros for dropped ones). */
  override lossTerms(x: Tensor): LossTerms {
    const c = x.shape[1];
    const ids = this.training && this.channelSubsets && c > 1 ? this.randomSubset(c) : null;
    if (!ids) return super.lossTerms(x);
    const sub = x.indexSelect(1, channelIndex(ids));
    const f = this.forwardMasked(sub, { channelIds: ids });
    const recon = op<Tensor>("index_copy", zeros(x.shape), 1, channelIndex(ids), this.pastedReconstruction(f));
    return { total: f.loss, terms: { recon: f.loss }, recon, latent: f.latent };
  }

  /** Sorted channel ids: all C with probability 1/2, else k ∈ 1..C-1 of them, from the engine RNG. */
  randomSubset(c: number): number[] {
    const [u, v] = rand([2]).toArray() as Float32Array;
    if (u < 0.5) return [...Array(c).keys()];
    const k = 1 + Math.min(c - 2, Math.floor(v * (c - 1)));
    const perm = Array.from(randperm(c).toArray() as BigInt64Array, Number);
    return perm.slice(0, k).sort((a, b) => a - b);
  }

  private checkedIds(ids: number[], c: number): number[] {
    if (ids.length !== c) throw new ConfigError("channels", `${ids.length} channel ids for an input with ${c} channels`);
    for (const id of ids)
      if (!(Number.isInteger(id) && id >= 0 && id < this.maxChannels))
        throw new ConfigError("channels", `channel id ${id} is outside 0..${this.maxChannels - 1} (the model's channel embeddings)`);
    if (new Set(ids).size !== ids.length) throw new ConfigError("channels", `channel ids repeat: [${ids.join(", ")}]`);
    return ids;
  }
}
