// ImageSources backed by TIFF pages: OME-TIFF (OME-XML decides which IFD holds each t/c/z plane,
// SubIFDs hold the pyramid), plain single/multi-page TIFF (ImageJ hyperstack metadata when present,
// otherwise every page and sample is a channel, like readImage), and multi-file TIFF (one file per channel).
import { basename, dirname, extname, join } from "node:path";
import { BadInputError } from "../errors.ts";
import type { PixelArray, PixelDtype } from "./image.ts";
import { checkFinite } from "./finite.ts";
import { isOmeXml, parseOmeXml, type PhysicalSize } from "./ome-xml.ts";
import { ARRAY_OF, CANONICAL_AXES, SourceBase, isFloatDtype, resolveRegion, type ImageSource, type OpenOptions, type RegionRequest, type Shape5, type SourceFormat } from "./source-types.ts";
import { TiffFile, type TiffPage } from "./tiff.ts";

/** Where one channel plane lives: a page of an open file, and which sample of that page. */
interface PlaneRef { file: TiffFile; ifd: number; sample: number }

interface TiffSourceInit {
  path: string;
  format: SourceFormat;
  dtype: PixelDtype;
  shapes: Shape5[];
  channelNames: string[];
  physicalSizes: Partial<Record<"x" | "y" | "z" | "t", PhysicalSize>>;
  /** planes[t][c][z] */
  planes: PlaneRef[][][];
  files: TiffFile[];
  checkFinite: boolean;
}

class TiffSource extends SourceBase {
  private readonly planes: PlaneRef[][][];
  private readonly files: TiffFile[];
  private readonly finite: boolean;

  constructor(init: TiffSourceInit) {
    const s = init.shapes[0];
    // Axes the file really has: c, y, x always; t and z when longer than 1.
    const axes = CANONICAL_AXES.filter((a) => a === "c" || a === "y" || a === "x" || s[a] > 1);
    super({ ...init, axes, labels: [] });
    this.planes = init.planes;
    this.files = init.files;
    this.finite = init.checkFinite;
  }

  openLabel(name: string): Promise<ImageSource> {
    return Promise.reject(new BadInputError(this.path, `has no label image "${name}" (TIFF files carry no label images)`));
  }

  private async pageFor(ref: PlaneRef, level: number): Promise<TiffPage> {
    const base = await ref.file.page(ref.ifd);
    let page = base;
    if (level > 0) {
      const subs = await ref.file.subPages(base);
      if (subs.length < level) throw new BadInputError(ref.file.path, `${base.label} has ${subs.length} SubIFD level(s), level ${level} is needed`);
      page = subs[level - 1];
    }
    const s = this.shapes[level];
    if (page.width !== s.x || page.height !== s.y)
      throw new BadInputError(ref.file.path, `${page.label} is ${page.width}×${page.height}, expected ${s.x}×${s.y} (level ${level})`);
    if (page.dtype !== this.dtype) throw new BadInputError(ref.file.path, `${page.label} holds ${page.dtype} pixels, expected ${this.dtype}`);
    if (ref.sample >= page.samplesPerPixel) throw new BadInputError(ref.file.path, `${page.label} has ${page.samplesPerPixel} sample(s), sample ${ref.sample} needed`);
    return page;
  }

  async readRegion(req: RegionRequest): Promise<PixelArray> {
    const r = resolveRegion(this, req);
    const out = new ARRAY_OF[this.dtype](r.channels.length * r.h * r.w);
    // Channels that are samples of the same page are copied in one pass over its tiles.
    const groups = new Map<string, { ref: PlaneRef; samples: number[]; planes: number[] }>();
    r.channels.forEach((c, k) => {
      const ref = this.planes[r.t][c][r.z];
      const key = `${ref.file.scope}:${ref.ifd}`;
      const g = groups.get(key) ?? { ref, samples: [], planes: [] };
      g.samples.push(ref.sample);
      g.planes.push(k);
      groups.set(key, g);
    });
    await Promise.all([...groups.values()].map(async (g) => {
      const page = await this.pageFor(g.ref, r.level);
      await page.readInto(r.y0, r.x0, r.h, r.w, g.samples, out, g.planes);
    }));
    if (this.finite && isFloatDtype(this.dtype)) checkFinite(out, this.path, { width: r.w, height: r.h, y0: r.y0, x0: r.x0, channels: r.channels });
    return out;
  }

  async close() { await Promise.all(this.files.map((f) => f.close())); }
}

