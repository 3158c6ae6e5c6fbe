// TIFF container access on top of geotiff.js: geotiff parses the IFDs and supplies decoders (LZW,
// PackBits, JPEG, zstd); we add what it lacks for bioimages — a loop-safe IFD walk with bounds checks,
// SubIFD pyramid levels, big-endian pixel data, planar region reads that fetch only the tiles/strips
// they touch, and a shared decoded-block cache. Every fault becomes a BadInputError naming the file.
import { readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { inflateSync } from "node:zlib";
import { GeoTIFF, getDecoder } from "./geotiff.ts";
import { BadInputError } from "../errors.ts";
import type { PixelArray, PixelDtype } from "./image.ts";
import { ARRAY_OF } from "./source-types.ts";
import { cacheScope, chunkCache } from "./chunk-cache.ts";

type IFD = Awaited<ReturnType<GeoTIFF["requestIFD"]>>;
type GeoSource = ConstructorParameters<typeof GeoTIFF>[0];

const TAG = {
  NewSubfileType: 254, ImageWidth: 256, ImageLength: 257, BitsPerSample: 258, Compression: 259,
  ImageDescription: 270, StripOffsets: 273, SamplesPerPixel: 277, RowsPerStrip: 278, StripByteCounts: 279,
  PlanarConfiguration: 284, Predictor: 317, TileWidth: 322, TileLength: 323, TileOffsets: 324,
  TileByteCounts: 325, SubIFDs: 330, SampleFormat: 339,
} as const;

const MAX_IFDS = 1 << 20;
const SYNC_READ_MAX = 4 << 20;
const MAX_BLOCK_BYTES = 2 ** 31; // one decoded tile/strip; beyond this the header is corrupt or the file unusable
const GEOTIFF_DECODED = new Set([5, 7, 32773, 34887, 50000]); // LZW, JPEG, PackBits, LERC, zstd
const SUPPORTED_COMPRESSION = "none (1), LZW (5), JPEG (7), deflate (8, 32946), PackBits (32773), zstd (50000)";

function toNumbers(v: unknown): number[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "number") return [v];
  if (typeof v === "bigint") return [Number(v)];
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<number | bigint>, Number);
  throw new Error(`unexpected tag value ${String(v)}`);
}

function dtypeFor(format: number, bits: number): PixelDtype | undefined {
  if (format === 1 || format === 4) return bits === 8 ? "uint8" : bits === 16 ? "uint16" : bits === 32 ? "uint32" : undefined;
  if (format === 2) return bits === 8 ? "int8" : bits === 16 ? "int16" : bits === 32 ? "int32" : undefined;
  if (format === 3) return bits === 32 ? "float32" : bits === 64 ? "float64" : undefined;
  return undefined;
}

/** One image directory: a full-resolution plane (IFD) or a pyramid level (SubIFD). */
export class TiffPage {
  readonly width: number;
  readonly height: number;
  readonly samplesPerPixel: number;
  readonly dtype: PixelDtype;
  readonly subIfdOffsets: number[];
  readonly reducedResolution: boolean;
  private readonly bytesPerSample: number;
  private readonly planar: 1 | 2;
  private readonly blockW: number;
  private readonly blockH: number;
  private readonly across: number;
  private readonly down: number;
  private readonly compression: number;
  private readonly predictor: number;
  private readonly tiled: boolean;
  private readonly offsets: number[];
  private readonly counts: number[];
  private readonly cacheKey: string;

