// `bie search <run> query=<image> [box=x,y,w,h] in=<image | folder | manifest.csv> [k=10] [tile=] [stride=]
// [level=] [channels=0,1] [normalise=tile|image] [overlap=0.25] [out=DIR]`: hits.csv, hits.png and search.json in out
// (default <run>/search_<query name>).
import { mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { formatCsv, writeFileAtomic } from "../eval/csv.ts";
import { searchPatches, type SearchOptions, type SearchResult } from "./search.ts";
import { writeSearchFigure } from "./figure.ts";

const KEYS = ["query", "box", "in", "k", "tile", "stride", "level", "channels", "normalise", "overlap", "out"] as const;

function int(key: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(key, `need an integer ≥ ${min}, got '${v}'`);
  return n;
}

export function parseSearchArgs(args: readonly string[]): SearchOptions & { out?: string } {
  const o: Partial<SearchOptions> & { out?: string } = {};
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq < 1) throw new ConfigError(a, "expected key=value (e.g. query=crop.png in=slide.ome.tif k=10)");
    const key = a.slice(0, eq) as (typeof KEYS)[number], v = a.slice(eq + 1);
    if (!KEYS.includes(key)) throw new ConfigError(key, `unknown search setting (known: ${KEYS.join(", ")})`);
    switch (key) {
      case "query": o.query = v; break;
      case "in": o.target = v; break;
      case "k": o.k = int(key, v, 1); break;
      case "tile": o.tile = int(key, v, 1); break;
      case "stride": o.stride = int(key, v, 1); break;
      case "level": o.level = int(key, v, 0); break;
      case "out": o.out = v; break;
      case "overlap": {
        const f = Number(v);
        if (!(f >= 0 && f <= 1)) throw new ConfigError(key, `a share between 0 and 1, got '${v}'`);
        o.maxOverlap = f;
        break;
      }
      case "channels": o.channels = v.split(",").map((s) => int(key, s.trim(), 0)); break;
      case "box": {
        const b = v.split(",").map((s) => int(key, s.trim(), 0));
        if (b.length !== 4 || b[2] < 1 || b[3] < 1) throw new ConfigError(key, `expected x,y,w,h with w,h ≥ 1, got '${v}'`);
        o.box = b as [number, number, number, number];
        break;
      }
      case "normalise":
        if (v !== "tile" && v !== "image") throw new ConfigError(key, `tile or image, got '${v}'`);
        o.normalise = v;
        break;
    }
  }
  if (!o.query) throw new ConfigError("query", "is required: the image (or, with box=x,y,w,h, the image holding the crop) to search for");
  if (!o.target) throw new ConfigError("in", "is required: the large image, folder of images or CSV manifest to search in");
  return o as SearchOptions & { out?: string };
}

export async function searchCommand(runDir: string, args: string[], io: { say?: (s: string) => void; onProgress?: (done: number, total: number) => void } = {}): Promise<{ outDir: string; result: SearchResult }> {
  const say = io.say ?? ((s: string) => void process.stdout.write(s + "\n"));
  const o = parseSearchArgs(args);
  const stem = basename(o.query.split("+")[0]).replace(/(\.ome)?\.[^.]+$/, "").replace(/[^A-Za-z0-9._-]/g, "_") + (o.box ? `_${o.box.join("-")}` : "");
  const outDir = resolve(o.out ?? join(runDir, `search_${stem}`));
  const result = await searchPatches(runDir, { ...o, onProgress: io.onProgress });
  mkdirSync(outDir, { recursive: true });
  writeFileAtomic(join(outDir, "hits.csv"), formatCsv(["rank", "score", "image", "level", "x", "y", "w", "h"], result.hits.map((h) => [h.rank, Math.round(h.score * 1e6) / 1e6, h.image, h.level, h.x, h.y, h.w, h.h])));
  await writeSearchFigure(join(outDir, "hits.png"), result, o.channels);
  const { all: _all, vectors: _v, ...summary } = result;
  writeFileAtomic(join(outDir, "search.json"), JSON.stringify({ run: resolve(runDir), options: { ...o, out: outDir }, ...summary }, null, 1) + "\n");
  say(`searched ${result.tiles} tiles in ${result.images.length} image(s); top ${result.hits.length}:`);
  for (const h of result.hits) say(`  ${String(h.rank).padStart(3)}  ${h.score.toFixed(4)}  ${basename(h.image)}  x=${h.x} y=${h.y} w=${h.w} h=${h.h}${h.level ? ` level ${h.level}` : ""}`);
  say(`written: ${join(outDir, "hits.csv")}, ${join(outDir, "hits.png")}`);
  return { outDir, result };
}
