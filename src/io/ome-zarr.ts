// OME-Zarr (NGFF 0.1–0.5, Zarr v2 and v3) and bioformats2raw folders as ImageSources, on zarrita.
// zarrita decodes chunks (blosc, zstd, gzip, raw, ...); we add the NGFF layer (multiscales, axes,
// omero channels, labels, bioformats2raw series), strict metadata checks with errors that name the
// offending file, missing-chunk detection, region assembly and the shared decoded-chunk cache.
import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import * as zarr from "zarrita";
import { BadInputError } from "../errors.ts";
import type { PixelArray, PixelDtype } from "./image.ts";
import { cacheScope, chunkCache } from "./chunk-cache.ts";
import { checkFinite } from "./finite.ts";
import { parseOmeXml, type PhysicalSize } from "./ome-xml.ts";
import { ARRAY_OF, CANONICAL_AXES, SourceBase, isFloatDtype, resolveRegion, type Axis, type ImageSource, type OpenOptions, type RegionRequest, type Shape5, type SourceFormat } from "./source-types.ts";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

const METADATA_KEYS = [".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"];
const isMetadataKey = (key: string) => METADATA_KEYS.some((m) => key.endsWith("/" + m) || key === m);

/** Reads a JSON document; undefined when absent, BadInputError when unreadable or not JSON. */
async function readJson(path: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new BadInputError(path, `cannot read (${code ?? String(e)})`, { cause: e });
  }
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) {
    throw new BadInputError(path, `is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (!isObj(v)) throw new BadInputError(path, "must hold a JSON object");
  return v;
}

/**
 * A filesystem store for zarrita. Missing chunk files are an error unless `fillMissing`: zarr would
 * silently read them as fill_value, which hides incomplete copies of real data.
 */
class FsStore {
  /** Per-array checks run on raw chunk bytes before zarrita decodes them, keyed by the array's key prefix. */
  readonly validators = new Map<string, (bytes: Uint8Array, path: string) => void>();
  constructor(readonly root: string, private readonly fillMissing: boolean) {}
  async get(key: string): Promise<Uint8Array | undefined> {
    const path = join(this.root, key);
    let bytes: Uint8Array;
    try {
      // Synchronous on purpose: chunk files are small and local, and open/stat/read/close through the
      // thread pool costs more than the read itself (readers run in data-loader workers anyway).
      bytes = readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw new BadInputError(path, `cannot read (${code ?? String(e)})`, { cause: e });
      if (isMetadataKey(key) || this.fillMissing) return undefined;
      throw new BadInputError(path, "chunk file is missing (zarr would read it as fill_value; open with missingChunks: \"fill\" to accept that)");
    }
    if (!isMetadataKey(key)) for (const [prefix, check] of this.validators) if (key.startsWith(prefix + "/")) check(bytes, path);
    return bytes;
  }
}

/**
 * Blosc frames carry their own sizes; checking them catches truncated or foreign chunks that the
 * wasm decoder would otherwise turn into garbage pixels without an error.
 */
function bloscCheck(expectedBytes: number | undefined) {
  return (b: Uint8Array, path: string) => {
    const bad = (why: string): never => { throw new BadInputError(path, `corrupt blosc chunk (${why})`); };
    if (b.length < 16) bad(`${b.length} bytes, shorter than the 16-byte blosc header`);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const nbytes = dv.getUint32(4, true), cbytes = dv.getUint32(12, true);
    if (b[0] < 1 || b[0] > 4) bad(`header version ${b[0]} is not a blosc format version`);
    if (cbytes !== b.length) bad(`frame says ${cbytes} compressed bytes, the file has ${b.length}`);
    if (expectedBytes !== undefined && nbytes !== expectedBytes)
      throw new BadInputError(path, `blosc chunk holds ${nbytes} bytes, expected ${expectedBytes}: .zarray/zarr.json has the wrong dtype or chunks`);
  };
}

const V3_TYPES: Record<string, PixelDtype> = {
  uint8: "uint8", int8: "int8", uint16: "uint16", int16: "int16", uint32: "uint32", int32: "int32", float32: "float32", float64: "float64",
};
const V2_TYPES: Record<string, PixelDtype> = { u1: "uint8", i1: "int8", u2: "uint16", i2: "int16", u4: "uint32", i4: "int32", f4: "float32", f8: "float64" };
/** 64-bit integer label images are narrowed to 32 bits (checked per chunk). */
const NARROWED: Record<string, PixelDtype> = { uint64: "uint32", int64: "int32", u8: "uint32", i8: "int32" };

interface ArrayMeta {
  file: string; shape: number[]; chunks: number[]; dtype: PixelDtype; narrowFrom64: boolean; chunkKey: (c: number[]) => string;
  /** Set when chunks on disk are blosc frames: the decoded size they must declare (undefined if filters change it). */
  blosc?: { expectedBytes: number | undefined };
}

const isIntList = (v: unknown, min: number): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= min);

/** Reads and checks an array's metadata (.zarray or zarr.json) before zarrita sees it. */
async function readArrayMeta(dir: string): Promise<ArrayMeta> {
  const v3File = join(dir, "zarr.json"), v2File = join(dir, ".zarray");
  const v3 = await readJson(v3File);
  const meta = v3 ?? (await readJson(v2File));
  const file = v3 ? v3File : v2File;
  if (!meta) throw new BadInputError(dir, "no Zarr array here (neither .zarray nor zarr.json exists)");
  const bad = (reason: string): never => { throw new BadInputError(file, reason); };
  if (v3 && meta.node_type !== "array") bad(`node_type is ${JSON.stringify(meta.node_type)}, expected "array"`);
  const shape = meta.shape;
  if (!isIntList(shape, 0) || shape.length === 0) bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if ((shape as number[]).some((s) => s === 0)) bad(`shape ${JSON.stringify(shape)} has a zero-sized dimension (empty image)`);
  let chunks: unknown, dtype: PixelDtype | undefined, narrow = false, chunkKey: (c: number[]) => string;
  let outerCodec: string | undefined, plainBytes = false, itemSize = 0;
  if (v3) {
    const grid = meta.chunk_grid;
    if (!isObj(grid) || grid.name !== "regular" || !isObj(grid.configuration)) bad(`chunk_grid ${JSON.stringify(grid)} is not a regular grid`);
    chunks = (grid as { configuration: Json }).configuration.chunk_shape;
    const dt = String(meta.data_type);
    dtype = V3_TYPES[dt] ?? NARROWED[dt];
    narrow = dt in NARROWED;
    if (!dtype) bad(`data_type ${JSON.stringify(meta.data_type)} is not supported (want ${Object.keys(V3_TYPES).join(", ")}, int64, uint64)`);
    const enc = isObj(meta.chunk_key_encoding) ? meta.chunk_key_encoding : { name: "default" };
    const sep = isObj(enc.configuration) && typeof enc.configuration.separator === "string" ? enc.configuration.separator : enc.name === "v2" ? "." : "/";
    chunkKey = enc.name === "v2" ? (c) => c.join(sep) || "0" : (c) => ["c", ...c].join(sep);
    if (!Array.isArray(meta.codecs) || meta.codecs.length === 0) bad("codecs must be a non-empty list");
    const names = (meta.codecs as unknown[]).map((c) => (isObj(c) ? c.name : undefined));
    outerCodec = names[names.length - 1] as string | undefined;
    plainBytes = names.length === 2 && names[0] === "bytes";
    itemSize = Number(/\d+/.exec(dt)?.[0] ?? 8) / 8;
    for (const c of meta.codecs as unknown[]) {
      const name = isObj(c) ? c.name : undefined;
      if (typeof name !== "string" || !zarr.registry.has(name) && name !== "sharding_indexed")
        bad(`codec ${JSON.stringify(name)} is not supported (known: ${[...zarr.registry.keys()].filter((k) => !k.includes(".")).join(", ")}, sharding_indexed)`);
    }
  } else {
    if (meta.zarr_format !== 2) bad(`zarr_format is ${JSON.stringify(meta.zarr_format)}, expected 2`);
    chunks = meta.chunks;
    const dt = typeof meta.dtype === "string" ? meta.dtype : "";
    const endian = dt[0], kind = dt.slice(1);
    dtype = (endian === "<" || endian === ">" || endian === "|") ? V2_TYPES[kind] ?? NARROWED[kind] : undefined;
    narrow = kind in NARROWED;
    if (!dtype) bad(`dtype ${JSON.stringify(meta.dtype)} is not supported (want |u1 |i1 <u2 <i2 <u4 <i4 <f4 <f8, either byte order, or <u8 <i8)`);
    if (meta.order !== "C" && meta.order !== "F") bad(`order ${JSON.stringify(meta.order)} must be "C" or "F"`);
    const comp = meta.compressor;
    itemSize = Number(kind.slice(1)) || 1;
    plainBytes = meta.filters === null || meta.filters === undefined || (Array.isArray(meta.filters) && meta.filters.length === 0);
    if (comp !== null && comp !== undefined) {
      const id = isObj(comp) ? comp.id : undefined;
      outerCodec = typeof id === "string" ? id : undefined;
      if (typeof id !== "string" || !zarr.registry.has(id)) bad(`compressor ${JSON.stringify(id ?? comp)} is not supported`);
    }
    const sep = meta.dimension_separator === "/" ? "/" : ".";
    if (meta.dimension_separator !== undefined && meta.dimension_separator !== "/" && meta.dimension_separator !== ".")
      bad(`dimension_separator ${JSON.stringify(meta.dimension_separator)} must be "." or "/"`);
    chunkKey = (c) => c.join(sep) || "0";
  }
  if (!isIntList(chunks, 1) || (chunks as number[]).length !== (shape as number[]).length)
    bad(`chunks ${JSON.stringify(chunks)} must be ${(shape as number[]).length} positive integers (one per dimension of shape ${JSON.stringify(shape)})`);
  const elements = (chunks as number[]).reduce((a, b) => a * b, 1);
  if (elements > 2 ** 28) bad(`chunks ${JSON.stringify(chunks)} hold ${elements} values each: implausibly large`);
  const blosc = outerCodec === "blosc" ? { expectedBytes: plainBytes ? elements * itemSize : undefined } : undefined;
  return { file, shape: shape as number[], chunks: chunks as number[], dtype: dtype!, narrowFrom64: narrow, chunkKey: chunkKey!, blosc };
}

interface Level { meta: ArrayMeta; dir: string; arr: zarr.Array<zarr.DataType, FsStore>; scope: string }

interface ZarrImageInit {
  path: string;
  format: SourceFormat;
  axes: Axis[];
  levels: Level[];
  channelNames: string[];
  physicalSizes: Partial<Record<"x" | "y" | "z" | "t", PhysicalSize>>;
  labels: string[];
  opts: OpenOptions;
}

class ZarrImage extends SourceBase {
  private readonly lv: Level[];
  private readonly opts: OpenOptions;

  constructor(init: ZarrImageInit) {
    const shapes = init.levels.map((l) => {
      const s: Shape5 = { t: 1, c: 1, z: 1, y: 1, x: 1 };
      init.axes.forEach((a, i) => { s[a] = l.meta.shape[i]; });
      return s;
    });
    super({ ...init, shapes, dtype: init.levels[0].meta.dtype });
    this.lv = init.levels;
    this.opts = init.opts;
  }

  async openLabel(name: string): Promise<ImageSource> {
    if (!this.labels.includes(name))
      throw new BadInputError(this.path, `has no label image "${name}" (labels: ${this.labels.join(", ") || "none"})`);
    return openMultiscales(join(this.path, "labels", name), { ...this.opts, missingChunks: this.opts.missingChunks ?? "fill" }, "ome-zarr");
  }

  private chunkKey(level: number, coords: number[]) { return `${this.lv[level].scope}/${coords.join(",")}`; }

  private chunk(level: number, coords: number[]): Promise<PixelArray> {
    const l = this.lv[level];
    return chunkCache.get(this.chunkKey(level, coords), async () => {
      const file = join(l.dir, l.meta.chunkKey(coords));
      let got: { data: unknown; stride: number[] };
      try {
        got = (await l.arr.getChunk(coords)) as { data: unknown; stride: number[] };
      } catch (e) {
        if (e instanceof BadInputError) throw e;
        const cause = (e as Error).cause instanceof Error ? `: ${((e as Error).cause as Error).message}` : "";
        throw new BadInputError(file, `cannot decode chunk (${(e as Error).message}${cause})`, { cause: e });
      }
      const expected = l.meta.chunks.reduce((a, b) => a * b, 1);
      const data = got.data as ArrayLike<number | bigint> & { length: number };
      if (!data || data.length !== expected)
        throw new BadInputError(file, `chunk decodes to ${data?.length ?? 0} values, expected ${expected} (${l.meta.chunks.join("×")} ${l.meta.dtype}): truncated, or .zarray/zarr.json has the wrong dtype or chunks`);
      // Keep C order so region copies are row slices; an F-ordered chunk is transposed once here.
      const cOrder = isCOrder(got.stride, l.meta.chunks);
      if (!l.meta.narrowFrom64 && cOrder) return data as unknown as PixelArray;
      const out = new ARRAY_OF[l.meta.dtype](expected);
      const lo = l.meta.dtype === "int32" ? -2147483648 : 0, hi = l.meta.dtype === "int32" ? 2147483647 : 4294967295;
      const cStride = stridesC(l.meta.chunks);
      for (let i = 0; i < expected; i++) {
        let src = 0, r = i;
        for (let d = cStride.length - 1; d >= 0; d--) {
          const idx = Math.floor(r / cStride[d]) % l.meta.chunks[d];
          src += idx * got.stride[d];
        }
        if (cOrder) src = i;
        const v = Number(data[src]);
        if (l.meta.narrowFrom64 && (v < lo || v > hi))
          throw new BadInputError(file, `64-bit value ${String(data[src])} does not fit in ${l.meta.dtype}`);
        out[i] = v;
      }
      return out;
    });
  }

  async readRegion(req: RegionRequest): Promise<PixelArray> {
    const r = resolveRegion(this, req);
    const l = this.lv[r.level];
    const { chunks } = l.meta;
    const ax = this.axes;
    const yDim = ax.indexOf("y"), xDim = ax.indexOf("x");
    const out = new ARRAY_OF[this.dtype](r.channels.length * r.h * r.w);
    const fixed: Record<Axis, number> = { t: r.t, c: 0, z: r.z, y: 0, x: 0 };
    const cy0 = Math.floor(r.y0 / chunks[yDim]), cy1 = Math.floor((r.y0 + r.h - 1) / chunks[yDim]);
    const cx0 = Math.floor(r.x0 / chunks[xDim]), cx1 = Math.floor((r.x0 + r.w - 1) / chunks[xDim]);
    const cs = stridesC(chunks);
    const needs: { coords: number[]; copy: (data: PixelArray) => void }[] = [];
    r.channels.forEach((c, k) => {
      fixed.c = c;
      const coords = ax.map((a) => Math.floor(fixed[a] / chunks[ax.indexOf(a)]));
      // Offset of the fixed (non-spatial) position inside its chunk.
      let planeOff = 0;
      ax.forEach((a, d) => { if (a !== "y" && a !== "x") planeOff += (fixed[a] % chunks[d]) * cs[d]; });
      for (let cy = cy0; cy <= cy1; cy++)
        for (let cx = cx0; cx <= cx1; cx++) {
          const cc = coords.slice();
          cc[yDim] = cy;
          cc[xDim] = cx;
          needs.push({ coords: cc, copy: (data) => {
            const top = cy * chunks[yDim], left = cx * chunks[xDim];
            const ys = Math.max(r.y0, top), ye = Math.min(r.y0 + r.h, top + chunks[yDim]);
            const xs = Math.max(r.x0, left), xe = Math.min(r.x0 + r.w, left + chunks[xDim]);
            for (let y = ys; y < ye; y++) {
              const src = planeOff + (y - top) * cs[yDim] + (xs - left) * cs[xDim];
              const dst = k * r.h * r.w + (y - r.y0) * r.w + (xs - r.x0);
              if (cs[xDim] === 1) (out as Uint8Array).set((data as Uint8Array).subarray(src, src + xe - xs), dst);
              else for (let i = 0; i < xe - xs; i++) out[dst + i] = data[src + i * cs[xDim]];
            }
          } });
        }
    });
    // Warm reads copy straight from the cache; otherwise decode what is missing, concurrently.
    const hits = needs.map((nd) => chunkCache.peek(this.chunkKey(r.level, nd.coords)));
    if (hits.every((x) => x !== undefined)) needs.forEach((nd, i) => nd.copy(hits[i]!));
    else await Promise.all(needs.map((nd, i) => (hits[i] ? nd.copy(hits[i]!) : this.chunk(r.level, nd.coords).then(nd.copy))));
    if ((this.opts.checkFinite ?? true) && isFloatDtype(this.dtype))
      checkFinite(out, this.path, { width: r.w, height: r.h, y0: r.y0, x0: r.x0, channels: r.channels });
    return out;
  }

  async close() {}
}

function stridesC(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}
const isCOrder = (stride: number[], shape: number[]) => stridesC(shape).every((v, i) => v === stride[i] || shape[i] === 1);

/** NGFF axes → canonical axis names; versions before 0.3 imply 5-D t,c,z,y,x. */
function parseAxes(ms: Json, ndim: number, file: string): Axis[] {
  const raw = ms.axes;
  if (raw === undefined) {
    if (ndim !== 5) throw new BadInputError(file, `multiscales has no "axes" and the arrays are ${ndim}-D (only 5-D t,c,z,y,x is implied before NGFF 0.3)`);
    return ["t", "c", "z", "y", "x"];
  }
  if (!Array.isArray(raw)) throw new BadInputError(file, `multiscales "axes" must be a list`);
  const names = raw.map((a) => (typeof a === "string" ? a : isObj(a) ? a.name : undefined));
  const axes: Axis[] = [];
  for (const n of names) {
    const a = typeof n === "string" ? n.toLowerCase() : "";
    if (!(CANONICAL_AXES as readonly string[]).includes(a)) throw new BadInputError(file, `axis ${JSON.stringify(n)} is not one of t, c, z, y, x`);
    if (axes.includes(a as Axis)) throw new BadInputError(file, `axis "${a}" appears twice`);
    axes.push(a as Axis);
  }
  if (!axes.includes("y") || !axes.includes("x")) throw new BadInputError(file, `axes ${JSON.stringify(names)} must include y and x`);
  if (axes.length !== ndim) throw new BadInputError(file, `multiscales lists ${axes.length} axes but the level-0 array is ${ndim}-D`);
  return axes;
}

interface GroupAttrs { attrs: Json; file: string; v3: boolean }

/** Group attributes: v3 zarr.json "attributes" (NGFF 0.5 nests them under "ome"), or v2 .zattrs. */
async function readGroupAttrs(dir: string): Promise<GroupAttrs | undefined> {
  const v3File = join(dir, "zarr.json");
  const v3 = await readJson(v3File);
  if (v3) {
    if (v3.node_type !== "group") return undefined;
    const attrs = isObj(v3.attributes) ? v3.attributes : {};
    return { attrs: isObj(attrs.ome) ? { ...attrs, ...attrs.ome } : attrs, file: v3File, v3: true };
  }
  const v2File = join(dir, ".zattrs");
  const attrs = await readJson(v2File);
  if (attrs) return { attrs, file: v2File, v3: false };
  if (await readJson(join(dir, ".zgroup"))) return { attrs: {}, file: v2File, v3: false };
  return undefined;
}

/** Opens one NGFF multiscales image group (an image, a label image, or a bioformats2raw series). */
async function openMultiscales(dir: string, opts: OpenOptions, format: SourceFormat, omeXml?: { xml: string; file: string }): Promise<ImageSource> {
  const group = await readGroupAttrs(dir);
  if (!group) throw new BadInputError(dir, "is not a Zarr group (no .zattrs/.zgroup or zarr.json with node_type \"group\")");
  const { attrs, file } = group;
  const list = attrs.multiscales;
  if (!Array.isArray(list) || list.length === 0 || !isObj(list[0])) throw new BadInputError(file, "has no \"multiscales\" list: not an OME-Zarr image");
  const ms = list[0] as Json;
  const datasets = ms.datasets;
  if (!Array.isArray(datasets) || datasets.length === 0) throw new BadInputError(file, "multiscales has no datasets");
  const missing = opts.missingChunks ?? "error";
  const store = new FsStore(dir, missing === "fill");
  const levels: Level[] = [];
  for (const [i, ds] of datasets.entries()) {
    if (!isObj(ds) || typeof ds.path !== "string" || ds.path === "" || ds.path.includes(".."))
      throw new BadInputError(file, `multiscales dataset ${i} has no valid "path"`);
    const adir = join(dir, ds.path);
    const meta = await readArrayMeta(adir);
    if (meta.blosc) store.validators.set("/" + ds.path.replace(/^\/+|\/+$/g, ""), bloscCheck(meta.blosc.expectedBytes));
    let arr: zarr.Array<zarr.DataType, FsStore>;
    try {
      const loc = zarr.root(store).resolve(ds.path);
      arr = meta.file.endsWith("zarr.json") ? await zarr.open.v3(loc, { kind: "array" }) : await zarr.open.v2(loc, { kind: "array", attrs: false });
    } catch (e) {
      if (e instanceof BadInputError) throw e;
      throw new BadInputError(meta.file, `zarrita cannot open this array (${(e as Error).message})`, { cause: e });
    }
    levels.push({ meta, dir: adir, arr, scope: cacheScope(adir) });
  }
  const axes = parseAxes(ms, levels[0].meta.shape.length, file);
  const s0 = levels[0].meta.shape;
  levels.forEach((l, i) => {
    const s = l.meta.shape;
    if (s.length !== axes.length) throw new BadInputError(l.meta.file, `shape ${JSON.stringify(s)} has ${s.length} dimensions, the image axes are ${axes.join(",")}`);
    axes.forEach((a, d) => {
      if ((a === "t" || a === "c") && s[d] !== s0[d]) throw new BadInputError(l.meta.file, `level ${i} has ${a}=${s[d]} but level 0 has ${a}=${s0[d]}`);
      if (s[d] > s0[d]) throw new BadInputError(l.meta.file, `level ${i} is larger than level 0 along ${a} (${s[d]} > ${s0[d]})`);
    });
    if (l.meta.dtype !== levels[0].meta.dtype) throw new BadInputError(l.meta.file, `level ${i} holds ${l.meta.dtype}, level 0 holds ${levels[0].meta.dtype}`);
  });

  const C = axes.includes("c") ? s0[axes.indexOf("c")] : 1;
  let channelNames = Array.from({ length: C }, (_, i) => `channel_${i}`);
  const physicalSizes: ZarrImageInit["physicalSizes"] = {};
  // Physical pixel size: level-0 scale (times any multiscales-wide scale), unit from the axes.
  const scale = scaleOf(datasets[0] as Json);
  const globalScale = scaleOf(ms);
  if (scale) {
    const rawAxes = Array.isArray(ms.axes) ? ms.axes : [];
    axes.forEach((a, d) => {
      if (a === "c") return;
      const unit = isObj(rawAxes[d]) && typeof rawAxes[d].unit === "string" ? (rawAxes[d].unit as string) : undefined;
      const v = scale[d] * (globalScale?.[d] ?? 1);
      if (unit && Number.isFinite(v) && v > 0) physicalSizes[a] = { value: v, unit };
    });
  }
  const omero = attrs.omero;
  if (isObj(omero) && Array.isArray(omero.channels) && omero.channels.length === C)
    channelNames = omero.channels.map((ch, i) => (isObj(ch) && (typeof ch.label === "string" || typeof ch.label === "number") ? String(ch.label) : channelNames[i]));
  if (omeXml) {
    const ome = parseOmeXml(omeXml.xml, omeXml.file, opts.series ?? 0);
    if (ome.channelNames.length === C) channelNames = ome.channelNames;
    Object.assign(physicalSizes, ome.physicalSizes);
  }

  const labelsGroup = await readGroupAttrs(join(dir, "labels"));
  const labelList = labelsGroup?.attrs.labels;
  const labels = Array.isArray(labelList) ? labelList.filter((x): x is string => typeof x === "string") : [];
  return new ZarrImage({ path: dir, format, axes, levels, channelNames, physicalSizes, labels, opts });
}

function scaleOf(o: Json): number[] | undefined {
  const ts = o.coordinateTransformations;
  if (!Array.isArray(ts)) return undefined;
  const s = ts.find((t) => isObj(t) && t.type === "scale" && Array.isArray(t.scale));
  return s ? ((s as Json).scale as number[]).map(Number) : undefined;
}

/** Opens an OME-Zarr image, a bioformats2raw folder (series `opts.series`), or a bare Zarr array. */
export async function openOmeZarr(path: string, opts: OpenOptions = {}): Promise<ImageSource> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new BadInputError(path, `cannot open (${e.code ?? String(e)})`, { cause: e });
  });
  if (!st.isDirectory()) throw new BadInputError(path, "is not a directory, so not a Zarr store");
  const group = await readGroupAttrs(path);
  if (!group) {
    if ((await readJson(join(path, ".zarray"))) || (await readJson(join(path, "zarr.json")))) return openBareArray(path, opts);
    throw new BadInputError(path, "is not a Zarr store (no .zgroup, .zattrs, .zarray or zarr.json)");
  }
  if (group.attrs["bioformats2raw.layout"] !== undefined) {
    const layout = group.attrs["bioformats2raw.layout"];
    if (layout !== 3 && layout !== 1 && layout !== 2) throw new BadInputError(group.file, `bioformats2raw.layout ${JSON.stringify(layout)} is not supported`);
    const series = opts.series ?? 0;
    const seriesDir = join(path, String(series));
    if (!(await readGroupAttrs(seriesDir))) throw new BadInputError(path, `bioformats2raw folder has no series ${series} (${seriesDir} is not a Zarr group)`);
    // OME metadata: inside (OME/METADATA.ome.xml, layout 3) or beside the .zarr folder (older writers).
    let omeXml: { xml: string; file: string } | undefined;
    for (const f of [join(path, "OME", "METADATA.ome.xml"), join(path, "..", "METADATA.ome.xml")]) {
      const xml = await readFile(f, "utf8").catch(() => undefined);
      if (xml !== undefined) { omeXml = { xml, file: f }; break; }
    }
    return openMultiscales(seriesDir, { ...opts, series: 0 }, "bioformats2raw", omeXml && { ...omeXml });
  }
  return openMultiscales(path, opts, "ome-zarr");
}

/** A Zarr array without NGFF metadata: axes guessed from its rank (2: yx, 3: cyx, 4: czyx, 5: tczyx). */
async function openBareArray(path: string, opts: OpenOptions): Promise<ImageSource> {
  const meta = await readArrayMeta(path);
  const guess: Record<number, Axis[]> = { 2: ["y", "x"], 3: ["c", "y", "x"], 4: ["c", "z", "y", "x"], 5: ["t", "c", "z", "y", "x"] };
  const axes = guess[meta.shape.length];
  if (!axes) throw new BadInputError(meta.file, `a bare ${meta.shape.length}-D array has no axes metadata; only 2-5-D arrays can be read`);
  const store = new FsStore(path, (opts.missingChunks ?? "error") === "fill");
  if (meta.blosc) store.validators.set("", bloscCheck(meta.blosc.expectedBytes));
  let arr: zarr.Array<zarr.DataType, FsStore>;
  try {
    arr = meta.file.endsWith("zarr.json") ? await zarr.open.v3(zarr.root(store), { kind: "array" }) : await zarr.open.v2(zarr.root(store), { kind: "array", attrs: false });
  } catch (e) {
    throw new BadInputError(meta.file, `zarrita cannot open this array (${(e as Error).message})`, { cause: e });
  }
  const C = axes.includes("c") ? meta.shape[axes.indexOf("c")] : 1;
  return new ZarrImage({
    path, format: "zarr", axes, levels: [{ meta, dir: path, arr, scope: cacheScope(path) }],
    channelNames: Array.from({ length: C }, (_, i) => `channel_${i}`), physicalSizes: {}, labels: [], opts,
  });
}
