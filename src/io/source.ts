// openImageSource: one entry point for every image format we read. Picks the reader from what is on
// disk (directory layout, magic bytes), not from the file name, so misnamed files still open or fail
// with a reason that says what the file actually is.
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { BadInputError } from "../errors.ts";
import { decodeImage, type PixelArray, type PlanarImage } from "./image.ts";
import { checkFinite } from "./finite.ts";
import { openMultiFileTiff, openTiffFile } from "./ome-tiff.ts";
import { openOmeZarr } from "./ome-zarr.ts";
import { ARRAY_OF, SourceBase, isFloatDtype, resolveRegion, type ImageSource, type OpenOptions, type RegionRequest } from "./source-types.ts";
import { readFile } from "node:fs/promises";

export * from "./source-types.ts";

const TIFF_EXT = /\.(ome\.)?tiff?$/i;
const ZARR_MARKERS = [".zgroup", ".zattrs", ".zarray", "zarr.json"];

/** Natural sort so Channel_2 comes before Channel_10. */
const natural = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });

/**
 * Opens an image for region reads. `path` may be an .ome.tif/.tif/.png file, an OME-Zarr or
 * bioformats2raw folder, a folder of single-channel TIFFs (one per channel, sorted naturally), or an
 * explicit list of channel TIFF files.
 */
export async function openImageSource(path: string | readonly string[], opts: OpenOptions = {}): Promise<ImageSource> {
  if (typeof path !== "string") return openMultiFileTiff(path, opts);
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new BadInputError(path, `cannot open (${e.code === "ENOENT" ? "no such file or directory" : e.code ?? String(e)})`, { cause: e });
  });
  if (st.isDirectory()) {
    const entries = await readdir(path);
    if (entries.some((e) => ZARR_MARKERS.includes(e))) return openOmeZarr(path, opts);
    const tiffs = entries.filter((e) => TIFF_EXT.test(e)).sort(natural);
    if (tiffs.length > 0) return openMultiFileTiff(tiffs.map((t) => join(path, t)), opts, path);
    throw new BadInputError(path, "directory is neither a Zarr store (no .zgroup/.zattrs/zarr.json) nor a folder of TIFF channel files");
  }
  if (st.size === 0) throw new BadInputError(path, "file is empty");
  const head = new Uint8Array(8);
  const fh = await open(path, "r");
  try { await fh.read(head, 0, 8, 0); } finally { await fh.close(); }
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return openPng(path, opts);
  if ((head[0] === 0x49 && head[1] === 0x49) || (head[0] === 0x4d && head[1] === 0x4d)) return openTiffFile(path, opts);
  throw new BadInputError(path, "not a TIFF, PNG or Zarr image (unrecognised magic bytes)");
}

/** PNG cannot be read in pieces, so it is decoded once and regions are copied from memory. */
async function openPng(path: string, opts: OpenOptions): Promise<ImageSource> {
  const img: PlanarImage = await decodeImage(new Uint8Array(await readFile(path)), path);
  return new MemorySource(path, img, opts);
}

/** An in-memory planar image exposed as a one-level source (PNG, or images decoded elsewhere). */
export class MemorySource extends SourceBase {
  constructor(path: string, private readonly img: PlanarImage, private readonly opts: OpenOptions = {}) {
    super({
      path,
      format: "png",
      axes: ["c", "y", "x"],
      dtype: img.dtype,
      shapes: [{ t: 1, c: img.channels, z: 1, y: img.height, x: img.width }],
      channelNames: Array.from({ length: img.channels }, (_, i) => `channel_${i}`),
      physicalSizes: {},
      labels: [],
    });
  }
  openLabel(name: string): Promise<ImageSource> {
    return Promise.reject(new BadInputError(this.path, `has no label image "${name}"`));
  }
  async readRegion(req: RegionRequest): Promise<PixelArray> {
    const r = resolveRegion(this, req);
    const { width, height, data } = this.img;
    const out = new ARRAY_OF[this.dtype](r.channels.length * r.h * r.w);
    r.channels.forEach((c, k) => {
      for (let y = 0; y < r.h; y++) {
        const src = c * width * height + (r.y0 + y) * width + r.x0;
        (out as Uint8Array).set((data as Uint8Array).subarray(src, src + r.w), k * r.h * r.w + y * r.w);
      }
    });
    if ((this.opts.checkFinite ?? true) && isFloatDtype(this.dtype))
      checkFinite(out, this.path, { width: r.w, height: r.h, y0: r.y0, x0: r.x0, channels: r.channels });
    return out;
  }
  async close() {}
}
