// Reading what `evaluate` works on into one shape: a numeric matrix (rows × features) plus text columns.
// Sources: a run folder (embeddings.parquet, or embeddings.npy + index.csv), an embeddings.parquet file,
// or a features CSV (numeric columns are features unless excluded).
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, dirname, extname, basename } from "node:path";
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from "hyparquet";
import { BadInputError, ConfigError } from "../errors.ts";
import { parseCsv } from "./csv.ts";

export interface EmbeddingTable {
  ids: string[];
  paths: (string | null)[];
  columns: Record<string, (string | null)[]>; // every non-feature column, as text (null = missing)
  featureNames: string[];
  X: Float32Array; // row-major n × d
  n: number;
  d: number;
  source: string; // the file the matrix came from
}

const EMBEDDING_COLUMN = /^z_(\d+)$/;

/** Embeddings of a run folder, an embeddings.parquet, or an embeddings.npy (with index.csv beside it). */
export async function readEmbeddings(runDirOrFile: string): Promise<EmbeddingTable> {
  if (!existsSync(runDirOrFile)) throw new BadInputError(runDirOrFile, "no such file or folder");
  if (statSync(runDirOrFile).isDirectory()) {
    const pq = join(runDirOrFile, "embeddings.parquet"), npy = join(runDirOrFile, "embeddings.npy");
    if (existsSync(pq)) return readEmbeddingsParquet(pq);
    if (existsSync(npy)) return readEmbeddingsNpy(npy);
    throw new BadInputError(runDirOrFile, "run folder has neither embeddings.parquet nor embeddings.npy");
  }
  const ext = extname(runDirOrFile).toLowerCase();
  if (ext === ".parquet") return readEmbeddingsParquet(runDirOrFile);
  if (ext === ".npy") return readEmbeddingsNpy(runDirOrFile);
  throw new BadInputError(runDirOrFile, "expected a run folder, .parquet or .npy file");
}

function cellText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

export async function readEmbeddingsParquet(file: string): Promise<EmbeddingTable> {
  let names: string[];
  const data = new Map<string, unknown[]>();
  let n = 0;
  try {
    const buf = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buf);
    n = Number(metadata.num_rows);
    names = metadata.schema.slice(1).filter((e) => !e.num_children).map((e) => e.name);
    for (const name of names) data.set(name, new Array(n));
    await parquetRead({
      file: buf, metadata,
      onChunk: (c) => {
        const dst = data.get(c.columnName);
        if (!dst) return;
        for (let i = 0; i < c.columnData.length && c.rowStart + i < n; i++) dst[c.rowStart + i] = (c.columnData as ArrayLike<unknown>)[i];
      },
    });
  } catch (e) {
    throw new BadInputError(file, `cannot read as parquet (${(e as Error).message})`, { cause: e });
  }
  const zCols = names.filter((c) => EMBEDDING_COLUMN.test(c)).sort((a, b) => +a.slice(2) - +b.slice(2));
  if (zCols.length === 0) throw new BadInputError(file, "no embedding columns z_0, z_1, ... found");
  zCols.forEach((c, i) => { if (c !== `z_${i}`) throw new BadInputError(file, `embedding columns skip from z_${i - 1} to ${c}`); });
  const d = zCols.length;
  const X = new Float32Array(n * d);
  zCols.forEach((c, f) => {
    const col = data.get(c)!;
    for (let i = 0; i < n; i++) {
      const v = Number(col[i]);
      if (!Number.isFinite(v)) throw new BadInputError(file, `column ${c}, row ${i}: not a finite number (${String(col[i])})`);
      X[i * d + f] = v;
    }
  });
  const columns: Record<string, (string | null)[]> = {};
  for (const name of names) if (!zCols.includes(name)) columns[name] = Array.from(data.get(name)!, cellText);
  return finishTable(file, X, n, zCols, columns);
}

function finishTable(source: string, X: Float32Array, n: number, featureNames: string[], columns: Record<string, (string | null)[]>): EmbeddingTable {
  const table = { ids: [], paths: [], columns, featureNames, X, n, d: featureNames.length, source };
  return withIdsAndPaths(table);
}

/**
 * Sets ids and paths from named columns. Defaults: ids from "id", else the first column whose values are
 * all present and distinct, else the row number; paths from "path" (null when absent).
 */
export function withIdsAndPaths(table: EmbeddingTable, idColumn?: string, pathColumn?: string): EmbeddingTable {
  const { columns, n } = table;
  for (const [name, field] of [[idColumn, "id_column"], [pathColumn, "path_column"]] as const)
    if (name && !columns[name]) throw new ConfigError(field, `no column '${name}' in ${table.source}`);
  const unique = (c: (string | null)[]) => c.every((v) => v !== null && v !== "") && new Set(c).size === c.length;
  const idName = idColumn ?? ("id" in columns ? "id" : Object.keys(columns).find((k) => unique(columns[k])));
  const ids = idName ? columns[idName].map((v, i) => v ?? String(i)) : Array.from({ length: n }, (_, i) => String(i));
  const paths = columns[pathColumn ?? "path"] ?? new Array<string | null>(n).fill(null);
  return { ...table, ids, paths };
}

