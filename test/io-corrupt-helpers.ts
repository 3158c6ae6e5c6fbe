// Byte-level tools for building broken files from good ones: a classic-TIFF IFD walker to find and
// patch tag values, same-length text replacement (to edit OME-XML in place), PNG chunk CRC fixing,
// a minimal uncompressed TIFF writer, and a Zarr tree cloner (metadata copied, chunks symlinked).
import { copyFileSync, mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";

export interface TiffEntry { tag: number; type: number; count: number; entryPos: number; valuePos: number }
export interface TiffIfd { offset: number; entries: TiffEntry[]; nextPos: number }

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };

export function tiffLayout(b: Uint8Array): { le: boolean; firstPos: number; ifds: TiffIfd[] } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = b[0] === 0x49;
  const ifds: TiffIfd[] = [];
  let off = dv.getUint32(4, le);
  while (off !== 0 && ifds.length < 1000) {
    const n = dv.getUint16(off, le);
    const entries: TiffEntry[] = [];
    for (let i = 0; i < n; i++) {
      const p = off + 2 + i * 12;
      const type = dv.getUint16(p + 2, le), count = dv.getUint32(p + 4, le);
      const inline = (TYPE_SIZE[type] ?? 1) * count <= 4;
      entries.push({ tag: dv.getUint16(p, le), type, count, entryPos: p, valuePos: inline ? p + 8 : dv.getUint32(p + 8, le) });
    }
    const nextPos = off + 2 + n * 12;
    ifds.push({ offset: off, entries, nextPos });
    off = dv.getUint32(nextPos, le);
  }
  return { le, firstPos: 4, ifds };
}

export function entry(b: Uint8Array, ifd: number, tag: number): TiffEntry {
  const e = tiffLayout(b).ifds[ifd]?.entries.find((x) => x.tag === tag);
  if (!e) throw new Error(`test setup: IFD ${ifd} has no tag ${tag}`);
  return e;
}

/** Sets element `index` of a SHORT/LONG tag value (inline or out-of-line), in the file's byte order. */
export function setTag(b: Uint8Array, ifd: number, tag: number, value: number, index = 0): void {
  const { le } = tiffLayout(b);
  const e = entry(b, ifd, tag);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const size = TYPE_SIZE[e.type];
  if (size === 2) dv.setUint16(e.valuePos + index * 2, value, le);
  else if (size === 4) dv.setUint32(e.valuePos + index * 4, value, le);
  else throw new Error(`test setup: tag ${tag} has type ${e.type}`);
}

export function getTag(b: Uint8Array, ifd: number, tag: number, index = 0): number {
  const { le } = tiffLayout(b);
  const e = entry(b, ifd, tag);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return TYPE_SIZE[e.type] === 2 ? dv.getUint16(e.valuePos + index * 2, le) : dv.getUint32(e.valuePos + index * 4, le);
}

export function setU32(b: Uint8Array, pos: number, v: number, le = true) {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(pos, v, le);
}

/** Replaces `from` by `to` (same length) at its first occurrence; throws when absent. */
export function replaceText(b: Uint8Array, from: string, to: string): Uint8Array {
  if (from.length !== to.length) throw new Error("test setup: replacement must keep the length");
  const hay = Buffer.from(b);
  const at = hay.indexOf(from, 0, "latin1");
  if (at < 0) throw new Error(`test setup: "${from}" not found`);
  const out = new Uint8Array(b);
  out.set(Buffer.from(to, "latin1"), at);
  return out;
}

/** PNG chunks with their positions; `fixCrc` recomputes the CRC of the chunk at `pos`. */
export function pngChunks(b: Uint8Array): { type: string; pos: number; length: number }[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = [];
  for (let p = 8; p + 8 <= b.length;) {
    const length = dv.getUint32(p);
    const type = String.fromCharCode(...b.subarray(p + 4, p + 8));
    out.push({ type, pos: p, length });
    p += 12 + length;
  }
  return out;
}
export function fixCrc(b: Uint8Array, pos: number): void {
  const length = new DataView(b.buffer, b.byteOffset).getUint32(pos);
  new DataView(b.buffer, b.byteOffset).setUint32(pos + 8 + length, crc32(b.subarray(pos + 4, pos + 8 + length)) >>> 0);
}

type Pixels = Uint8Array | Uint16Array | Float32Array | Float64Array;
/** A little-endian, uncompressed, one-strip-per-page TIFF. Enough to make float and zero-sized cases. */
export function writeTiff(pages: { width: number; height: number; data: Pixels; description?: string }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 8;
  const header = new Uint8Array(8);
  header.set([0x49, 0x49, 42, 0]);
  parts.push(header);
  const nextFields: number[] = [];
  const ifdPositions: number[] = [];
  pages.forEach((pg, k) => {
    const bps = pg.data.BYTES_PER_ELEMENT * 8;
    const fmt = pg.data instanceof Float32Array || pg.data instanceof Float64Array ? 3 : 1;
    const desc = pg.description !== undefined ? Buffer.from(pg.description + "\0", "latin1") : undefined;
    const tags: [number, number, number, number][] = [ // tag, type, count, value
      [256, 4, 1, pg.width], [257, 4, 1, pg.height], [258, 3, 1, bps], [259, 3, 1, 1], [262, 3, 1, 1],
    ];
    const n = 10 + (desc ? 1 : 0);
    const ifdPos = size;
    const ifdLen = 2 + n * 12 + 4;
    const descPos = ifdPos + ifdLen;
    const dataPos = descPos + (desc?.length ?? 0);
    if (desc) tags.push([270, 2, desc.length, descPos]);
    tags.push([273, 4, 1, dataPos], [277, 3, 1, 1], [278, 4, 1, pg.height], [279, 4, 1, pg.data.byteLength], [339, 3, 1, fmt]);
    const ifd = new Uint8Array(ifdLen);
    const dv = new DataView(ifd.buffer);
    dv.setUint16(0, n, true);
    tags.forEach(([tag, type, count, value], i) => {
      const p = 2 + i * 12;
      dv.setUint16(p, tag, true); dv.setUint16(p + 2, type, true); dv.setUint32(p + 4, count, true);
      if (type === 3 && count === 1) dv.setUint16(p + 8, value, true); else dv.setUint32(p + 8, value, true);
    });
    nextFields.push(ifdPos + 2 + n * 12);
    ifdPositions.push(ifdPos);
    parts.push(ifd);
    if (desc) parts.push(desc);
    parts.push(new Uint8Array(pg.data.buffer, pg.data.byteOffset, pg.data.byteLength));
    size = dataPos + pg.data.byteLength;
    if (k === 0) setU32(header, 4, ifdPos);
  });
  const out = new Uint8Array(size);
  let p = 0;
  for (const part of parts) { out.set(part, p); p += part.length; }
  nextFields.forEach((pos, k) => { if (k + 1 < ifdPositions.length) setU32(out, pos, ifdPositions[k + 1]); });
  return out;
}

const METADATA = new Set([".zarray", ".zattrs", ".zgroup", "zarr.json", ".zmetadata"]);
/** Copies a Zarr tree: metadata and other small files copied (editable), chunk files symlinked. */
export function cloneZarr(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  for (const name of readdirSync(src)) {
    const s = join(src, name), d = join(dst, name);
    if (statSync(s).isDirectory()) cloneZarr(s, d);
    else if (METADATA.has(name) || name.endsWith(".xml")) copyFileSync(s, d);
    else symlinkSync(s, d);
  }
}
