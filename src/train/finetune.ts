// Starting from weights someone already has (issue 13): a trained run (`bie finetune`, finetune.from), or backbone
// weights from torchvision/timm saved as safetensors (`pretrained`), with part of the encoder optionally frozen.
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { loadSafetensors, noGrad, type Tensor } from "../engine/index.ts";
import { resolveConfig, type Config } from "../config/index.ts";
import type { EmbeddingModel } from "../models/index.ts";
import { BieError, ConfigError } from "../errors.ts";
import { loadWeights } from "./checkpoint.ts";

/** The weights file of a run folder (best, else last checkpoint) or the file itself. */
export function weightsFile(runOrFile: string): string {
  const p = resolve(runOrFile);
  if (!existsSync(p)) throw new ConfigError("finetune.from", `${p} does not exist`);
  if (!statSync(p).isDirectory()) return p;
  for (const f of ["best.safetensors", "last.safetensors"]) if (existsSync(join(p, "checkpoints", f))) return join(p, "checkpoints", f);
  throw new BieError("NO_CHECKPOINT", `${p}: no checkpoint to fine-tune from (checkpoints/best.safetensors or last.safetensors)`);
}

/** Before the first step of a new run: the run/checkpoint weights (finetune.from), then backbone weights (pretrained). */
export async function loadInitialWeights(cfg: Config, model: EmbeddingModel, log: (line: string) => void = () => {}): Promise<void> {
  if (cfg.finetune.from) {
    const file = weightsFile(cfg.finetune.from);
    await loadWeights(file, model);
    log(`fine-tuning from ${file}`);
  }
  if (cfg.pretrained) {
    const r = await loadPretrained(cfg.pretrained, model);
    log(`pretrained backbone: ${r.loaded} tensors from ${cfg.pretrained}${r.adapted.length ? ` (input conv adapted: ${r.adapted.join(", ")})` : ""}${r.skipped.length ? `; head left out: ${r.skipped.join(", ")}` : ""}`);
  }
}

// --- freezing ---

const isResNet = (names: string[]) => names.some((n) => n.startsWith("encoder.conv1."));

/** ViT/MAE encoder parameters: everything but the decoder (decoder_*) and the mask token. */
const vitEncoder = (n: string) => !n.startsWith("decoder_") && n !== "mask_token";

/** Predicate for the parameters `freeze` keeps fixed; a stage count beyond the model's is a config error. */
export function frozenMatcher(freeze: string, names: string[]): (name: string) => boolean {
  if (freeze === "none") return () => false;
  const resnet = isResNet(names);
  if (freeze === "encoder") return resnet ? (n) => n.startsWith("encoder.") : vitEncoder;
  const n = Number(freeze.slice("stages:".length));
  if (resnet) {
    if (n > 4) throw new ConfigError("finetune.freeze", `a ResNet has 4 stages; got ${freeze}`);
    const prefixes = ["encoder.conv1.", "encoder.bn1.", ...Array.from({ length: n }, (_, i) => `encoder.layer${i + 1}.`)];
    return (name) => prefixes.some((p) => name.startsWith(p));
  }
  const blocks = new Set(names.filter((x) => x.startsWith("blocks.")).map((x) => x.split(".")[1])).size;
  if (n > blocks) throw new ConfigError("finetune.freeze", `the encoder has ${blocks} blocks; got ${freeze}`);
  const stem = ["patch_embed.", "cls_token", "pos_embed", "channel_embed"];
  return (name) => stem.some((p) => name.startsWith(p)) || (name.startsWith("blocks.") && Number(name.split(".")[1]) < n);
}

/** The parameters to optimise: the frozen ones stop requiring gradients and are left out. */
export function trainableParameters(cfg: Config, model: EmbeddingModel): Tensor[] {
  const named = model.namedParameters();
  const frozen = frozenMatcher(cfg.finetune.freeze, named.map(([n]) => n));
  const out: Tensor[] = [];
  for (const [n, p] of named) {
    if (frozen(n)) p.requireGrad(false);
    else out.push(p);
  }
  if (out.length === 0) throw new ConfigError("finetune.freeze", `${cfg.finetune.freeze} leaves nothing to train`);
  return out;
}

// --- pretrained backbones ---

/** Wrappers other tools put around names (DataParallel, Lightning, our own checkpoints and encoders). */
const WRAPPER = /^(module\.|model\.|state_dict\.|backbone\.|encoder\.)+/;
/** Classification heads: never part of our encoder (our fc gives the latent). */
const HEAD = /^(fc|head|classifier|fc_norm|head_drop)\./;
/** The first convolution, whose input channels may differ from the file's (RGB weights, 1-channel data). */
const INPUT_CONV = new Set(["encoder.conv1.weight", "patch_embed.proj.weight"]);

export interface PretrainedReport {
  loaded: number;
  skipped: string[];
  adapted: string[];
}