/** numpy .npy (float32/float64, little-endian, C order, 2-D) with index.csv in the same folder. */
export async function readEmbeddingsNpy(file: string): Promise<EmbeddingTable> {
  const { data, shape } = readNpy(file);
  if (shape.length !== 2) throw new BadInputError(file, `expected a 2-D array, got shape (${shape.join(", ")})`);
  const [n, d] = shape;
  const indexFile = join(dirname(file), "index.csv");
  let columns: Record<string, (string | null)[]> = {};
  if (existsSync(indexFile)) {
    const t = parseCsv(readFileSync(indexFile, "utf8"), indexFile);
    if (t.rows.length !== n) throw new BadInputError(indexFile, `${t.rows.length} rows but ${basename(file)} has ${n}`);
    columns = Object.fromEntries(t.header.map((h, j) => [h, t.rows.map((r) => (r[j] === "" ? null : r[j]))]));
  }
  return finishTable(file, data, n, Array.from({ length: d }, (_, i) => `z_${i}`), columns);
}

export function readNpy(file: string): { data: Float32Array; shape: number[] } {
  const b = readFileSync(file);
  if (b.length < 10 || b.toString("latin1", 0, 6) !== "\x93NUMPY") throw new BadInputError(file, "not a .npy file (bad magic)");
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = b.toString("latin1", hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (fortran) throw new BadInputError(file, "Fortran-ordered arrays are not supported");
  const count = shape.reduce((a, v) => a * v, 1);
  const off = hstart + hlen;
  const out = new Float32Array(count);
  if (descr === "<f4") {
    if (b.length < off + 4 * count) throw new BadInputError(file, "truncated data");
    for (let i = 0; i < count; i++) out[i] = b.readFloatLE(off + 4 * i);
  } else if (descr === "<f8") {
    if (b.length < off + 8 * count) throw new BadInputError(file, "truncated data");
    for (let i = 0; i < count; i++) out[i] = b.readDoubleLE(off + 8 * i);
  } else throw new BadInputError(file, `unsupported dtype ${descr} (need float32 or float64)`);
  return { data: out, shape };
}

export interface FeatureCsvOptions {
  features?: readonly string[]; // use exactly these columns as features
  exclude?: readonly string[]; // numeric columns that are not features (ids, labels coded as numbers)
  nonFeatures?: readonly string[]; // like exclude, but names that are absent are ignored (label/group columns)
}

/** A features CSV: every column whose values all parse as finite numbers is a feature unless excluded. */
export function readFeatureCsv(file: string, opts: FeatureCsvOptions = {}): EmbeddingTable {
  if (!existsSync(file)) throw new BadInputError(file, "no such file");
  const t = parseCsv(readFileSync(file, "utf8"), file);
  const n = t.rows.length;
  if (n === 0) throw new BadInputError(file, "no data rows");
  const isNumeric = (j: number) => t.rows.every((r) => r[j].trim() !== "" && Number.isFinite(Number(r[j])));
  const exclude = new Set([...(opts.exclude ?? []), ...(opts.nonFeatures ?? [])]);
  for (const name of [...(opts.features ?? []), ...(opts.exclude ?? [])])
    if (!t.header.includes(name)) throw new ConfigError(opts.features?.includes(name) ? "features" : "exclude", `no column '${name}' in ${file}`);
  let featureIdx: number[];
  if (opts.features) {
    featureIdx = opts.features.map((f) => t.header.indexOf(f));
    for (const j of featureIdx) if (!isNumeric(j)) {
      const bad = t.rows.findIndex((r) => !Number.isFinite(Number(r[j])) || r[j].trim() === "");
      throw new BadInputError(file, `feature column '${t.header[j]}' line ${bad + 2}: '${t.rows[bad][j]}' is not a number`);
    }
  } else featureIdx = t.header.map((_, j) => j).filter((j) => !exclude.has(t.header[j]) && isNumeric(j));
  if (featureIdx.length === 0) throw new BadInputError(file, "no numeric feature columns");
  const d = featureIdx.length;
  const X = new Float32Array(n * d);
  t.rows.forEach((r, i) => featureIdx.forEach((j, f) => (X[i * d + f] = Number(r[j]))));
  const used = new Set(featureIdx);
  const columns: Record<string, (string | null)[]> = {};
  t.header.forEach((h, j) => { if (!used.has(j)) columns[h] = t.rows.map((r) => (r[j] === "" ? null : r[j])); });
  return finishTable(file, X, n, featureIdx.map((j) => t.header[j]), columns);
}

/**
 * Adds the columns of another CSV (e.g. labels.csv) to a table, matching rows on a shared key column
 * (`on`, default: the first column name both have). Rows without a match get nulls.
 */
export function joinColumns(table: EmbeddingTable, csvFile: string, on?: string): EmbeddingTable {
  if (!existsSync(csvFile)) throw new BadInputError(csvFile, "no such file");
  const t = parseCsv(readFileSync(csvFile, "utf8"), csvFile);
  const key = on ?? t.header.find((h) => h in table.columns);
  if (!key) throw new ConfigError("join", `${csvFile} shares no column name with ${table.source}; name the key column`);
  const kj = t.header.indexOf(key);
  if (kj < 0) throw new ConfigError("join", `no column '${key}' in ${csvFile}`);
  const own = table.columns[key];
  if (!own) throw new ConfigError("join", `no column '${key}' in ${table.source}`);
  const byKey = new Map<string, string[]>();
  for (const r of t.rows) {
    if (byKey.has(r[kj])) throw new BadInputError(csvFile, `key '${r[kj]}' in column '${key}' appears more than once`);
    byKey.set(r[kj], r);
  }
  const columns = { ...table.columns };
  t.header.forEach((h, j) => {
    if (j === kj) return;
    const name = h in columns ? `${h}_joined` : h;
    columns[name] = own.map((k) => { const r = k === null ? undefined : byKey.get(k); return r && r[j] !== "" ? r[j] : null; });
  });
  return { ...table, columns };
}