  constructor(readonly file: TiffFile, readonly label: string, readonly offset: number, f: Map<number, unknown>) {
    const bad = (reason: string): never => { throw new BadInputError(file.path, `${label}: ${reason}`); };
    const one = (tag: number, dflt?: number): number => {
      const v = toNumbers(f.get(tag));
      if (v.length === 0) { if (dflt === undefined) bad(`required tag ${tag} is missing`); return dflt!; }
      return v[0];
    };
    this.width = one(TAG.ImageWidth);
    this.height = one(TAG.ImageLength);
    if (this.width < 1 || this.height < 1) bad(`image is ${this.width}×${this.height} pixels (zero-sized)`);
    this.samplesPerPixel = one(TAG.SamplesPerPixel, 1);
    if (this.samplesPerPixel < 1 || this.samplesPerPixel > 64) bad(`SamplesPerPixel=${this.samplesPerPixel} is not sensible`);
    const bits = toNumbers(f.get(TAG.BitsPerSample));
    const formats = toNumbers(f.get(TAG.SampleFormat));
    const bps = bits[0] ?? 1;
    const fmt = formats[0] ?? 1;
    if (bits.some((b) => b !== bps)) bad(`samples have different BitsPerSample (${bits.join(",")})`);
    if (formats.some((x) => x !== fmt)) bad(`samples have different SampleFormat (${formats.join(",")})`);
    const dtype = dtypeFor(fmt, bps);
    if (!dtype) bad(`${bps}-bit samples with SampleFormat ${fmt} are not supported (8/16/32-bit integers, 32/64-bit floats)`);
    this.dtype = dtype!;
    this.bytesPerSample = bps / 8;
    const planar = one(TAG.PlanarConfiguration, 1);
    if (planar !== 1 && planar !== 2) bad(`PlanarConfiguration=${planar} is invalid`);
    this.planar = planar as 1 | 2;
    this.compression = one(TAG.Compression, 1);
    if (this.compression !== 1 && this.compression !== 8 && this.compression !== 32946 && !GEOTIFF_DECODED.has(this.compression))
      bad(`compression ${this.compression} is not supported (${SUPPORTED_COMPRESSION})`);
    this.predictor = one(TAG.Predictor, 1);
    if (this.predictor === 3) bad("floating-point predictor (3) is not supported");
    if (this.predictor !== 1 && this.predictor !== 2) bad(`Predictor=${this.predictor} is invalid`);
    if (this.predictor === 2 && (dtype === "float32" || dtype === "float64")) bad("horizontal predictor (2) on float samples is invalid");
    this.tiled = f.has(TAG.TileWidth) || f.has(TAG.TileOffsets);
    if (this.tiled) {
      this.blockW = one(TAG.TileWidth);
      this.blockH = one(TAG.TileLength);
      if (this.blockW < 1 || this.blockH < 1) bad(`tile size ${this.blockW}×${this.blockH} is invalid`);
      this.offsets = toNumbers(f.get(TAG.TileOffsets));
      this.counts = toNumbers(f.get(TAG.TileByteCounts));
    } else {
      this.blockW = this.width;
      this.blockH = Math.min(one(TAG.RowsPerStrip, this.height), this.height);
      if (this.blockH < 1) bad(`RowsPerStrip=${this.blockH} is invalid`);
      this.offsets = toNumbers(f.get(TAG.StripOffsets));
      this.counts = toNumbers(f.get(TAG.StripByteCounts));
    }
    const blockBytes = this.blockW * this.blockH * (this.planar === 1 ? this.samplesPerPixel : 1) * this.bytesPerSample;
    if (blockBytes > MAX_BLOCK_BYTES) bad(`a ${this.tiled ? "tile" : "strip"} of ${this.blockW}×${this.blockH} pixels (${blockBytes} bytes) is implausibly large`);
    this.across = Math.ceil(this.width / this.blockW);
    this.down = Math.ceil(this.height / this.blockH);
    const blocks = this.across * this.down * (this.planar === 2 ? this.samplesPerPixel : 1);
    const kind = this.tiled ? "Tile" : "Strip";
    if (this.offsets.length < blocks) bad(`${kind}Offsets has ${this.offsets.length} entries, the image needs ${blocks}`);
    if (this.counts.length < blocks) bad(`${kind}ByteCounts has ${this.counts.length} entries, the image needs ${blocks}`);
    this.subIfdOffsets = toNumbers(f.get(TAG.SubIFDs));
    this.reducedResolution = (one(TAG.NewSubfileType, 0) & 1) === 1;
    this.cacheKey = `${file.scope}@${offset}`;
  }

  /** Decoded block `index` (tile or strip) as a native-endian typed array, via the shared cache. */
  private block(index: number): Promise<PixelArray> {
    return chunkCache.get(`${this.cacheKey}/${index}`, () => this.decodeBlock(index));
  }

