// OME-XML → the few facts a reader needs: sizes, pixel type, channel names, physical sizes and
// which TIFF IFD (in which file) holds each (t, c, z) plane. Used by OME-TIFF and by bioformats2raw
// folders (their METADATA.ome.xml).
import { BadInputError } from "../errors.ts";
import type { PixelDtype } from "./image.ts";
import { childrenNamed, findFirst, parseXml, XmlError, type XmlElement } from "./xml.ts";

export interface PhysicalSize { value: number; unit: string }

export interface OmePlaneRef {
  /** File name from the TiffData's UUID element, or undefined for "this file". */
  fileName?: string;
  ifd: number;
}

export interface OmeImage {
  name: string;
  dimensionOrder: string; // e.g. "XYZCT"
  sizes: { t: number; c: number; z: number; y: number; x: number };
  dtype: PixelDtype;
  channelNames: string[];
  /** Samples per pixel of each Channel element (RGB channels hold 3). */
  channelSamples: number[];
  physicalSizes: Partial<Record<"x" | "y" | "z" | "t", PhysicalSize>>;
  /** planes[t][cPlane][z], where cPlane indexes Channel elements (not samples). */
  planes: OmePlaneRef[][][];
}

const OME_TYPES: Record<string, PixelDtype> = {
  int8: "int8", int16: "int16", int32: "int32", uint8: "uint8", uint16: "uint16", uint32: "uint32",
  float: "float32", double: "float64",
};

/** More planes than any real OME-TIFF holds; a bigger product means corrupt sizes (and would exhaust memory). */
const MAX_PLANES = 1 << 24;

export function isOmeXml(description: string): boolean {
  const head = description.slice(0, 4096);
  return head.includes("<OME") || head.includes(":OME");
}

/** Parses OME-XML; `file` names the file the XML came from, for errors. */
export function parseOmeXml(xml: string, file: string, series = 0): OmeImage {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    if (e instanceof XmlError) throw new BadInputError(file, `malformed OME-XML (${e.message})`);
    throw e;
  }
  if (root.name !== "OME") throw new BadInputError(file, `OME-XML root element is <${root.name}>, expected <OME>`);
  if (findFirst(root, "BinaryOnly"))
    throw new BadInputError(file, "OME-TIFF with BinaryOnly metadata (companion .ome.xml file) is not supported; open the companion's images instead");
  const images = childrenNamed(root, "Image");
  if (images.length === 0) throw new BadInputError(file, "OME-XML has no <Image> element");
  if (series < 0 || series >= images.length) throw new BadInputError(file, `OME-XML has ${images.length} image series, series ${series} requested`);
  const image = images[series];
  const pixels = childrenNamed(image, "Pixels")[0];
  if (!pixels) throw new BadInputError(file, `OME-XML <Image> ${series} has no <Pixels> element`);
  const a = pixels.attrs;

  const size = (key: string): number => {
    const raw = a[key];
    if (raw === undefined) throw new BadInputError(file, `OME-XML <Pixels> has no ${key} attribute`);
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 1) throw new BadInputError(file, `OME-XML <Pixels ${key}="${raw}"> is not a positive integer`);
    return v;
  };
  const sizes = { t: size("SizeT"), c: size("SizeC"), z: size("SizeZ"), y: size("SizeY"), x: size("SizeX") };

  const type = a.Type ?? a.PixelType;
  if (type === undefined) throw new BadInputError(file, "OME-XML <Pixels> has no Type attribute");
  const dtype = OME_TYPES[type];
  if (!dtype) throw new BadInputError(file, `OME-XML pixel Type="${type}" is not supported (want ${Object.keys(OME_TYPES).join(", ")})`);

  const order = a.DimensionOrder ?? "XYZCT";
  if (!/^XY[ZCT]{3}$/.test(order) || new Set(order).size !== 5)
    throw new BadInputError(file, `OME-XML DimensionOrder="${order}" is not one of XYZCT, XYZTC, XYCZT, XYCTZ, XYTZC, XYTCZ`);

  const channels = childrenNamed(pixels, "Channel");
  const channelSamples = channels.map((ch, i) => {
    const raw = ch.attrs.SamplesPerPixel;
    const v = raw === undefined ? 1 : Number(raw);
    if (!Number.isInteger(v) || v < 1) throw new BadInputError(file, `OME-XML Channel ${i} SamplesPerPixel="${raw}" is invalid`);
    return v;
  });
  // SizeC counts samples; Channel elements may be fewer when a channel is RGB (SamplesPerPixel 3).
  let channelNames: string[];
  let planeCountC = sizes.c;
  let samples: number[];
  if (channels.length > 0 && channelSamples.reduce((s, v) => s + v, 0) === sizes.c && channels.length !== sizes.c) {
    planeCountC = channels.length;
    samples = channelSamples;
    channelNames = [];
    channels.forEach((ch, i) => {
      const base = ch.attrs.Name ?? `channel_${i}`;
      for (let s = 0; s < channelSamples[i]; s++) channelNames.push(channelSamples[i] > 1 ? `${base}_${s}` : base);
    });
  } else {
    if (channels.length > sizes.c) throw new BadInputError(file, `OME-XML lists ${channels.length} <Channel> elements but SizeC="${sizes.c}"`);
    samples = new Array(sizes.c).fill(1);
    channelNames = Array.from({ length: sizes.c }, (_, i) => channels[i]?.attrs.Name ?? `channel_${i}`);
  }

  const physicalSizes: OmeImage["physicalSizes"] = {};
  for (const [axis, key] of [["x", "PhysicalSizeX"], ["y", "PhysicalSizeY"], ["z", "PhysicalSizeZ"], ["t", "TimeIncrement"]] as const) {
    const raw = a[key];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new BadInputError(file, `OME-XML ${key}="${raw}" is not a positive number`);
    physicalSizes[axis] = { value, unit: a[`${key}Unit`] ?? (axis === "t" ? "s" : "µm") };
  }

  const planes = mapPlanes(pixels, sizes.t, planeCountC, sizes.z, order, file);
  return { name: image.attrs.Name ?? "", dimensionOrder: order, sizes, dtype, channelNames, channelSamples: samples, physicalSizes, planes };
}

