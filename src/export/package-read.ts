// Opening a bioimage.io model package: a zip with rdf.yaml and every file it references flat beside it
// (a folder holding rdf.yaml works too, for unpacked packages).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, basename } from "node:path";
import { createHash } from "node:crypto";
import { unzipSync } from "fflate";
import YAML from "yaml";
import { BadInputError } from "../errors.ts";

export interface ModelPackage {
  /** Where it came from (zip or folder). */
  source: string;
  rdf: Record<string, unknown>;
  /** Files of the package by name (rdf.yaml included). */
  files: Map<string, Uint8Array>;
}

export const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

const RDF_NAMES = ["rdf.yaml", "bioimageio.yaml"];

function fromZip(path: string): Map<string, Uint8Array> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(new Uint8Array(readFileSync(path)));
  } catch (e) {
    throw new BadInputError(path, `not a readable zip archive (${(e as Error).message})`);
  }
  return new Map(Object.entries(entries).filter(([n]) => !n.endsWith("/")));
}

function fromFolder(dir: string): Map<string, Uint8Array> {
  return new Map(readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile()).map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
}

/** Parse rdf.yaml text; a syntax error names the line. */
export function parseRdf(text: string, where: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new BadInputError(where, `invalid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new BadInputError(where, "must be a YAML mapping (key: value) describing the model");
  return doc as Record<string, unknown>;
}

export function readPackage(path: string): ModelPackage {
  if (!existsSync(path)) throw new BadInputError(path, "no such file or folder");
  const files = statSync(path).isDirectory() ? fromFolder(path) : fromZip(path);
  const rdfName = RDF_NAMES.find((n) => files.has(n));
  if (!rdfName) {
    const nested = [...files.keys()].find((n) => RDF_NAMES.includes(basename(n)));
    throw new BadInputError(path, nested ? `rdf.yaml is in a subfolder (${nested}); a bioimage.io package keeps rdf.yaml and its files flat at the top` : "no rdf.yaml at the top level: not a bioimage.io model package");
  }
  const rdf = parseRdf(new TextDecoder().decode(files.get(rdfName)!), `${path}:${rdfName}`);
  return { source: path, rdf, files };
}

/** A file the rdf references, by its relative path. */
export function packageFile(pkg: ModelPackage, source: unknown, what: string): Uint8Array {
  if (typeof source !== "string" || !source) throw new BadInputError(`${pkg.source}:rdf.yaml`, `${what}: no source file given`);
  if (/^https?:\/\//.test(source)) throw new BadInputError(`${pkg.source}:rdf.yaml`, `${what} is a URL (${source}); only files inside the package are read`);
  const f = pkg.files.get(source.replace(/^\.\//, ""));
  if (!f) throw new BadInputError(`${pkg.source}:rdf.yaml`, `${what} '${source}' is not in the package`);
  return f;
}
