// Registry names: vit_{tiny,small,base}_mae and vit_{tiny,small}_camae. The config's latent_dim does not
// apply (an MAE has no bottleneck): the embedding is the encoder width (192 / 384 / 768), reported in spec.latentDim.
import { listModels, registerModel, type BuildOptions } from "../registry.ts";
import { MaskedAutoencoder, type MaeOptions } from "./mae.ts";
import { ChannelAgnosticMAE, type CaMaeOptions } from "./camae.ts";
import { DEFAULT_PATCH, VIT_SIZES, type VitSize } from "./sizes.ts";

/** Options beyond the registry's common ones; read when a caller passes them to createModel. */
export type VitExtraOptions = Partial<Omit<CaMaeOptions, "name" | "inChannels" | "imageSize" | "width" | "depth" | "heads">>;

function maeOptions(size: VitSize, o: BuildOptions & VitExtraOptions): MaeOptions & CaMaeOptions {
  return { patchSize: DEFAULT_PATCH, ...o, ...VIT_SIZES[size], name: o.name, inChannels: o.inChannels, imageSize: o.imageSize };
}

export const VIT_MODEL_NAMES = ["vit_tiny_mae", "vit_small_mae", "vit_base_mae", "vit_tiny_camae", "vit_small_camae"] as const;

/** Add the ViT models to the registry (idempotent). */
export function registerVitModels(): void {
  const known = new Set(listModels().map((m) => m.name));
  for (const size of ["tiny", "small", "base"] as const) {
    const defaults = { inChannels: 3, imageSize: [64, 64] as [number, number], latentDim: VIT_SIZES[size].width };
    if (!known.has(`vit_${size}_mae`))
      registerModel(`vit_${size}_mae`, { family: "mae", defaults, create: (o) => new MaskedAutoencoder(maeOptions(size, o)) });
    if (size !== "base" && !known.has(`vit_${size}_camae`))
      registerModel(`vit_${size}_camae`, { family: "camae", defaults, create: (o) => new ChannelAgnosticMAE(maeOptions(size, o)) });
  }
}
