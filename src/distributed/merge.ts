// `bie merge <out>`: check that shards 0..N-1 of one embedding job are each there exactly once, finished, from the
// same checkpoint and data, and that together they hold every item once; then write the joined table in dataset
// order with the same writer as a single-process `bie embed`, so the two outputs are interchangeable.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parquetMetadata, parquetReadObjects, parquetSchema } from "hyparquet";
import { BieError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { readNpy } from "../io/npy.ts";
import type { Item } from "../data/index.ts";
import { shardItems, writeEmbeddingTables } from "../train/embed.ts";
import type { BatchSource } from "../train/source.ts";
import { readShardDone, SHARD_DIR_RE, shardDir, type ShardDone } from "./shard.ts";

export interface MergeResult {
  out: string;
  shards: number;
  rows: number;
  dim: number;
}

const FIXED = ["index", "id", "path", "label", "group"];
const list = (xs: number[]) => (xs.length > 12 ? `${xs.slice(0, 12).join(", ")} and ${xs.length - 12} more` : xs.join(", "));

/** Shard count of <out>/shards, refusing a mix of counts. */
export async function shardCountOf(out: string): Promise<number> {
  const dir = join(out, "shards");
  const names = existsSync(dir) ? (await readdir(dir)).filter((n) => SHARD_DIR_RE.test(n)) : [];
  if (names.length === 0) throw new BieError("NO_SHARDS", `${dir}: no shard folders (shard_<i>_of_<N>) to merge`);
  const counts = [...new Set(names.map((n) => Number(SHARD_DIR_RE.exec(n)![2])))].sort((a, b) => a - b);
  if (counts.length > 1) throw new BieError("MIXED_SHARDS", `${dir} holds shards of ${counts.length} different counts (N = ${counts.join(", ")}); remove the stale ones`);
  return counts[0];
}

/** Markers of every shard, or an error naming the missing / unfinished ones. */
export async function shardMarkers(out: string, count: number): Promise<ShardDone[]> {
  const markers: ShardDone[] = [];
  const missing: number[] = [], unfinished: number[] = [];
  for (let i = 0; i < count; i++) {
    const dir = shardDir(out, { index: i, count });
    if (!existsSync(dir)) missing.push(i);
    else {
      const m = await readShardDone(dir);
      if (m) markers.push(m);
      else unfinished.push(i);
    }
  }
  const problems = [missing.length ? `missing: ${list(missing)}` : "", unfinished.length ? `unfinished (no DONE.json): ${list(unfinished)}` : ""].filter(Boolean);
  if (problems.length) throw new BieError("SHARDS_INCOMPLETE", `${out}: of ${count} shards, ${problems.join("; ")}; run them (bie embed RUN shard=i/${count} out=${out}) and merge again`);
  const ref = markers.find((m) => m.rows > 0) ?? markers[0];
  for (const m of markers) {
    if (m.source !== ref.source) throw new BieError("SHARD_MISMATCH", `${out}: shard ${m.shard} was made from another checkpoint or data settings than shard ${ref.shard}`);
    if (m.rows > 0 && m.dim !== ref.dim) throw new BieError("SHARD_MISMATCH", `${out}: shard ${m.shard} has ${m.dim} dims, shard ${ref.shard} has ${ref.dim}`);
  }
  return markers;
}

/** True when every shard of <out> is finished (what a queue worker checks before enqueuing the merge). */
export async function allShardsDone(out: string, count: number): Promise<boolean> {
  for (let i = 0; i < count; i++) if (!(await readShardDone(shardDir(out, { index: i, count })))) return false;
  return true;
}

export async function mergeShards(outIn: string, o: { onLog?: (line: string) => void } = {}): Promise<MergeResult> {
  const out = resolve(outIn);
  const count = await shardCountOf(out);
  const markers = await shardMarkers(out, count);
  const dim = (markers.find((m) => m.rows > 0) ?? markers[0]).dim;
  const total = markers.reduce((s, m) => s + m.rows, 0);
  const blocks = [...new Set(markers.map((m) => m.block))];
  if (blocks.length !== 1 || !Number.isInteger(blocks[0]) || blocks[0] < 1)
    throw new BieError("MIXED_SHARDS", `${out}: the shards were cut into blocks of ${blocks.join(", ")} items (the embedding batch, batch_size × 4); embed them all with one batch_size`);
  const block = blocks[0];
  const items = new Array<Item>(total);
  const X = new Float32Array(total * dim);
  for (let i = 0; i < count; i++) {
    const dir = shardDir(out, { index: i, count });
    const { data, shape } = await readNpy(join(dir, "embeddings.npy"));
    const rows = await readShardRows(join(dir, "embeddings.parquet"));
    if (shape[0] !== markers[i].rows || rows.length !== markers[i].rows || (shape[0] > 0 && shape[1] !== dim))
      throw new BieError("SHARD_CORRUPT", `${dir}: DONE.json says ${markers[i].rows} rows, embeddings.npy has ${shape[0]}, embeddings.parquet ${rows.length}`);
    // Shard i holds the blocks i, i+N, i+2N, ... of the dataset, in that order; anything else is a broken contract.
    const expected = shardItems(total, { index: i, count }, block);
    if (rows.length !== expected.length) throw new BieError("SHARD_CORRUPT", `${dir}: holds ${rows.length} rows, shard ${i} of ${count} over ${total} items in blocks of ${block} must hold ${expected.length}`);
    rows.forEach((r, k) => {
      const j = expected[k];
      if (r.index !== j) throw new BieError("SHARD_CORRUPT", `${dir}: row ${k} is item ${r.index}, expected item ${j} (rows must be the blocks i, i+N, i+2N, ... of ${block} items)`);
      if (items[j]) throw new BieError("SHARD_DUPLICATE", `item ${j} appears in two shards`);
      items[j] = r.item;
      X.set((data as Float32Array).subarray(k * dim, (k + 1) * dim), j * dim);
    });
  }
  const unfilled = items.findIndex((it) => !it);
  if (unfilled >= 0 || items.length !== total) throw new BieError("SHARDS_INCOMPLETE", `${out}: item ${unfilled} is in no shard`);
  const src = { items } as Pick<BatchSource, "items"> as BatchSource;
  await writeEmbeddingTables(out, src, items.map((_, j) => j), X, dim);
  const summary = { shards: count, rows: total, dim, source: markers[0].source, merged: new Date().toISOString() };
  await writeFileAtomic(join(out, "merged.json"), JSON.stringify(summary, null, 2) + "\n");
  o.onLog?.(`merged ${count} shards → ${out} (${total} rows × ${dim} dims)`);
  return { out, shards: count, rows: total, dim };
}

/** The non-embedding columns of a shard's Parquet file, as items (metadata columns become item.meta). */
async function readShardRows(file: string): Promise<{ index: number; item: Item }[]> {
  const buf = await readFile(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const names = parquetSchema(parquetMetadata(ab)).children.map((c) => c.element.name);
  const columns = names.filter((n) => !/^z_\d+$/.test(n));
  const metaKeys = columns.filter((n) => !FIXED.includes(n));
  const objs = (await parquetReadObjects({ file: ab, columns })) as Record<string, unknown>[];
  const str = (v: unknown) => (v == null ? null : String(v));
  return objs.map((r) => {
    const meta: Record<string, string> = {};
    for (const k of metaKeys) if (r[k] != null) meta[k] = String(r[k]);
    return { index: Number(r.index), item: { id: String(r.id), path: String(r.path), label: str(r.label), group: str(r.group), meta } };
  });
}
