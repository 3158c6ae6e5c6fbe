// The page's files: index.html and style.css as written, the TypeScript under page/ bundled for the browser by
// esbuild (tsx ships it) on first request, and onnxruntime-web's runtime files from node_modules. Nothing comes
// from the network, so the page works offline.
import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const PAGE_DIR = fileURLToPath(new URL("./page/", import.meta.url));

export interface Asset { body: Uint8Array | string; type: string }

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".wasm": "application/wasm", ".png": "image/png", ".json": "application/json",
};
export const contentType = (file: string) => TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream";

export async function pageFile(name: "index.html" | "style.css"): Promise<Asset> {
  return { body: await readFile(join(PAGE_DIR, name), "utf8"), type: contentType(name) };
}

let bundle: Promise<string> | null = null;

/** page/main.ts and what it imports (our own image decoding and normalisation among them) as one ES module. */
export function appBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [join(PAGE_DIR, "main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
    external: ["/ort/*"],
    define: { "process.env": "{}" }, // settings read from the environment at import time take their defaults
    plugins: [noNodeBuiltins],
  }).then((r) => r.outputFiles[0].text).catch((e) => {
    bundle = null; // let the next request try again (e.g. after a fix while the server runs)
    throw e;
  });
  return bundle;
}

/**
 * The shared readers import node builtins (fs, path, zlib…) for reading by path; the page only decodes bytes it
 * already has, so each builtin becomes a stub with the same export names (taken from Node's own module, so any
 * import resolves) whose functions throw if ever called.
 */
const noNodeBuiltins: Plugin = {
  name: "no-node-builtins",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: "node-stub" }));
    b.onLoad({ filter: /.*/, namespace: "node-stub" }, async (a) => {
      const names = Object.keys(await import(a.path)).filter((k) => k !== "default" && /^[A-Za-z_$][\w$]*$/.test(k));
      const lines = [`const no = () => { throw new Error(${JSON.stringify(`${a.path} is not available in the browser`)}); };`, ...names.map((k) => `export const ${k} = no;`), "export default {};"];
      return { contents: lines.join("\n"), loader: "js" };
    });
  },
};

// The package exports its .wasm by name; the folder holding it is dist/.
const ORT_DIST = dirname(createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
let ortNames: Set<string> | null = null;

/** An onnxruntime-web runtime file by bare name (only the files its dist/ folder lists), or null. */
export async function ortFile(name: string): Promise<Asset | null> {
  ortNames ??= new Set(existsSync(ORT_DIST) ? readdirSync(ORT_DIST).filter((f) => /^ort[\w.-]*\.(mjs|wasm)$/.test(f)) : []);
  if (!ortNames.has(name)) return null;
  return { body: new Uint8Array(await readFile(join(ORT_DIST, name))), type: contentType(name) };
}