/** Resolves TiffData elements into a (t, c, z) → {file, IFD} table; every plane must be covered. */
function mapPlanes(pixels: XmlElement, T: number, C: number, Z: number, order: string, file: string): OmePlaneRef[][][] {
  const total = T * C * Z;
  if (total > MAX_PLANES) throw new BadInputError(file, `OME-XML sizes T=${T} C=${C} Z=${Z} make ${total} planes: implausibly many (corrupt metadata?)`);
  // Rasterise (z, c, t) in DimensionOrder: the letter after "XY" varies fastest.
  const dimsFastFirst = order.slice(2).toLowerCase().split("") as ("z" | "c" | "t")[];
  const sizeOf = { t: T, c: C, z: Z };
  const coordsOf = (index: number) => {
    const out = { t: 0, c: 0, z: 0 };
    let r = index;
    for (const d of dimsFastFirst) { out[d] = r % sizeOf[d]; r = Math.floor(r / sizeOf[d]); }
    return out;
  };
  const indexOf = (t: number, c: number, z: number) => {
    const v = { t, c, z };
    let idx = 0;
    for (let k = dimsFastFirst.length - 1; k >= 0; k--) idx = idx * sizeOf[dimsFastFirst[k]] + v[dimsFastFirst[k]];
    return idx;
  };

  const table: (OmePlaneRef | undefined)[] = new Array(total).fill(undefined);
  const tiffData = childrenNamed(pixels, "TiffData");
  if (tiffData.length === 0) {
    for (let p = 0; p < total; p++) table[p] = { ifd: p };
  }
  const intAttr = (el: XmlElement, key: string, dflt: number | undefined): number | undefined => {
    const raw = el.attrs[key];
    if (raw === undefined) return dflt;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 0) throw new BadInputError(file, `OME-XML <TiffData ${key}="${raw}"> is not a non-negative integer`);
    return v;
  };
  for (const td of tiffData) {
    const ifd = intAttr(td, "IFD", 0)!;
    const first = { t: intAttr(td, "FirstT", 0)!, c: intAttr(td, "FirstC", 0)!, z: intAttr(td, "FirstZ", 0)! };
    if (first.t >= T || first.c >= C || first.z >= Z)
      throw new BadInputError(file, `OME-XML <TiffData> starts at plane T=${first.t} C=${first.c} Z=${first.z}, outside SizeT=${T} SizeC=${C} SizeZ=${Z}`);
    const hasAnyAttr = ["IFD", "PlaneCount", "FirstT", "FirstC", "FirstZ"].some((k) => td.attrs[k] !== undefined);
    // OME spec: no attributes = every plane; IFD without PlaneCount = one plane.
    const count = intAttr(td, "PlaneCount", hasAnyAttr ? 1 : total)!;
    const uuid = childrenNamed(td, "UUID")[0];
    const fileName = uuid?.attrs.FileName;
    const start = indexOf(first.t, first.c, first.z);
    if (start + count > total) throw new BadInputError(file, `OME-XML <TiffData IFD="${ifd}" PlaneCount="${count}"> covers more planes than the image has (${total})`);
    for (let k = 0; k < count; k++) table[start + k] = { ifd: ifd + k, fileName };
  }
  const planes: OmePlaneRef[][][] = [];
  for (let t = 0; t < T; t++) {
    planes.push([]);
    for (let c = 0; c < C; c++) {
      planes[t].push([]);
      for (let z = 0; z < Z; z++) {
        const ref = table[indexOf(t, c, z)];
        if (!ref) {
          const missing = coordsOf(indexOf(t, c, z));
          throw new BadInputError(file, `OME-XML <TiffData> elements leave plane T=${missing.t} C=${missing.c} Z=${missing.z} without an IFD`);
        }
        planes[t][c].push(ref);
      }
    }
  }
  return planes;
}
