// Classical feature table of a mask dataset → CSV, for the random-forest evaluation.
// Layout (one row per mask, in labels.csv order or sorted file names):
//   mask_file, area, perimeter, major_axis_length, minor_axis_length, orientation, eccentricity, solidity,
//   extent, efd_d1, efd_a2, … efd_d10, label_<name>…
// i.e. the id column first, then REGIONPROPS_COLUMNS, then efdColumns(order), then every label_* column of
// labels.csv copied as text (empty = unlabelled). Same column names as the anchors' bbbc010_features.csv.
import { readFile, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { BadInputError, ConfigError } from "../errors.ts";
import { readMask } from "./mask-io.ts";
import { classicalFeatures, efdColumns, REGIONPROPS_COLUMNS } from "./features.ts";

export interface FeatureTable {
  columns: string[];
  rows: (string | number)[][];
  /** Which columns are features (for selecting regionprops / EFD / both) and which are labels. */
  groups: { id: string; regionprops: string[]; efd: string[]; labels: string[] };
  /** Masks whose object had more than one 4-connected component (EFD then uses the largest). */
  multiComponent: string[];
}

export interface FeatureTableOptions {
  /** CSV beside the masks' folder with one row per mask (default "labels.csv" in dataDir). */
  labels?: string;
  /** Column of labels.csv holding the mask path relative to dataDir (default "mask_file"). */
  idColumn?: string;
  efdOrder?: number;
  /** Only these ids (values of idColumn), e.g. for a quick subset; default all rows. */
  ids?: string[];
}

/** Parses RFC 4180 CSV (quoted fields, "" escapes, CRLF or LF). */
export function parseCsv(text: string, source = "(csv)"): { header: string[]; rows: string[][] } {
  const records: string[][] = [];
  let field = "", row: string[] = [], i = 0, quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      field += ch; i++; continue;
    }
    if (ch === '"' && field === "") { quoted = true; i++; continue; }
    if (ch === ",") { row.push(field); field = ""; i++; continue; }
    if (ch === "\n" || ch === "\r") {
      row.push(field); field = "";
      if (row.length > 1 || row[0] !== "") records.push(row);
      row = [];
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      continue;
    }
    field += ch; i++;
  }
  if (quoted) throw new BadInputError(source, "unterminated quoted field");
  if (field !== "" || row.length > 0) { row.push(field); records.push(row); }
  if (records.length === 0) throw new BadInputError(source, "CSV is empty (no header)");
  const [header, ...rows] = records;
  rows.forEach((r, k) => {
    if (r.length !== header.length) throw new BadInputError(source, `row ${k + 2} has ${r.length} fields, the header has ${header.length}`);
  });
  return { header, rows };
}

function csvField(v: string | number): string {
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function tableToCsv(t: Pick<FeatureTable, "columns" | "rows">): string {
  return [t.columns, ...t.rows].map((r) => r.map(csvField).join(",")).join("\n") + "\n";
}

/** Writes the table as CSV atomically (temporary file, then rename), creating the folder if needed. */
export async function writeFeatureTable(t: Pick<FeatureTable, "columns" | "rows">, outPath: string): Promise<void> {
  await writeFileAtomic(outPath, tableToCsv(t));
}

async function featureRows(dataDir: string, ids: string[], efdOrder: number): Promise<{ rows: number[][]; multi: string[] }> {
  const rows: number[][] = [], multi: string[] = [];
  for (const id of ids) {
    const path = resolve(dataDir, id); // ids may also be absolute paths
    const f = classicalFeatures(await readMask(path), { source: path, efdOrder });
    if (f.components > 1) multi.push(id);
    rows.push([...REGIONPROPS_COLUMNS.map((k) => f.regionprops[k]), ...f.efd]);
  }
  return { rows, multi };
}

/** Feature table of the masks listed in dataDir/labels.csv, with its label_* columns. */
export async function classicalFeatureTable(dataDir: string, opts: FeatureTableOptions = {}): Promise<FeatureTable> {
  const labelsPath = join(dataDir, opts.labels ?? "labels.csv");
  const idColumn = opts.idColumn ?? "mask_file";
  const efdOrder = opts.efdOrder ?? 10;
  let text: string;
  try {
    text = await readFile(labelsPath, "utf8");
  } catch (e) {
    throw new BadInputError(labelsPath, `cannot read labels file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  const csv = parseCsv(text, labelsPath);
  const idIdx = csv.header.indexOf(idColumn);
  if (idIdx < 0) throw new BadInputError(labelsPath, `has no column "${idColumn}" (columns: ${csv.header.join(", ")})`);
  const labelCols = csv.header.filter((h) => h.startsWith("label_"));
  let records = csv.rows;
  if (opts.ids) {
    const want = new Set(opts.ids);
    records = records.filter((r) => want.has(r[idIdx]));
    const found = new Set(records.map((r) => r[idIdx]));
    const missing = opts.ids.filter((id) => !found.has(id));
    if (missing.length) throw new ConfigError("ids", `not in ${labelsPath}: ${missing.slice(0, 5).join(", ")}`);
  }
  const ids = records.map((r) => r[idIdx]);
  const { rows, multi } = await featureRows(dataDir, ids, efdOrder);
  const labelIdx = labelCols.map((c) => csv.header.indexOf(c));
  const efd = efdColumns(efdOrder);
  return {
    columns: [idColumn, ...REGIONPROPS_COLUMNS, ...efd, ...labelCols],
    rows: rows.map((r, k) => [ids[k], ...r, ...labelIdx.map((j) => records[k][j])]),
    groups: { id: idColumn, regionprops: [...REGIONPROPS_COLUMNS], efd, labels: labelCols },
    multiComponent: multi,
  };
}

/** Feature table of every PNG/TIFF in a folder (sorted names, no labels); ids are the file names. */
export async function maskFolderFeatureTable(maskDir: string, opts: { efdOrder?: number } = {}): Promise<FeatureTable> {
  let names: string[];
  try {
    names = (await readdir(maskDir)).filter((n) => /\.(png|tiff?)$/i.test(n)).sort();
  } catch (e) {
    throw new BadInputError(maskDir, `cannot list folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  if (names.length === 0) throw new BadInputError(maskDir, "no PNG or TIFF masks in this folder");
  const efdOrder = opts.efdOrder ?? 10;
  const { rows, multi } = await featureRows(maskDir, names, efdOrder);
  const efd = efdColumns(efdOrder);
  return {
    columns: ["file", ...REGIONPROPS_COLUMNS, ...efd],
    rows: rows.map((r, k) => [names[k], ...r]),
    groups: { id: "file", regionprops: [...REGIONPROPS_COLUMNS], efd, labels: [] },
    multiComponent: multi,
  };
}
