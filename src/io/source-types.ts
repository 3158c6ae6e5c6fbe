// The one interface every bioimage reader implements (OME-TIFF, plain/multi-file TIFF, PNG,
// OME-Zarr, bioformats2raw), plus the small helpers readers share: request checking, output allocation.
import type { PixelArray, PixelDtype, PlanarImage } from "./image.ts";
import type { PhysicalSize } from "./ome-xml.ts";

export type { PhysicalSize };
export type Axis = "t" | "c" | "z" | "y" | "x";
export const CANONICAL_AXES: readonly Axis[] = ["t", "c", "z", "y", "x"];

/** Size of every canonical axis (1 where the file has no such axis). */
export interface Shape5 { t: number; c: number; z: number; y: number; x: number }

export type SourceFormat = "ome-tiff" | "tiff" | "multi-tiff" | "png" | "ome-zarr" | "bioformats2raw" | "zarr";

export interface RegionRequest {
  /** Pyramid level, 0 = full resolution. */
  level?: number;
  t?: number;
  z?: number;
  /** One channel, a list of channels (in the order wanted), or all channels when omitted. */
  c?: number | readonly number[];
  y0: number;
  x0: number;
  h: number;
  w: number;
}

export interface OpenOptions {
  /** Throw BadInputError when a float region holds NaN or ±Inf (default true). */
  checkFinite?: boolean;
  /** Zarr chunks absent from the store: "error" (default for images) or "fill" with fill_value (default for labels). */
  missingChunks?: "error" | "fill";
  /** Image series inside a multi-image OME-TIFF or bioformats2raw folder (default 0). */
  series?: number;
}

export interface ImageSource {
  readonly path: string;
  readonly format: SourceFormat;
  /** Axes the file really has, in canonical t,c,z,y,x order (e.g. ["c","y","x"]). */
  readonly axes: readonly Axis[];
  readonly dtype: PixelDtype;
  /** Number of resolution levels (1 without a pyramid). */
  readonly levels: number;
  /** Shape of each level; shapes[0] is full resolution. */
  readonly shapes: readonly Shape5[];
  readonly channelNames: readonly string[];
  /** Size of one level-0 pixel along each axis, when the file says. */
  readonly physicalSizes: Readonly<Partial<Record<"x" | "y" | "z" | "t", PhysicalSize>>>;
  /** Names of label images stored with this image (OME-Zarr "labels" group); empty otherwise. */
  readonly labels: readonly string[];
  openLabel(name: string): Promise<ImageSource>;
  /** Reads a C×h×w planar block (channels in request order) without loading the rest of the image. */
  readRegion(req: RegionRequest): Promise<PixelArray>;
  close(): Promise<void>;
}

/** What a source says about itself: everything in ImageSource but the methods (`levels` follows from `shapes`). */
export type SourceInfo = Pick<ImageSource, "path" | "format" | "axes" | "dtype" | "shapes" | "channelNames" | "physicalSizes" | "labels">;

/** The metadata half of every reader's ImageSource; subclasses bring the reading. */
export abstract class SourceBase implements ImageSource {
  readonly path: string;
  readonly format: SourceFormat;
  readonly axes: readonly Axis[];
  readonly dtype: PixelDtype;
  readonly shapes: readonly Shape5[];
  readonly channelNames: readonly string[];
  readonly physicalSizes: Readonly<Partial<Record<"x" | "y" | "z" | "t", PhysicalSize>>>;
  readonly labels: readonly string[];
  constructor(info: SourceInfo) {
    ({ path: this.path, format: this.format, axes: this.axes, dtype: this.dtype, shapes: this.shapes, channelNames: this.channelNames, physicalSizes: this.physicalSizes, labels: this.labels } = info);
  }
  get levels(): number {
    return this.shapes.length;
  }
  abstract openLabel(name: string): Promise<ImageSource>;
  abstract readRegion(req: RegionRequest): Promise<PixelArray>;
  abstract close(): Promise<void>;
}

type Ctor = { new (n: number): PixelArray; new (buffer: ArrayBuffer, byteOffset?: number, length?: number): PixelArray };
export const ARRAY_OF: Record<PixelDtype, Ctor> = {
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, int8: Int8Array, int16: Int16Array,
  int32: Int32Array, float32: Float32Array, float64: Float64Array,
};

export interface ResolvedRegion { level: number; t: number; z: number; channels: number[]; y0: number; x0: number; h: number; w: number }

/** Checks a request against the source's shape; a bad request is a caller bug, so RangeError. */
export function resolveRegion(src: Pick<ImageSource, "levels" | "shapes" | "path">, req: RegionRequest): ResolvedRegion {
  const level = req.level ?? 0;
  if (!Number.isInteger(level) || level < 0 || level >= src.levels)
    throw new RangeError(`${src.path}: level ${level} requested, image has ${src.levels} level(s)`);
  const s = src.shapes[level];
  const t = req.t ?? 0, z = req.z ?? 0;
  const channels = req.c === undefined ? Array.from({ length: s.c }, (_, i) => i) : typeof req.c === "number" ? [req.c] : [...req.c];
  const { y0, x0, h, w } = req;
  const bad = (what: string) => { throw new RangeError(`${src.path}: ${what} (level ${level} shape t=${s.t} c=${s.c} z=${s.z} y=${s.y} x=${s.x})`); };
  if (!Number.isInteger(t) || t < 0 || t >= s.t) bad(`t=${t} out of range`);
  if (!Number.isInteger(z) || z < 0 || z >= s.z) bad(`z=${z} out of range`);
  if (channels.length === 0) bad("no channels requested");
  for (const c of channels) if (!Number.isInteger(c) || c < 0 || c >= s.c) bad(`channel ${c} out of range`);
  for (const v of [y0, x0, h, w]) if (!Number.isInteger(v)) bad(`region y0=${y0} x0=${x0} h=${h} w=${w} must be integers`);
  if (h < 1 || w < 1 || y0 < 0 || x0 < 0 || y0 + h > s.y || x0 + w > s.x) bad(`region y0=${y0} x0=${x0} h=${h} w=${w} is not inside the image`);
  return { level, t, z, channels, y0, x0, h, w };
}

/** Reads a region and wraps it as the PlanarImage the folder datasets use. */
export async function readRegionImage(src: ImageSource, req: RegionRequest): Promise<PlanarImage> {
  const r = resolveRegion(src, req);
  const data = await src.readRegion(req);
  return { data, width: r.w, height: r.h, channels: r.channels.length, dtype: src.dtype };
}

export const isFloatDtype = (d: PixelDtype) => d === "float32" || d === "float64";