/** Level shapes from the SubIFDs of the first plane's page. */
async function pyramidShapes(first: TiffPage, file: TiffFile, s0: Shape5): Promise<Shape5[]> {
  const shapes = [s0];
  for (const sub of await file.subPages(first)) {
    const prev = shapes[shapes.length - 1];
    if (sub.width > prev.x || sub.height > prev.y)
      throw new BadInputError(file.path, `${sub.label} is ${sub.width}×${sub.height}, larger than the level above (${prev.x}×${prev.y})`);
    shapes.push({ ...s0, y: sub.height, x: sub.width });
  }
  return shapes;
}

/** Opens an OME-TIFF whose first IFD holds OME-XML. `file` is already open and is owned by the result. */
export async function openOmeTiff(file: TiffFile, xml: string, opts: OpenOptions = {}): Promise<ImageSource> {
  const files = new Map<string, TiffFile>([[basename(file.path), file]]);
  try {
    const ome = parseOmeXml(xml, file.path, opts.series ?? 0);
    const resolveFile = async (fileName: string | undefined): Promise<TiffFile> => {
      if (!fileName) return file;
      const key = basename(fileName);
      let f = files.get(key);
      if (!f) {
        const other = join(dirname(file.path), key);
        try { f = await TiffFile.open(other); } catch (e) {
          throw new BadInputError(file.path, `OME-XML refers to ${key}, which cannot be read (${(e as Error).message})`, { cause: e });
        }
        files.set(key, f);
      }
      return f;
    };
    // Output channel k = sample `sample` of Channel element `cPlane`.
    const channelMap: { cPlane: number; sample: number }[] = [];
    ome.channelSamples.forEach((n, cPlane) => { for (let s = 0; s < n; s++) channelMap.push({ cPlane, sample: s }); });
    const planes: PlaneRef[][][] = [];
    for (let t = 0; t < ome.sizes.t; t++) {
      planes.push([]);
      for (const { cPlane, sample } of channelMap) {
        const zs: PlaneRef[] = [];
        for (let z = 0; z < ome.sizes.z; z++) {
          const ref = ome.planes[t][cPlane][z];
          const f = await resolveFile(ref.fileName);
          if (ref.ifd >= f.ifdOffsets.length)
            throw new BadInputError(file.path, `OME-XML puts plane T=${t} C=${cPlane} Z=${z} in IFD ${ref.ifd}, but ${basename(f.path)} has ${f.ifdOffsets.length} IFD(s)`);
          zs.push({ file: f, ifd: ref.ifd, sample });
        }
        planes[t].push(zs);
      }
    }
    const p0 = planes[0][0][0];
    const first = await p0.file.page(p0.ifd);
    const s0: Shape5 = { ...ome.sizes };
    if (first.width !== s0.x || first.height !== s0.y)
      throw new BadInputError(file.path, `OME-XML says SizeX=${s0.x} SizeY=${s0.y} but ${first.label} is ${first.width}×${first.height}`);
    if (first.dtype !== ome.dtype)
      throw new BadInputError(file.path, `OME-XML says Type ${ome.dtype} but ${first.label} holds ${first.dtype} pixels`);
    const shapes = await pyramidShapes(first, p0.file, s0);
    return new TiffSource({
      path: file.path, format: "ome-tiff", dtype: ome.dtype, shapes, channelNames: ome.channelNames,
      physicalSizes: ome.physicalSizes, planes, files: [...files.values()], checkFinite: opts.checkFinite ?? true,
    });
  } catch (e) {
    await Promise.all([...files.values()].map((f) => f.close()));
    throw e;
  }
}

/** ImageJ hyperstack description → sizes (pages are stored c fastest, then z, then t). */
function imagejSizes(desc: string): { c: number; z: number; t: number } | undefined {
  if (!desc.startsWith("ImageJ=")) return undefined;
  const get = (key: string) => {
    for (const line of desc.split("\n")) if (line.startsWith(key + "=")) return Number(line.slice(key.length + 1));
    return 1;
  };
  const c = get("channels"), z = get("slices"), t = get("frames");
  if (![c, z, t].every((v) => Number.isInteger(v) && v >= 1)) return undefined;
  return { c, z, t };
}

/** Pages of the main chain that are full-resolution planes (same size as page 0, not reduced). */
async function fullPages(file: TiffFile): Promise<TiffPage[]> {
  const pages: TiffPage[] = [await file.page(0)];
  for (let i = 1; i < file.ifdOffsets.length; i++) {
    const p = await file.page(i);
    if (p.reducedResolution || p.width !== pages[0].width || p.height !== pages[0].height) continue;
    if (p.dtype !== pages[0].dtype) throw new BadInputError(file.path, `${p.label} holds ${p.dtype} pixels but IFD 0 holds ${pages[0].dtype}`);
    pages.push(p);
  }
  return pages;
}

