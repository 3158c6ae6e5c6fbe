// What a dataset contains: the list of items from a folder scan or a CSV manifest, with labels, groups and
// metadata. No pixels are read here; that happens in the loader.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { BadInputError, ConfigError } from "../errors.ts";
import type { DataConfig } from "../config/schema.ts";
import { parseCsv } from "./csv.ts";
import { Rng, hash32 } from "./rng.ts";
import type { TileSpec } from "./tile-spec.ts";

export interface Item {
  /** Stable name: manifest `id` column, else the path as written in the manifest, else the path under the folder. */
  id: string;
  /** Absolute path of the image file. */
  path: string;
  label: string | null;
  group: string | null;
  /** Extra manifest columns, kept verbatim for embeddings tables (tiles add file, level, t, z, y0, x0, h, w). */
  meta: Record<string, string>;
  /** Set when the item is a region of a bigger image (data.tiles): where its pixels come from. */
  tile?: TileSpec;
}

/** An item the pipeline left out, with the reason; written to the run folder by the trainer. */
export interface SkippedItem {
  path: string;
  reason: string;
}

export interface ItemList {
  items: Item[];
  /** Folder or CSV the items came from (absolute). */
  source: string;
  kind: "folder" | "manifest";
  /** Items left out before any pixels were read (missing files with skip_bad, unlabelled rows with missing_labels=drop). */
  excluded: SkippedItem[];
}

export const IMAGE_EXTENSIONS = [".png", ".tif", ".tiff"];
const isImageFile = (name: string) => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
const ZARR_MARKERS = [".zattrs", ".zgroup", "zarr.json"];
/** An OME-Zarr (or bare Zarr) store is a folder that is one image: listed as an item, never searched inside. */
export const isZarrStore = (dir: string) => extname(dir).toLowerCase() === ".zarr" || ZARR_MARKERS.some((m) => existsSync(join(dir, m)));
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0); // locale-independent, so order is the same everywhere

export function listItems(data: DataConfig): ItemList {
  const manifest = data.manifest ?? (data.path && extname(data.path).toLowerCase() === ".csv" ? data.path : undefined);
  if (!manifest && !data.path) throw new ConfigError("data.path", "is required: a folder of images or a CSV manifest");
  const list = manifest ? fromManifest(resolve(manifest), data) : fromFolder(resolve(data.path!), data);
  if (data.limit && list.items.length > data.limit) list.items = subset(list.items, data.limit, data.split.seed);
  return list;
}

/** Seeded random subset that keeps the original order. */
function subset(items: Item[], n: number, seed: number): Item[] {
  const idx = new Rng(hash32(seed, 0x11a17)).shuffle(items.map((_, i) => i)).slice(0, n);
  return idx.sort((a, b) => a - b).map((i) => items[i]);
}

function fromFolder(root: string, data: DataConfig): ItemList {
  if (!existsSync(root)) throw new BadInputError(root, "data folder does not exist");
  if (data.group_column) throw new ConfigError("data.group_column", "groups come from a manifest column; a folder scan has none (use data.manifest)");
  const isDir = statSync(root).isDirectory();
  if (!isDir && !isImageFile(root)) throw new BadInputError(root, `expected a folder of images, an image file (${IMAGE_EXTENSIONS.join(" ")}), an OME-Zarr store or a .csv manifest`);
  // One image given directly (a file or a Zarr store): a dataset of one item, named after it.
  if (!isDir || isZarrStore(root)) {
    const item = { id: basename(root).replace(/(\.ome)?\.[^./]+$/, ""), path: root, label: null, group: null, meta: {} };
    return { items: [item], source: root, kind: "folder", excluded: [] };
  }
  const files: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => byCodeUnit(a.name, b.name));
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) (isZarrStore(p) ? files.push(p) : walk(p));
      else if (e.isFile() && isImageFile(e.name)) files.push(p);
    }
  };
  walk(root);
  if (files.length === 0) throw new BadInputError(root, `no images found (looked for ${IMAGE_EXTENSIONS.join(" ")} files and .zarr stores in all subfolders)`);
  const rels = files.map((f) => relative(root, f));
  // Class subfolders (root/<class>/...): every image sits in a subfolder, whose first level names its class.
  const labelled = data.label_column !== null && rels.every((r) => r.includes(sep));
  const items = files.map((path, i) => ({
    id: rels[i].split(sep).join("/").replace(/\.[^./]+$/, ""),
    path,
    label: labelled ? rels[i].split(sep)[0] : null,
    group: null,
    meta: {},
  }));
  return { items, source: root, kind: "folder", excluded: [] };
}

