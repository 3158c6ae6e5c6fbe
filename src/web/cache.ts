// The explorer's cache folder inside the run (<run>/explore/): each artefact has a JSON sidecar naming the
// embedding (sha256) and settings it was made from, so a re-embedded run or changed option rebuilds it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";

export const CACHE_DIR = "explore";

export const cachePath = (runDir: string, file: string) => join(runDir, CACHE_DIR, file);

/** The sidecar `<name>.json` if it exists and matches `want` on every key of `want`. */
export function readSidecar<T extends Record<string, unknown>>(runDir: string, name: string, want: Record<string, unknown>): T | null {
  const file = cachePath(runDir, `${name}.json`);
  if (!existsSync(file)) return null;
  try {
    const meta = JSON.parse(readFileSync(file, "utf8")) as T;
    return Object.entries(want).every(([k, v]) => JSON.stringify(meta[k]) === JSON.stringify(v)) ? meta : null;
  } catch {
    return null; // unreadable sidecar: rebuild
  }
}

/** Written last, after the artefact itself, so a killed build never leaves a sidecar vouching for half a file. */
export function writeSidecar(runDir: string, name: string, meta: Record<string, unknown>): Promise<void> {
  return writeFileAtomic(cachePath(runDir, `${name}.json`), JSON.stringify(meta, null, 2) + "\n");
}