  private async decodeBlock(index: number): Promise<PixelArray> {
    const kind = this.tiled ? "tile" : "strip";
    const fail = (reason: string): never => { throw new BadInputError(this.file.path, `${this.label}: ${kind} ${index} ${reason}`); };
    const row = Math.floor((index % (this.across * this.down)) / this.across);
    const rows = this.tiled ? this.blockH : Math.min(this.blockH, this.height - row * this.blockH);
    const spp = this.planar === 1 ? this.samplesPerPixel : 1;
    const expected = this.blockW * rows * spp * this.bytesPerSample;
    const offset = this.offsets[index], count = this.counts[index];
    let raw: Uint8Array;
    if (count === 0) raw = new Uint8Array(0); // sparse block: zeros
    else {
      if (offset + count > this.file.size)
        fail(`at byte ${offset} (+${count} bytes) runs past the end of the file (${this.file.size} bytes): truncated or bad offset`);
      raw = await this.file.readBytes(offset, count);
    }
    let bytes: Uint8Array;
    if (count === 0) bytes = new Uint8Array(expected);
    else if (this.compression === 1) bytes = raw;
    else if (this.compression === 8 || this.compression === 32946) {
      try { bytes = inflateSync(raw); } catch (e) { return fail(`cannot be inflated (${(e as Error).message})`); }
    } else {
      try {
        const decoder = await getDecoder(this.compression, {
          tileWidth: this.blockW, tileHeight: rows, planarConfiguration: this.planar,
          bitsPerSample: this.bytesPerSample * 8, predictor: 1, samplesPerPixel: this.samplesPerPixel,
        });
        bytes = new Uint8Array(await decoder.decode(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
      } catch (e) { return fail(`cannot be decoded (compression ${this.compression}: ${(e as Error).message})`); }
    }
    if (bytes.length < expected) fail(`decodes to ${bytes.length} bytes, expected ${expected}`);
    // Own an aligned buffer of exactly the block: decoders may return pooled, oddly-offset or padded memory.
    let own = bytes;
    if (bytes.byteOffset !== 0 || bytes.buffer.byteLength !== expected || this.compression === 1) {
      own = new Uint8Array(expected);
      own.set(bytes.subarray(0, expected));
    }
    if (!this.file.littleEndian && this.bytesPerSample > 1) swapBytes(own, this.bytesPerSample);
    const out = new ARRAY_OF[this.dtype](own.buffer as ArrayBuffer);
    if (this.predictor === 2) undoHorizontalPredictor(out, this.blockW, rows, spp);
    return out;
  }

  /**
   * Copies the window (y0, x0, h, w) of the given samples into `out`, sample k going to plane
   * `planes[k]` (each plane h×w). Only the tiles/strips under the window are read.
   */
  async readInto(y0: number, x0: number, h: number, w: number, samples: readonly number[], out: PixelArray, planes: readonly number[]): Promise<void> {
    const bx0 = Math.floor(x0 / this.blockW), bx1 = Math.floor((x0 + w - 1) / this.blockW);
    const by0 = Math.floor(y0 / this.blockH), by1 = Math.floor((y0 + h - 1) / this.blockH);
    const perPlane = this.across * this.down;
    const groups: { sampleIdx: number[]; base: number }[] =
      this.planar === 1 ? [{ sampleIdx: samples.map((_, k) => k), base: 0 }] : samples.map((s, k) => ({ sampleIdx: [k], base: s * perPlane }));
    const needs: { index: number; copy: (blk: PixelArray) => void }[] = [];
    for (const g of groups)
      for (let by = by0; by <= by1; by++)
        for (let bx = bx0; bx <= bx1; bx++) {
          needs.push({ index: g.base + by * this.across + bx, copy: (blk) => {
            const spp = this.planar === 1 ? this.samplesPerPixel : 1;
            const top = by * this.blockH, left = bx * this.blockW;
            const rowsInBlock = this.tiled ? this.blockH : Math.min(this.blockH, this.height - top);
            const ys = Math.max(y0, top), ye = Math.min(y0 + h, top + rowsInBlock);
            const xs = Math.max(x0, left), xe = Math.min(x0 + w, left + this.blockW, this.width);
            const n = xe - xs;
            for (const k of g.sampleIdx) {
              const s = this.planar === 1 ? samples[k] : 0;
              const planeBase = planes[k] * h * w;
              for (let y = ys; y < ye; y++) {
                const src = (y - top) * this.blockW * spp;
                const dst = planeBase + (y - y0) * w + (xs - x0);
                if (spp === 1) (out as Uint8Array).set((blk as Uint8Array).subarray(src + xs - left, src + xe - left), dst);
                else for (let i = 0, p = src + (xs - left) * spp + s; i < n; i++, p += spp) out[dst + i] = blk[p];
              }
            }
          } });
        }
    // Warm reads copy straight from the cache; otherwise decode what is missing, concurrently.
    const hits = needs.map((nd) => chunkCache.peek(`${this.cacheKey}/${nd.index}`));
    if (hits.every((x) => x !== undefined)) needs.forEach((nd, i) => nd.copy(hits[i]!));
    else await Promise.all(needs.map((nd, i) => (hits[i] ? nd.copy(hits[i]!) : this.block(nd.index).then(nd.copy))));
  }
}

function swapBytes(b: Uint8Array, size: number) {
  if (size === 2) for (let i = 0; i < b.length; i += 2) { const t = b[i]; b[i] = b[i + 1]; b[i + 1] = t; }
  else if (size === 4) for (let i = 0; i < b.length; i += 4) {
    let t = b[i]; b[i] = b[i + 3]; b[i + 3] = t; t = b[i + 1]; b[i + 1] = b[i + 2]; b[i + 2] = t;
  } else if (size === 8) for (let i = 0; i < b.length; i += 8)
    for (let k = 0; k < 4; k++) { const t = b[i + k]; b[i + k] = b[i + 7 - k]; b[i + 7 - k] = t; }
}

/** TIFF predictor 2: each sample stored as the difference to the same sample one pixel left. */
function undoHorizontalPredictor(a: PixelArray, width: number, rows: number, spp: number) {
  const rowLen = width * spp;
  for (let r = 0; r < rows; r++) {
    const base = r * rowLen;
    for (let i = base + spp; i < base + rowLen; i++) a[i] += a[i - spp]; // typed arrays wrap like the encoder did
  }
}

/** An open TIFF file: header checked, main IFD chain walked (loop-safe), pages parsed on demand. */
export class TiffFile {
  readonly scope: string;
  private pages = new Map<number, Promise<TiffPage>>();
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly size: number,
    readonly littleEndian: boolean,
    readonly bigTiff: boolean,
    private readonly geo: GeoTIFF,
    /** Byte offsets of the main IFD chain, in file order. */
    readonly ifdOffsets: number[],
    private readonly firstIfd: IFD,
  ) {
    this.scope = cacheScope(path);
  }

  static async open(path: string): Promise<TiffFile> {
    let fh: FileHandle;
    try {
      fh = await open(path, "r");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new BadInputError(path, `cannot open file (${code === "ENOENT" ? "no such file" : code ?? String(e)})`, { cause: e });
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw new BadInputError(path, "is a directory, not a TIFF file");
      const size = st.size;
      if (size === 0) throw new BadInputError(path, "file is empty");
      if (size < 8) throw new BadInputError(path, `file is ${size} bytes, too short for a TIFF header (truncated)`);
      const head = new Uint8Array(16);
      await fh.read(head, 0, Math.min(16, size), 0);
      const dv = new DataView(head.buffer);
      let le: boolean;
      if (head[0] === 0x49 && head[1] === 0x49) le = true;
      else if (head[0] === 0x4d && head[1] === 0x4d) le = false;
      else throw new BadInputError(path, `not a TIFF file (byte-order mark ${head[0].toString(16)} ${head[1].toString(16)}, want II or MM)`);
      const magic = dv.getUint16(2, le);
      let big: boolean;
      let first: number;
      if (magic === 42) { big = false; first = dv.getUint32(4, le); }
      else if (magic === 43) {
        big = true;
        if (size < 16) throw new BadInputError(path, "BigTIFF header is truncated");
        if (dv.getUint16(4, le) !== 8) throw new BadInputError(path, `BigTIFF offset size is ${dv.getUint16(4, le)}, must be 8`);
        first = Number(dv.getBigUint64(8, le));
      } else throw new BadInputError(path, `not a TIFF file (magic number ${magic}, want 42 or 43)`);
      const source = makeSource(fh, size);
      const geo = new GeoTIFF(source, le, big, first);
      const offsets: number[] = [];
      const seen = new Set<number>();
      let firstIfd: IFD | undefined;
      for (let off = first; off !== 0;) {
        const label = `IFD ${offsets.length}`;
        if (seen.has(off)) throw new BadInputError(path, `${label}: IFD chain loops back to byte ${off}`);
        if (offsets.length >= MAX_IFDS) throw new BadInputError(path, `more than ${MAX_IFDS} IFDs`);
        seen.add(off);
        const ifd = await parseIfd(geo, path, label, off, size, big);
        if (!firstIfd) firstIfd = ifd;
        offsets.push(off);
        off = ifd.nextIFDByteOffset;
      }
      if (!firstIfd) throw new BadInputError(path, "first IFD offset is 0: the file holds no images");
      return new TiffFile(path, fh, size, le, big, geo, offsets, firstIfd);
    } catch (e) {
      await fh.close().catch(() => {});
      if (e instanceof BadInputError) throw e;
      throw new BadInputError(path, `corrupt TIFF (${(e as Error).message})`, { cause: e });
    }
  }

  /** ImageDescription of the first IFD (OME-XML or ImageJ metadata live there), NULs trimmed. */
  async description(): Promise<string> {
    const v = await this.firstIfd.loadValue(TAG.ImageDescription).catch((e: Error) => {
      throw new BadInputError(this.path, `IFD 0: cannot read ImageDescription (${e.message}): truncated or bad offset`);
    });
    if (typeof v !== "string") return "";
    const nul = v.indexOf("\0");
    return nul >= 0 ? v.slice(0, nul) : v;
  }

  /** Main-chain page `index` (0-based IFD number). */
  page(index: number): Promise<TiffPage> {
    if (!Number.isInteger(index) || index < 0 || index >= this.ifdOffsets.length)
      return Promise.reject(new BadInputError(this.path, `IFD ${index} requested but the file has ${this.ifdOffsets.length}`));
    return this.pageAt(this.ifdOffsets[index], `IFD ${index}`);
  }

  /** Pyramid levels stored as SubIFDs of `page` (level 1, 2, ... in file order). */
  subPages(page: TiffPage): Promise<TiffPage[]> {
    return Promise.all(page.subIfdOffsets.map((off, k) => this.pageAt(off, `SubIFD ${k} of ${page.label}`)));
  }

  private pageAt(offset: number, label: string): Promise<TiffPage> {
    let p = this.pages.get(offset);
    if (!p) {
      p = (async () => {
        const ifd = offset === this.ifdOffsets[0] ? this.firstIfd : await parseIfd(this.geo, this.path, label, offset, this.size, this.bigTiff);
        const fields = new Map<number, unknown>();
        for (const tag of Object.values(TAG)) {
          if (tag === TAG.ImageDescription || !ifd.hasTag(tag)) continue;
          try { fields.set(tag, await ifd.loadValue(tag)); } catch (e) {
            throw new BadInputError(this.path, `${label}: cannot read tag ${tag} (${(e as Error).message}): truncated or bad offset`);
          }
        }
        return new TiffPage(this, label, offset, fields);
      })();
      this.pages.set(offset, p);
      p.catch(() => this.pages.delete(offset));
    }
    return p;
  }

  async readBytes(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    // Tiles and strips are small: a direct read beats a round trip through the thread pool.
    const bytesRead = length <= SYNC_READ_MAX ? readSync(this.fh.fd, buf, 0, length, offset) : (await this.fh.read(buf, 0, length, offset)).bytesRead;
    if (bytesRead < length) throw new BadInputError(this.path, `file ends at byte ${offset + bytesRead}, wanted ${length} bytes at ${offset}`);
    return buf;
  }

  async close() { await this.fh.close().catch(() => {}); }
}

async function parseIfd(geo: GeoTIFF, path: string, label: string, off: number, size: number, big: boolean): Promise<IFD> {
  if (off + (big ? 8 : 2) > size) throw new BadInputError(path, `${label}: offset ${off} lies past the end of the file (${size} bytes)`);
  if (off < 8) throw new BadInputError(path, `${label}: offset ${off} points into the file header`);
  try {
    return await geo.parser.parseFileDirectoryAt(off);
  } catch (e) {
    throw new BadInputError(path, `${label} at byte ${off} is corrupt or truncated (${(e as Error).message})`, { cause: e });
  }
}

/** A geotiff "source" reading from our file handle; reads past EOF come back short, which geotiff reports. */
function makeSource(fh: FileHandle, size: number): GeoSource {
  return {
    async fetch(slices: { offset: number; length: number }[]) {
      return Promise.all(slices.map(async ({ offset, length }) => {
        const n = Math.max(0, Math.min(length, size - offset));
        const buf = new Uint8Array(n);
        if (n > 0) await fh.read(buf, 0, n, offset);
        return buf.buffer;
      }));
    },
  } as unknown as GeoSource;
}
