// Scratch folders for tests: each is removed when its test file ends, so the whole suite's runs, checkpoints and
// embeddings never pile up on the CI machine's disk (a full suite wrote several GB when nothing was removed).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

/** A new empty folder under the OS temp dir, deleted after the last test of the calling file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bie-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
