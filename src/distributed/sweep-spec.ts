// A sweep spec (sweep.yaml): a base config, fixed settings, the searched keys (any dotted config key) and how to
// search them (grid or seeded random), optionally with ASHA early stopping. Trials are a pure function of the
// spec, so trial k means the same thing on every machine — it is a shard of the sweep.
import { readFileSync } from "node:fs";
import { basename, dirname, extname, resolve } from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { resolveConfig, type Config } from "../config/index.ts";
import { BadInputError, ConfigError } from "../errors.ts";
import { Rng, hash32 } from "../data/index.ts";
import { rungBudgets } from "./asha.ts";

const range = z.strictObject({
  min: z.number(),
  max: z.number(),
  log: z.boolean().default(false).describe("sample log-uniformly (for learning rates, weight decay)"),
  int: z.boolean().default(false).describe("round to an integer"),
});
const param = z.union([z.array(z.unknown()).min(1), z.strictObject({ values: z.array(z.unknown()).min(1) }), range]);

export const sweepSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/).optional().describe("sweep name (default: the spec file's name)"),
  out: z.string().optional().describe("sweep folder (default: <runs_dir>/sweep_<name>)"),
  config: z.string().optional().describe("base YAML config, relative to this file"),
  set: z.record(z.string(), z.unknown()).default({}).describe("fixed settings for every trial, as dotted key: value"),
  method: z.enum(["grid", "random"]).default("grid"),
  trials: z.number().int().positive().optional().describe("random: number of trials (grid: every combination)"),
  seed: z.number().int().default(0).describe("seed of the random search"),
  params: z.record(z.string(), param).refine((p) => Object.keys(p).length > 0, "list at least one key to search"),
  asha: z
    .strictObject({
      min_epochs: z.number().int().positive().default(1),
      max_epochs: z.number().int().positive(),
      reduction_factor: z.number().gt(1).default(3),
    })
    .refine((a) => a.min_epochs <= a.max_epochs, "min_epochs must be ≤ max_epochs")
    .optional(),
});
export type SweepSpec = z.output<typeof sweepSchema>;

export interface Trial {
  trial: number;
  params: Record<string, unknown>;
  /** Config overrides of this trial (fixed settings, its params, its run folder). */
  overrides: string[];
}

/** Everything a worker needs to run any trial, frozen into <sweep>/trials.json. */
export interface SweepPlan {
  name: string;
  dir: string;
  /** Absolute base config file, or null. */
  config: string | null;
  method: "grid" | "random";
  /** Epoch budgets of the rungs; without ASHA one rung, reached when a trial finishes its own epochs. */
  rungs: number[];
  reductionFactor: number;
  asha: boolean;
  trials: Trial[];
}

/** key=value as the config parser reads it: strings raw, everything else as JSON (a YAML subset). */
export function overrideOf(key: string, v: unknown): string {
  return `${key}=${typeof v === "string" ? v : JSON.stringify(v)}`;
}

export function readSweepSpec(file: string): SweepSpec {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new BadInputError(file, `cannot read sweep spec (${(e as Error).message.split("\n")[0]})`);
  }
  const r = sweepSchema.safeParse(doc ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`sweep.${issue.path.map(String).join(".") || "(root)"}`, `${issue.message} (in ${file})`);
  }
  return r.data;
}

/** Params of every trial: grid in spec key order (first key slowest), or seeded random draws. */
export function trialParams(spec: SweepSpec): Record<string, unknown>[] {
  const keys = Object.keys(spec.params);
  if (spec.method === "grid") {
    const axes = keys.map((k) => {
      const p = spec.params[k];
      if (Array.isArray(p)) return p;
      if ("values" in p) return p.values;
      throw new ConfigError(`sweep.params.${k}`, "a grid needs a list of values; ranges (min/max) are for method: random");
    });
    let combos: Record<string, unknown>[] = [{}];
    keys.forEach((k, a) => (combos = combos.flatMap((c) => axes[a].map((v) => ({ ...c, [k]: v })))));
    if (spec.trials !== undefined && spec.trials !== combos.length)
      throw new ConfigError("sweep.trials", `a grid runs every combination (${combos.length}); leave trials out or use method: random`);
    return combos;
  }
  if (spec.trials === undefined) throw new ConfigError("sweep.trials", "method: random needs trials: N");
  const rng = new Rng(hash32(spec.seed, 0x5eeb));
  return Array.from({ length: spec.trials }, () => {
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const p = spec.params[k];
      if (Array.isArray(p) || "values" in p) {
        const values = Array.isArray(p) ? p : p.values;
        out[k] = values[rng.int(values.length)];
      } else {
        if (p.log && !(p.min > 0)) throw new ConfigError(`sweep.params.${k}`, "log: true needs min > 0");
        let v = p.log ? Math.exp(rng.uniform(Math.log(p.min), Math.log(p.max))) : rng.uniform(p.min, p.max);
        v = p.int ? Math.round(v) : Number(v.toPrecision(4)); // short values read better in tables and YAML
        out[k] = v;
      }
    }
    return out;
  });
}

/** The plan of a spec file: trials, rungs, folders; every trial's config is validated here, before anything runs. */
export function planSweep(file: string, extra: { out?: string } = {}): SweepPlan {
  const specFile = resolve(file);
  const spec = readSweepSpec(specFile);
  const name = spec.name ?? basename(specFile, extname(specFile));
  const config = spec.config ? resolve(dirname(specFile), spec.config) : null;
  const fixed = Object.entries(spec.set).map(([k, v]) => overrideOf(k, v));
  for (const k of Object.keys(spec.params)) if (["name", "runs_dir"].includes(k) || (spec.asha && k === "epochs")) throw new ConfigError(`sweep.params.${k}`, "is set by the sweep itself");
  const base = resolveConfig({ file: config ?? undefined, overrides: fixed, uniqueName: false });
  const dir = resolve(extra.out ?? spec.out ?? resolve(base.runs_dir, `sweep_${name}`));
  const asha = spec.asha;
  // Under ASHA a trial's schedule spans max_epochs and it pauses at rungs (a pause is exact: resume from the
  // epoch checkpoint), so a trial promoted to the top trains exactly as one uninterrupted run would.
  const managed = asha ? [`epochs=${asha.max_epochs}`, "checkpoint_every=1", "early_stopping.patience=0"] : [];
  const trials = trialParams(spec).map((params, k) => {
    const overrides = [...fixed, ...Object.entries(params).map(([key, v]) => overrideOf(key, v)), ...managed, `runs_dir=${resolve(dir, "trials")}`, `name=${trialName(k)}`];
    return { trial: k, params, overrides };
  });
  const cfgs: Config[] = trials.map((t) => resolveConfig({ file: config ?? undefined, overrides: t.overrides, uniqueName: false }));
  // Without ASHA there is one rung: each trial's own `epochs` (which may itself be a searched key).
  const rungs = asha ? rungBudgets(asha.min_epochs, asha.max_epochs, asha.reduction_factor) : [Math.max(...cfgs.map((c) => c.epochs))];
  return { name, dir, config, method: spec.method, rungs, reductionFactor: asha?.reduction_factor ?? 1, asha: !!asha, trials };
}

export const trialName = (k: number) => `trial_${String(k).padStart(3, "0")}`;
