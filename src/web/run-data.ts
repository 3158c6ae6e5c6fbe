// Everything the explorer serves about one run, read once: the embedding table, unit rows for cosine k-NN,
// the label/metadata columns sorted into kinds the page can colour by, and the model input the page must
// reproduce to embed a dropped image.
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { BadInputError } from "../errors.ts";
import { imageSizeHW, resolveConfig, type Config } from "../config/index.ts";
import { readEmbeddings, type EmbeddingTable } from "../eval/index.ts";
import { readItemImage } from "./item-pixels.ts";
import { unitRows } from "./knn.ts";

export type ColumnKind = "category" | "number" | "text";
export interface ColumnInfo { name: string; kind: ColumnKind; distinct: number; missing: number }

/** What a dropped image goes through before the encoder: the run's own preprocessing settings. */
export interface ModelInput {
  channels: number;
  height: number;
  width: number;
  fit: Config["data"]["fit"];
  normalise: Config["data"]["normalise"];
  pLow: number;
  pHigh: number;
  channelMode: Config["data"]["channel_mode"];
}

export interface RunData {
  dir: string;
  name: string;
  table: EmbeddingTable;
  /** Unit-length rows of table.X. */
  unit: Float32Array;
  columns: ColumnInfo[];
  /** sha256 of the embedding file: caches made from another embedding are stale. */
  key: string;
  /** null, with the reason, when the page cannot embed new images for this run. */
  input: ModelInput | null;
  inputProblem: string | null;
}

const MAX_CATEGORIES = 64;

export async function loadRunData(runDir: string): Promise<RunData> {
  const dir = resolve(runDir);
  if (!["embeddings.parquet", "embeddings.npy"].some((f) => existsSync(join(dir, f))))
    throw new BadInputError(dir, `no embeddings to explore yet: run \`bie embed ${runDir}\` first`);
  const table = await readEmbeddings(dir);
  const key = await sha256File(table.source);
  const columns = Object.keys(table.columns).map((name) => describeColumn(name, table.columns[name]));
  const { input, problem } = await modelInput(dir, table);
  return { dir, name: basename(dir), table, unit: unitRows(table.X, table.d), columns, key, input, inputProblem: problem };
}

export function describeColumn(name: string, values: (string | null)[]): ColumnInfo {
  const seen = new Set<string>();
  let missing = 0, numeric = true;
  for (const v of values) {
    if (v === null || v === "") { missing++; continue; }
    seen.add(v);
    if (numeric && !Number.isFinite(Number(v))) numeric = false;
  }
  const distinct = seen.size;
  const kind: ColumnKind = numeric && distinct > 12 ? "number" : distinct <= MAX_CATEGORIES ? "category" : "text";
  return { name, kind, distinct, missing };
}

/** Categories in legend order (alphabetical when few, else most common first) and each row's code (-1 = missing). */
export function categoryCodes(values: (string | null)[]): { categories: string[]; counts: number[]; codes: Int32Array } {
  const count = new Map<string, number>();
  for (const v of values) if (v !== null && v !== "") count.set(v, (count.get(v) ?? 0) + 1);
  const categories = [...count.keys()];
  if (categories.length <= 20) categories.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  else categories.sort((a, b) => count.get(b)! - count.get(a)! || a.localeCompare(b));
  const codeOf = new Map(categories.map((c, i) => [c, i]));
  const codes = Int32Array.from(values, (v) => (v === null || v === "" ? -1 : codeOf.get(v)!));
  return { categories, counts: categories.map((c) => count.get(c)!), codes };
}

async function modelInput(dir: string, table: EmbeddingTable): Promise<{ input: ModelInput | null; problem: string | null }> {
  const cfgFile = join(dir, "config.yaml");
  if (!existsSync(cfgFile)) return { input: null, problem: "the run folder has no config.yaml" };
  let cfg: Config;
  try {
    cfg = await resolveConfig({ file: cfgFile, uniqueName: false });
  } catch (e) {
    return { input: null, problem: `config.yaml does not resolve (${(e as Error).message})` };
  }
  if (cfg.task !== "image") return { input: null, problem: `the run's task is '${cfg.task}', not images` };
  let channels = cfg.data.channels;
  // As the dataset does: the channel count of the first readable item (trying a few, in case data moved).
  for (let i = 0, tried = 0; channels === undefined && i < table.n && tried < 5; i++) {
    if (!table.paths[i]) continue;
    tried++;
    channels = await readItemImage(table, i).then((im) => im.channels, () => undefined);
  }
  if (channels === undefined) return { input: null, problem: "cannot tell the channel count (no data.channels and no readable image)" };
  const [height, width] = imageSizeHW(cfg.data.image_size);
  const d = cfg.data;
  return { input: { channels, height, width, fit: d.fit, normalise: d.normalise, pLow: d.percentile_low, pHigh: d.percentile_high, channelMode: d.channel_mode }, problem: null };
}

export function sha256File(file: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash("sha256");
    createReadStream(file).on("data", (c) => h.update(c)).on("error", rej).on("end", () => res(h.digest("hex")));
  });
}
