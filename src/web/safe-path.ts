// Mapping a URL path onto a file inside a root folder, refusing anything that would leave it: `..` segments
// (raw or percent-encoded), absolute paths, NUL bytes, backslashes, and symlinks pointing outside.
import { realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";

/** The absolute path of `urlPath` (still percent-encoded) inside `root`, or null when it is not safely inside. */
export function fileInside(root: string, urlPath: string): string | null {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return null; // malformed percent-encoding
  }
  if (rel.includes("\0") || rel.includes("\\") || isAbsolute(rel)) return null;
  if (rel.split("/").some((seg) => seg === "..")) return null;
  const base = realOrNull(root);
  if (!base) return null;
  const target = resolve(base, rel);
  if (!isWithin(base, target)) return null;
  // The file may be a symlink (or sit under one) that leads elsewhere: judge where it really is.
  const real = realOrNull(target);
  return real && isWithin(base, real) ? real : null;
}

function isWithin(base: string, p: string): boolean {
  const r = relative(base, p);
  return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r));
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}
