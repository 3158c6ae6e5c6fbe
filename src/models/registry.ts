// One registry of models by name. Built-ins are resnet{18,34,50,101,152}_{ae,vae,vqvae}; other modules
// (ViT/MAE, shape models) add theirs with registerModel.
import { ConfigError } from "../errors.ts";
import { BUILTIN_MODELS, type BuildOptions, type ModelEntry } from "./builtin.ts";
import { nearest } from "../nearest.ts";
import type { EmbeddingModel, ModelOptions } from "./types.ts";

export type { ModelEntry, BuildOptions };

const models = new Map<string, ModelEntry>(BUILTIN_MODELS);

export function registerModel(name: string, entry: ModelEntry): void {
  if (models.has(name)) throw new ConfigError("model", `a model named '${name}' is already registered`);
  models.set(name, entry);
}

export function listModels(): { name: string; family: string; defaults: Partial<ModelOptions> }[] {
  return [...models].map(([name, e]) => ({ name, family: e.family, defaults: e.defaults }));
}

export function getModelEntry(name: string): ModelEntry {
  const e = models.get(name);
  if (!e) {
    const near = nearest(name, [...models.keys()]);
    throw new ConfigError("model", `unknown model '${name}'${near ? `; did you mean '${near}'?` : ""} (known: ${[...models.keys()].join(", ")})`);
  }
  return e;
}

/** Build a model by name; the entry's defaults fill options the caller leaves out. */
export function createModel(name: string, opts: Partial<ModelOptions> = {}): EmbeddingModel {
  const entry = getModelEntry(name);
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const o = { ...entry.defaults, ...defined, name } as BuildOptions;
  validate(o);
  return entry.create(o);
}

const posInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;

function validate(o: BuildOptions): void {
  if (!posInt(o.inChannels)) throw new ConfigError("data.channels", `must be a positive integer, got ${o.inChannels}`);
  if (!posInt(o.latentDim)) throw new ConfigError("latent_dim", `must be a positive integer, got ${o.latentDim}`);
  if (!Array.isArray(o.imageSize) || o.imageSize.length !== 2 || !o.imageSize.every(posInt))
    throw new ConfigError("data.image_size", `must be [height, width] positive integers, got ${JSON.stringify(o.imageSize)}`);
  if (o.beta !== undefined && !(o.beta >= 0)) throw new ConfigError("loss.beta", `must be ≥ 0, got ${o.beta}`);
  if (o.vqCodebookSize !== undefined && !(posInt(o.vqCodebookSize) && o.vqCodebookSize >= 2))
    throw new ConfigError("loss.vq_codebook_size", `must be an integer ≥ 2, got ${o.vqCodebookSize}`);
  if (o.vqCommitment !== undefined && !(o.vqCommitment >= 0)) throw new ConfigError("loss.vq_commitment", `must be ≥ 0, got ${o.vqCommitment}`);
  if (o.vqDecay !== undefined && !(o.vqDecay > 0 && o.vqDecay < 1)) throw new ConfigError("loss.vq_decay", `must be in (0, 1), got ${o.vqDecay}`);
  if (o.vqCodeDim !== undefined && !(posInt(o.vqCodeDim) && o.latentDim % o.vqCodeDim === 0))
    throw new ConfigError("loss.vq_code_dim", `must be a positive divisor of latent_dim ${o.latentDim}, got ${o.vqCodeDim}`);
}
