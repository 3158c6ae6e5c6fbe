// The built-in models: resnet{18,34,50,101,152}_{ae,vae,vqvae}, as registry entries (no registry import,
// so registry.ts can seed itself from here without an import cycle).
import { ResNetAE } from "./ae.ts";
import { ResNetVAE } from "./vae.ts";
import { ResNetVQVAE } from "./vqvae.ts";
import { RESNET_DEPTHS, type ResNetDepth } from "./resnet.ts";
import type { EmbeddingModel, ModelOptions, ModelSpec } from "./types.ts";

export type BuildOptions = ModelOptions & { name: string };
export interface ModelEntry {
  family: string;
  /** Per-model defaults, filled in under the caller's options. */
  defaults: Partial<ModelOptions>;
  create(opts: BuildOptions): EmbeddingModel;
}

/** The reference (shared/anchors/torch_bench.py): 3 channels, 64×64, latent 64. */
const COMMON: Partial<ModelOptions> = { inChannels: 3, imageSize: [64, 64], latentDim: 64 };

function spec(o: BuildOptions, family: string): ModelSpec {
  return { name: o.name, family, inChannels: o.inChannels, latentDim: o.latentDim, imageSize: [o.imageSize[0], o.imageSize[1]] };
}

/** Largest divisor of n that is ≤ 8: the default VQ chunk size. */
export function defaultCodeDim(n: number): number {
  for (let d = Math.min(8, n); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

function entries(depth: ResNetDepth): [string, ModelEntry][] {
  return [
    [`resnet${depth}_ae`, { family: "ae", defaults: { ...COMMON }, create: (o) => new ResNetAE(spec(o, "ae"), depth) }],
    [`resnet${depth}_vae`, { family: "vae", defaults: { ...COMMON, beta: 1 }, create: (o) => new ResNetVAE(spec(o, "vae"), depth, o.beta!) }],
    [
      `resnet${depth}_vqvae`,
      {
        family: "vqvae",
        defaults: { ...COMMON, vqCodebookSize: 512, vqCommitment: 0.25, vqDecay: 0.99 },
        create: (o) =>
          new ResNetVQVAE(spec(o, "vqvae"), depth, { codebookSize: o.vqCodebookSize!, codeDim: o.vqCodeDim ?? defaultCodeDim(o.latentDim), commitment: o.vqCommitment!, decay: o.vqDecay! }),
      },
    ],
  ];
}

export const BUILTIN_MODELS: [string, ModelEntry][] = RESNET_DEPTHS.flatMap(entries);
