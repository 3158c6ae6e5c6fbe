// Thumbnails, made once per run and thumbnail size: one small PNG per item packed end to end in
// <run>/explore/thumbs.bin, with their byte offsets in thumbs.idx (n+1 little-endian float64). One file instead of
// 100k keeps the run folder copyable; the server reads one thumbnail by offset.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { open, readFile, type FileHandle } from "node:fs/promises";
import { thumbnailPng } from "../eval/report/thumbs.ts";
import { writeChunksAtomic, writeFileAtomic } from "../io/atomic.ts";
import type { EmbeddingTable } from "../eval/index.ts";
import { closeItemSources, readItemImage } from "./item-pixels.ts";
import { cachePath, readSidecar, writeSidecar } from "./cache.ts";

export interface ThumbStore {
  /** The PNG of item i, or null when its image could not be read at build time. */
  get(i: number): Promise<Uint8Array | null>;
  readonly count: number;
  readonly missing: number;
  close(): Promise<void>;
}

export async function openThumbs(runDir: string, table: EmbeddingTable, size: number, rebuild: boolean, log: (s: string) => void): Promise<ThumbStore> {
  const paths = table.paths;
  // Items are their paths (and regions, for tile datasets): a new table with the same items keeps its thumbnails.
  const regions = ["level", "t", "z", "y0", "x0", "h", "w"].map((c) => table.columns[c] ?? null);
  const want = { paths_sha256: createHash("sha256").update(JSON.stringify([paths, regions])).digest("hex"), size, n: paths.length };
  const bin = cachePath(runDir, "thumbs.bin"), idx = cachePath(runDir, "thumbs.idx");
  let meta = rebuild ? null : readSidecar<{ missing: number }>(runDir, "thumbs", want);
  if (!meta || !existsSync(bin) || !existsSync(idx)) meta = await buildThumbs(runDir, table, size, want, log);
  let offsets = await readOffsets(idx);
  if (offsets.length !== paths.length + 1) {
    meta = await buildThumbs(runDir, table, size, want, log);
    offsets = await readOffsets(idx);
  }
  const fh: FileHandle = await open(bin, "r");
  return {
    count: paths.length,
    missing: meta.missing,
    async get(i) {
      const start = offsets[i], len = offsets[i + 1] - start;
      if (!(len > 0)) return null;
      const buf = new Uint8Array(len);
      await fh.read(buf, 0, len, start);
      return buf;
    },
    close: () => fh.close(),
  };
}

async function readOffsets(file: string): Promise<Float64Array> {
  const bytes = await readFile(file);
  return bytes.length % 8 ? new Float64Array(0) : new Float64Array(new Uint8Array(bytes).buffer);
}

async function buildThumbs(runDir: string, table: EmbeddingTable, size: number, want: Record<string, unknown>, log: (s: string) => void): Promise<{ missing: number }> {
  const paths = table.paths;
  log(`making ${paths.length} thumbnails of ${size} px (once; cached in ${cachePath(runDir, "thumbs.bin")})`);
  const chunks: Uint8Array[] = [];
  const offsets = new Float64Array(paths.length + 1);
  let pos = 0, missing = 0, lastLog = Date.now();
  for (let i = 0; i < paths.length; i++) {
    offsets[i] = pos;
    let png: Uint8Array | null = null;
    try {
      if (paths[i]) png = thumbnailPng(await readItemImage(table, i), size);
    } catch {
      // unreadable or moved image: the page shows the id without a picture
    }
    if (png) {
      chunks.push(png);
      pos += png.length;
    } else missing++;
    if (Date.now() - lastLog > 5000) {
      log(`  thumbnails: ${i + 1}/${paths.length}`);
      lastLog = Date.now();
    }
  }
  offsets[paths.length] = pos;
  closeItemSources();
  await writeChunksAtomic(cachePath(runDir, "thumbs.bin"), chunks);
  await writeFileAtomic(cachePath(runDir, "thumbs.idx"), new Uint8Array(offsets.buffer));
  const meta = { ...want, missing };
  await writeSidecar(runDir, "thumbs", meta);
  if (missing) log(`  ${missing} of ${paths.length} images could not be read: those items have no thumbnail`);
  return meta;
}
