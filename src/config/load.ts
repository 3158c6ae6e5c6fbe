// Config resolution: schema defaults ← YAML file ← `key=value` overrides, then validation.
// Every failure is a ConfigError naming the dotted key, with a suggestion for unknown keys.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import YAML from "yaml";
import { BadInputError, ConfigError } from "../errors.ts";
import { configSchema, type Config } from "./schema.ts";
import { acceptsString, nodeAt, schemaTree, suggestKey, isSection, type JsonNode } from "./keys.ts";

type Raw = Record<string, unknown>;
const isPlainObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

export interface ResolveOptions {
  /** YAML config file; its keys are overridden by `overrides`. */
  file?: string;
  /** `key=value` strings, dotted keys for nested fields, values parsed as YAML scalars or flow lists. */
  overrides?: string[];
  /** Derive a name not yet used in runs_dir when `name` is unset (default true). */
  uniqueName?: boolean;
}

export function resolveConfig(opts: ResolveOptions = {}): Config {
  const raw: Raw = opts.file ? readConfigFile(opts.file) : {};
  checkKeys(raw, schemaTree(), "", opts.file ? `in ${opts.file}` : "");
  for (const ov of opts.overrides ?? []) applyOverride(raw, ov);
  return finalise(validate(raw), opts.uniqueName ?? true);
}

/** Validate an already-built object (e.g. a run's saved config) the same way as a file. */
export function parseConfigObject(raw: unknown, origin = "config"): Config {
  if (!isPlainObject(raw)) throw new ConfigError("(root)", `${origin} must be a mapping of key: value`);
  checkKeys(raw, schemaTree(), "", `in ${origin}`);
  return finalise(validate(raw), false);
}

function readConfigFile(file: string): Raw {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new BadInputError(file, `cannot read config file (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new BadInputError(file, `invalid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (doc == null) return {};
  if (!isPlainObject(doc)) throw new BadInputError(file, "config file must be a YAML mapping of key: value");
  return doc;
}

/** Reject keys the schema does not have, naming the nearest valid one. */
function checkKeys(obj: Raw, node: JsonNode, prefix: string, where: string): void {
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    const child = node.properties?.[k];
    if (!child) throw unknownKey(path, where);
    if (isSection(child) && isPlainObject(v)) checkKeys(v, child, path, where);
  }
}

function unknownKey(path: string, where: string): ConfigError {
  const hint = suggestKey(path);
  const tail = hint ? `; did you mean '${hint}'?` : "; run `bie config --help` for the list of keys";
  return new ConfigError(path, `unknown key${where ? ` ${where}` : ""}${tail}`);
}

function applyOverride(raw: Raw, arg: string): void {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new ConfigError(arg, "an override must look like key=value (e.g. epochs=5 or data.image_size=[64,64])");
  const key = arg.slice(0, eq).trim();
  const text = arg.slice(eq + 1);
  if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(key)) throw new ConfigError(key, "keys are dotted names like data.image_size");
  const node = nodeAt(key);
  if (!node) throw unknownKey(key, "in overrides");
  let value: unknown;
  if (acceptsString(node) && !/^(null|~)$/.test(text.trim())) value = text;
  else {
    try {
      value = YAML.parse(text);
    } catch (e) {
      throw new ConfigError(key, `cannot parse value '${text}' (${(e as Error).message.split("\n")[0]})`);
    }
  }
  if (isPlainObject(value)) checkKeys(value, node, key, "in overrides");
  setPath(raw, key, value);
}

function setPath(raw: Raw, key: string, value: unknown): void {
  const parts = key.split(".");
  let obj = raw;
  for (const p of parts.slice(0, -1)) {
    if (!isPlainObject(obj[p])) obj[p] = {};
    obj = obj[p] as Raw;
  }
  const last = parts[parts.length - 1];
  obj[last] = isPlainObject(value) && isPlainObject(obj[last]) ? deepMerge(obj[last] as Raw, value) : value;
}

function deepMerge(a: Raw, b: Raw): Raw {
  const out: Raw = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Raw, v) : v;
  return out;
}

function validate(raw: Raw) {
  const r = configSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.map(String).join(".") || "(root)";
  if (issue.code === "unrecognized_keys") throw unknownKey(path === "(root)" ? issue.keys[0] : `${path}.${issue.keys[0]}`, "");
  const node = nodeAt(path);
  const got = valueAt(raw, issue.path.map(String));
  const typeIssue = issue.code === "invalid_type" || issue.code === "invalid_union";
  const expected = node && typeIssue ? ` (expected ${describeType(node)})` : "";
  const shown = got === undefined ? "" : `, got ${JSON.stringify(got)}`;
  throw new ConfigError(path, `${issue.message}${expected}${shown}`);
}

function describeType(n: JsonNode): string {
  if (n.enum) return `one of ${n.enum.join(", ")}`;
  if (n.anyOf) return n.anyOf.map(describeType).join(" or ");
  if (n.prefixItems) return `a list of ${n.prefixItems.length}`;
  return String(n.type ?? "a value");
}

function valueAt(raw: unknown, path: string[]): unknown {
  let v = raw;
  for (const p of path) v = isPlainObject(v) || Array.isArray(v) ? (v as Raw)[p] : undefined;
  return v;
}

type Parsed = ReturnType<typeof configSchema.parse>;
function finalise(p: Parsed, uniqueName: boolean): Config {
  const weight_decay = p.optim.weight_decay ?? (p.optim.name === "adamw" || p.optim.name === "lamb" ? 1e-4 : 0);
  const name = p.name ?? deriveRunName(p, uniqueName);
  // Rebuild optim in schema order so the filled-in weight_decay prints where the schema puts it.
  const optim = Object.fromEntries(Object.keys(nodeAt("optim")!.properties!).map((k) => [k, k === "weight_decay" ? weight_decay : (p.optim as Raw)[k]]));
  return { name, ...p, optim: optim as Config["optim"] } as Config;
}

/** `<data>_<model>` (a manifest names its folder, an image itself), with -2, -3, ... when that run folder already exists. */
function deriveRunName(p: Parsed, unique: boolean): string {
  const src = p.data.manifest ?? p.data.path;
  let stem = "run";
  if (src) {
    const abs = resolve(src);
    // A manifest names its folder; an image file or Zarr store names itself (without .ome.tif / .zarr).
    stem = extname(abs).toLowerCase() === ".csv" ? basename(dirname(abs)) : basename(abs).replace(/(\.ome)?\.(zarr|tiff?|png)$/i, "");
  }
  const base = `${stem}_${p.model}`.replace(/[^A-Za-z0-9._-]+/g, "-");
  return unique ? uniqueRunName(p.runs_dir, base) : base;
}

/** `base`, or `base-2`, `base-3`, ... : the first name with no folder yet in runsDir. */
export function uniqueRunName(runsDir: string, base: string): string {
  let name = base;
  for (let i = 2; existsSync(join(runsDir, name)); i++) name = `${base}-${i}`;
  return name;
}
