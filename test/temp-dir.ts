// Scratch folders for tests: each is removed when its test file ends, so the whole suite's runs, checkpoints and
// embeddings never pile up on the CI machine's disk (a full suite wrote several GB when nothing was removed).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

/**
 * A new empty folder under the OS temp dir. Called at a file's top level it is deleted after the file's last test;
 * inside a test, after that test. Not for before() hooks: an after() registered there runs when the hook ends.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bie-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