/** Opens a plain (non-OME) TIFF. `file` is already open and is owned by the result. */
export async function openPlainTiff(file: TiffFile, description: string, opts: OpenOptions = {}): Promise<ImageSource> {
  try {
    const pages = await fullPages(file);
    const first = pages[0];
    const spp = first.samplesPerPixel;
    const ij = imagejSizes(description);
    let sizes = { t: 1, c: pages.length * spp, z: 1 };
    let planes: PlaneRef[][][];
    const pageIndex = (p: TiffPage) => file.ifdOffsets.indexOf(p.offset);
    if (ij && spp === 1 && ij.c * ij.z * ij.t === pages.length) {
      sizes = ij;
      planes = Array.from({ length: ij.t }, (_, t) =>
        Array.from({ length: ij.c }, (_, c) =>
          Array.from({ length: ij.z }, (_, z) => ({ file, ifd: pageIndex(pages[c + ij.c * (z + ij.z * t)]), sample: 0 }))));
    } else {
      const chans: PlaneRef[] = [];
      for (const p of pages) for (let s = 0; s < spp; s++) chans.push({ file, ifd: pageIndex(p), sample: s });
      planes = [chans.map((ref) => [ref])];
    }
    const s0: Shape5 = { ...sizes, y: first.height, x: first.width };
    const shapes = await pyramidShapes(first, file, s0);
    const stem = basename(file.path).replace(/\.(ome\.)?tiff?$/i, "");
    const channelNames = sizes.c === 1 ? [stem] : Array.from({ length: sizes.c }, (_, i) => `${stem}_${i}`);
    return new TiffSource({
      path: file.path, format: "tiff", dtype: first.dtype, shapes, channelNames, physicalSizes: {},
      planes, files: [file], checkFinite: opts.checkFinite ?? true,
    });
  } catch (e) {
    await file.close();
    throw e;
  }
}

/** Opens several single-plane (or multi-page) TIFFs of one field of view as the channels of one image. */
export async function openMultiFileTiff(paths: readonly string[], opts: OpenOptions = {}, label?: string): Promise<ImageSource> {
  if (paths.length === 0) throw new BadInputError(label ?? "(multi-file TIFF)", "no TIFF files given");
  const files: TiffFile[] = [];
  try {
    const parts: { file: TiffFile; source: ImageSource }[] = [];
    for (const p of paths) {
      const f = await TiffFile.open(p);
      files.push(f);
      const src = await openPlainTiff(f, await f.description(), { ...opts, checkFinite: false });
      parts.push({ file: f, source: src });
    }
    const ref = parts[0].source;
    for (const { file, source } of parts) {
      const s = source.shapes[0], r = ref.shapes[0];
      if (s.y !== r.y || s.x !== r.x) throw new BadInputError(file.path, `is ${s.x}×${s.y} but ${basename(paths[0])} is ${r.x}×${r.y}; channel files must match`);
      if (source.dtype !== ref.dtype) throw new BadInputError(file.path, `holds ${source.dtype} pixels but ${basename(paths[0])} holds ${ref.dtype}`);
      if (s.t !== 1 || s.z !== 1) throw new BadInputError(file.path, "channel files must hold single planes (no t or z)");
    }
    const levels = Math.min(...parts.map((p) => p.source.levels));
    const shapes = ref.shapes.slice(0, levels).map((s) => ({ ...s, c: parts.reduce((n, p) => n + p.source.shapes[0].c, 0) }));
    const chans: PlaneRef[] = [];
    const channelNames: string[] = [];
    for (const { file, source } of parts) {
      const stem = basename(file.path, extname(file.path)).replace(/\.ome$/i, "");
      const pages = await fullPages(file);
      const spp = pages[0].samplesPerPixel;
      for (const p of pages) for (let s = 0; s < spp; s++) chans.push({ file, ifd: file.ifdOffsets.indexOf(p.offset), sample: s });
      const n = source.shapes[0].c;
      for (let i = 0; i < n; i++) channelNames.push(n === 1 ? stem : `${stem}_${i}`);
    }
    return new TiffSource({
      path: label ?? paths[0], format: "multi-tiff", dtype: ref.dtype, shapes, channelNames, physicalSizes: {},
      planes: [chans.map((c) => [c])], files, checkFinite: opts.checkFinite ?? true,
    });
  } catch (e) {
    await Promise.all(files.map((f) => f.close()));
    throw e;
  }
}

/** Opens any TIFF file: OME-TIFF when its first IFD carries OME-XML, plain TIFF otherwise. */
export async function openTiffFile(path: string, opts: OpenOptions = {}): Promise<ImageSource> {
  const file = await TiffFile.open(path);
  let desc: string;
  try { desc = await file.description(); } catch (e) { await file.close(); throw e; }
  return isOmeXml(desc) ? openOmeTiff(file, desc, opts) : openPlainTiff(file, desc, opts);
}