function fromManifest(csvPath: string, data: DataConfig): ItemList {
  let text: string;
  try {
    text = readFileSync(csvPath, "utf8");
  } catch (e) {
    throw new BadInputError(csvPath, `cannot read manifest (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let table;
  try {
    table = parseCsv(text);
  } catch (e) {
    throw new BadInputError(csvPath, `malformed CSV: ${(e as Error).message}`);
  }
  const { header, rows, lines } = table;
  const col = (name: string) => header.indexOf(name);
  const cols = `columns are: ${header.join(", ") || "(none)"}`;
  const pathCol = col(data.path_column);
  if (pathCol < 0) throw new BadInputError(csvPath, `manifest has no '${data.path_column}' column (set data.path_column); ${cols}`);
  if (rows.length === 0) throw new BadInputError(csvPath, "manifest has a header but no rows");
  const labelCol = data.label_column === null ? -1 : col(data.label_column);
  if (data.label_column !== null && labelCol < 0 && data.label_column !== "label")
    throw new ConfigError("data.label_column", `column '${data.label_column}' is not in ${csvPath}; ${cols}`);
  const groupCol = data.group_column ? col(data.group_column) : -1;
  if (data.group_column && groupCol < 0) throw new ConfigError("data.group_column", `column '${data.group_column}' is not in ${csvPath}; ${cols}`);
  const idCol = col("id");
  const metaCols = header.map((h, i) => [h, i] as const).filter(([, i]) => ![pathCol, labelCol, groupCol, idCol].includes(i));

  const base = dirname(csvPath);
  const excluded: ItemList["excluded"] = [];
  const unlabelled: number[] = [];
  const missing: { line: number; path: string }[] = [];
  const seen = new Map<string, number>();
  const items: Item[] = [];
  rows.forEach((row, r) => {
    const line = lines[r];
    const cell = (i: number) => (row[i] ?? "").trim();
    const written = cell(pathCol);
    if (!written) throw new BadInputError(csvPath, `line ${line}: empty '${data.path_column}'`);
    const path = isAbsolute(written) ? written : resolve(base, written);
    const label = labelCol >= 0 ? cell(labelCol) || null : null;
    if (labelCol >= 0 && label === null) {
      if (data.missing_labels === "error") return void unlabelled.push(line);
      if (data.missing_labels === "drop") return void excluded.push({ path, reason: `line ${line}: no value in label column '${data.label_column}'` });
    }
    if (!existsSync(path)) {
      if (data.skip_bad) return void excluded.push({ path, reason: `line ${line}: file not found` });
      return void missing.push({ line, path });
    }
    const id = idCol >= 0 && cell(idCol) ? cell(idCol) : written;
    const prev = seen.get(id);
    if (prev !== undefined) throw new BadInputError(csvPath, `id '${id}' appears on lines ${prev} and ${line}; ids must be unique (add an 'id' column)`);
    seen.set(id, line);
    const meta: Record<string, string> = {};
    for (const [h, i] of metaCols) meta[h] = row[i] ?? "";
    items.push({ id, path, label, group: groupCol >= 0 ? cell(groupCol) || null : null, meta });
  });
  if (unlabelled.length)
    throw new BadInputError(
      csvPath,
      `label column '${data.label_column}' is empty on ${listLines(unlabelled)}; ` +
        "set data.missing_labels=drop to leave those rows out, or =keep to use them unlabelled",
    );
  if (missing.length)
    throw new BadInputError(missing[0].path, `listed on ${listLines(missing.map((m) => m.line))} of ${csvPath} but not found (data.skip_bad=true skips missing files)`);
  if (items.length === 0) throw new BadInputError(csvPath, "no usable rows left (all dropped or missing)");
  return { items, source: csvPath, kind: "manifest", excluded };
}

function listLines(lines: number[]): string {
  const shown = lines.slice(0, 8).join(", ");
  return `${lines.length === 1 ? "line" : "lines"} ${shown}${lines.length > 8 ? ` and ${lines.length - 8} more` : ""}`;
}
