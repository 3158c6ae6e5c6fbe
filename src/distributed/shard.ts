// The shard contract shared by `bie embed shard=i/N`, job queues and Slurm arrays. The dataset is cut into blocks of
// one embedding batch (batch_size × 4 items) and block b belongs to shard b mod N (shardItems, embedRun's rule):
// deterministic, balanced within a block, bit-identical to one process, and no shard needs to know about another. A shard's
// folder counts as finished only once its DONE.json exists; that file is written atomically, last.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BieError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";

export interface ShardRef {
  index: number;
  count: number;
}

/** What a finished shard says about itself (DONE.json). */
export interface ShardDone {
  shard: number;
  count: number;
  /** Items per block (the embedding batch); every shard of one output shares it. */
  block: number;
  rows: number;
  dim: number;
  /** Fingerprint of the checkpoint and data settings: shards of one output must all share it. */
  source: string;
  finished: string;
  host: string;
}

export const DONE_FILE = "DONE.json";

/** "i/N" → {index, count}, 0 ≤ i < N. */
export function parseShard(text: string, key = "shard"): ShardRef {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new BieError("USAGE", `${key}=${text}: expected i/N, e.g. ${key}=0/8 (shard i of N, counting from 0)`);
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || index >= count) throw new BieError("USAGE", `${key}=${text}: need 0 ≤ i < N (shards are numbered 0..N-1)`);
  return { index, count };
}

export const shardName = (s: ShardRef) => `shard_${s.index}_of_${s.count}`;
export const shardDir = (out: string, s: ShardRef) => join(out, "shards", shardName(s));
export const SHARD_DIR_RE = /^shard_(\d+)_of_(\d+)$/;

export async function readShardDone(dir: string): Promise<ShardDone | null> {
  const f = join(dir, DONE_FILE);
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(await readFile(f, "utf8")) as ShardDone;
  } catch (e) {
    throw new BieError("SHARD_MARKER", `${f}: unreadable done marker (${(e as Error).message}); delete it to redo the shard`);
  }
}

export async function writeShardDone(dir: string, done: ShardDone): Promise<void> {
  await writeFileAtomic(join(dir, DONE_FILE), JSON.stringify(done, null, 2) + "\n");
}