/**
 * Load torchvision/timm-named backbone weights into the encoder. ResNet: conv1, bn1, layer*.… → encoder.*;
 * ViT: patch_embed, cls_token, pos_embed, blocks.*, norm → the same names. Heads (fc, head) are left out.
 * A name with no place in the model, a backbone tensor missing from the file, or a shape mismatch is a
 * ConfigError naming the parameter; the input convolution alone is adapted to the data's channels as timm does.
 */
export async function loadPretrained(file: string, model: EmbeddingModel): Promise<PretrainedReport> {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError("pretrained", `${path} does not exist`);
  const { tensors } = await loadSafetensors(path);
  const own = model.stateDict();
  const ownNames = [...own.keys()];
  const resnet = isResNet(ownNames);
  const backbone = ownNames.filter((n) => (resnet ? n.startsWith("encoder.") && !n.startsWith("encoder.fc.") : vitEncoder(n) && !HEAD.test(n)));
  const state = new Map<string, Tensor>();
  const made: Tensor[] = [];
  const report: PretrainedReport = { loaded: 0, skipped: [], adapted: [] };
  const unexpected: string[] = [];
  try {
    for (const [k, t] of tensors) {
      const bare = k.replace(WRAPPER, "");
      if (HEAD.test(bare)) { report.skipped.push(k); continue; }
      const name = resnet ? `encoder.${bare}` : bare;
      const mine = own.get(name);
      if (!mine || !backbone.includes(name)) { unexpected.push(k); continue; }
      let src = t;
      if (src.shape.join(",") !== mine.shape.join(",")) {
        const adapted = INPUT_CONV.has(name) ? adaptInputConv(src, mine.shape, path, k) : null;
        if (!adapted) throw new ConfigError("pretrained", `${path}: parameter '${k}' has shape [${src.shape}] but ${model.spec.name}'s '${name}' is [${mine.shape}]`);
        made.push((src = adapted));
        report.adapted.push(`${k} [${t.shape}] → [${mine.shape}]`);
      }
      state.set(name, src);
    }
    if (unexpected.length)
      throw new ConfigError("pretrained", `${path}: ${unexpected.length} tensor(s) have no place in ${model.spec.name}'s encoder, e.g. ${unexpected.slice(0, 4).map((n) => `'${n}'`).join(", ")} (weights of another architecture or depth?)`);
    const missing = backbone.filter((n) => !state.has(n));
    if (missing.length)
      throw new ConfigError("pretrained", `${path}: the encoder's ${missing.slice(0, 4).map((n) => `'${n.replace(/^encoder\./, "")}'`).join(", ")}${missing.length > 4 ? ` and ${missing.length - 4} more are` : missing.length > 1 ? " are" : " is"} not in the file`);
    model.loadStateDict(state, { strict: false, source: path });
    report.loaded = state.size;
    return report;
  } finally {
    for (const t of [...tensors.values(), ...made]) t.dispose();
  }
}

/**
 * timm's adapt_input_conv: RGB weights [O, 3, k, k] for in_chans = 1 (sum over the colour channels) or any other
 * count (repeat the RGB filters, keep the first in_chans, scale by 3/in_chans). null when that does not apply.
 */
function adaptInputConv(w: Tensor, want: readonly number[], file: string, name: string): Tensor | null {
  const [o, i, kh, kw] = w.shape;
  if (w.rank !== 4 || o !== want[0] || kh !== want[2] || kw !== want[3]) return null;
  const c = want[1];
  if (c === 1) return noGrad(() => w.to("float32").sum([1], true));
  if (i !== 3) throw new ConfigError("pretrained", `${file}: '${name}' takes ${i} input channels and the data has ${c}; only RGB (3-channel) input convolutions can be adapted`);
  return noGrad(() => w.to("float32").repeat([1, Math.ceil(c / 3), 1, 1]).narrow(1, 0, c).mul(3 / c));
}

// --- bie finetune ---

/** The config of a fine-tuning run: the source run's config, the user's overrides, and finetune.from = the run. */
export function finetuneConfig(runDir: string, overrides: string[]): Config {
  const dir = resolve(runDir);
  const file = join(dir, "config.yaml");
  if (!existsSync(file)) throw new ConfigError("run", `${dir} is not a run folder (no config.yaml)`);
  const given = (key: string) => overrides.some((o) => o.startsWith(`${key}=`));
  const defaults = [`runs_dir=${dirname(dir)}`, `finetune.from=${dir}`, "pretrained=null", `name=${freeName(dirname(dir), `${basename(dir)}_ft`)}`];
  return resolveConfig({ file, overrides: [...defaults.filter((d) => !given(d.slice(0, d.indexOf("=")))), ...overrides] });
}

function freeName(runsDir: string, stem: string): string {
  for (let i = 1; ; i++) {
    const name = i === 1 ? stem : `${stem}-${i}`;
    if (!existsSync(join(runsDir, name))) return name;
  }
}
