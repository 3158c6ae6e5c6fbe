// Atomic file writes: write a temporary sibling, fsync, then rename over the target, so a killed
// process leaves either the old file or the new one, never half of one.
import { open, rename, mkdir, unlink } from "node:fs/promises";
import { dirname, basename, join } from "node:path";

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await writeChunksAtomic(path, [typeof data === "string" ? new TextEncoder().encode(data) : data]);
}

/** Write several byte chunks (large tensors) without concatenating them first. */
export async function writeChunksAtomic(path: string, chunks: Uint8Array[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, "w");
  try {
    for (const c of chunks) await fh.write(c);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}
