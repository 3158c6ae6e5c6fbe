// `npm run bench -- io [--tiles 500] [--size 128] [--repeats 5] [--seed 7]`
// Tiles per second read from the OME-Zarr (blosc) sample and the tiled deflate OME-TIFF sample, ours
// (openImageSource + readRegion, one tile at a time) against zarr-python and tifffile's zarr view
// (bench/io_reference.py) on the same seeded tile list, each after one untimed warm-up pass, alternating
// ours/python per repeat so both see the same machine load. "ours" is the default configuration, whose
// decoded-chunk cache is warm after the warm-up pass; "ours_uncached" turns the cache off so every tile
// decodes its chunks again, as the Python readers do. Pixel sums of one pass must agree.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openImageSource, type ImageSource } from "../src/io/source.ts";
import { randomTiles, type Tile } from "../src/io/tiles.ts";
import { chunkCache } from "../src/io/chunk-cache.ts";
import { median, repoRoot, round, runJsonLines, sharedDir, writeResult } from "./common.ts";

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

/** One pass over the tiles; the pixel checksum is only taken when asked (the untimed warm-up), as in Python. */
async function pass(src: ImageSource, tiles: Tile[], withChecksum = false): Promise<{ rate: number; checksum: number }> {
  let checksum = 0;
  const t0 = performance.now();
  for (const t of tiles) {
    const px = await src.readRegion({ y0: t.y0, x0: t.x0, h: t.h, w: t.w });
    if (withChecksum) for (let i = 0; i < px.length; i++) checksum += px[i];
  }
  return { rate: tiles.length / ((performance.now() - t0) / 1000), checksum };
}

export default async function (args: string[]): Promise<void> {
  const count = Number(option(args, "tiles", "500"));
  const size = Number(option(args, "size", "128"));
  const repeats = Number(option(args, "repeats", "5"));
  const seed = Number(option(args, "seed", "7"));
  const samples = join(sharedDir, "data", "format_samples", "generated");
  const zarrPath = join(samples, "coelho_gnf_dna-4_blosc.ome.zarr");
  const tiffPath = join(samples, "bbbc010_A01_2ch_tiled_zlib_pyramid.ome.tif");
  const formats = {
    zarr: { src: await openImageSource(zarrPath), path: zarrPath },
    tiff: { src: await openImageSource(tiffPath), path: tiffPath },
  };
  const tiles = {
    zarr: randomTiles(formats.zarr.src.shapes[0], { count, size, seed }),
    tiff: randomTiles(formats.tiff.src.shapes[0], { count, size, seed }),
  };
  const dir = mkdtempSync(join(tmpdir(), "bie-bench-io-"));
  const specFile = join(dir, "spec.json");
  const asList = (ts: Tile[]) => ts.map((t) => [t.y0, t.x0, t.h, t.w]);
  writeFileSync(specFile, JSON.stringify({
    repeats: 1,
    zarr: { array: join(zarrPath, "0"), tiles: asList(tiles.zarr) },
    tiff: { path: tiffPath, tiles: asList(tiles.tiff) },
  }));
  console.log(`io bench: ${count} random ${size}x${size} tiles per format (seed ${seed}), ${repeats} repeats`);

  const runs = { zarr: { ours: [] as number[], uncached: [] as number[], python: [] as number[] }, tiff: { ours: [] as number[], uncached: [] as number[], python: [] as number[] } };
  const sums: Record<string, { ours?: number; python?: number }> = { zarr: {}, tiff: {} };
  const capacity = chunkCache.capacityBytes;
  try {
    for (const fmt of ["zarr", "tiff"] as const) {
      chunkCache.clear();
      sums[fmt].ours = (await pass(formats[fmt].src, tiles[fmt], true)).checksum; // warm-up, untimed
    }
    for (let r = 0; r < repeats; r++) {
      for (const fmt of ["zarr", "tiff"] as const) {
        chunkCache.setCapacity(capacity);
        runs[fmt].ours.push((await pass(formats[fmt].src, tiles[fmt])).rate);
        chunkCache.setCapacity(0);
        runs[fmt].uncached.push((await pass(formats[fmt].src, tiles[fmt])).rate);
      }
      chunkCache.setCapacity(capacity);
      for (const line of await runJsonLines("/usr/bin/python3", [join(repoRoot, "bench", "io_reference.py"), specFile])) {
        const fmt = line.fmt as "zarr" | "tiff";
        runs[fmt].python.push(...(line.runs as number[]));
        sums[fmt].python = Number(line.checksum);
      }
      console.log(`  run ${r + 1}: ` + (["zarr", "tiff"] as const).map((f) =>
        `${f} ours ${round(runs[f].ours[r], 0)} (uncached ${round(runs[f].uncached[r], 0)}) vs python ${round(runs[f].python[r], 0)} tiles/s`).join("; "));
    }
  } finally {
    chunkCache.setCapacity(capacity);
    rmSync(dir, { recursive: true, force: true });
    await formats.zarr.src.close();
    await formats.tiff.src.close();
  }
  for (const fmt of ["zarr", "tiff"] as const)
    if (sums[fmt].ours !== sums[fmt].python) throw new Error(`${fmt}: our tiles sum to ${sums[fmt].ours}, python's to ${sums[fmt].python}: not the same pixels`);

  const summary = (fmt: "zarr" | "tiff") => {
    const ours = median(runs[fmt].ours), uncached = median(runs[fmt].uncached), python = median(runs[fmt].python);
    return {
      ours: round(ours, 1), python: round(python, 1), ratio: round(ours / python, 2),
      ours_uncached: round(uncached, 1), ratio_uncached: round(uncached / python, 2),
      runs: { ours: runs[fmt].ours.map((v) => round(v, 1)), ours_uncached: runs[fmt].uncached.map((v) => round(v, 1)), python: runs[fmt].python.map((v) => round(v, 1)) },
      file: fmt === "zarr" ? "format_samples/generated/coelho_gnf_dna-4_blosc.ome.zarr (1x1030x1349 uint8, 256x256 blosc-lz4 chunks)" : "format_samples/generated/bbbc010_A01_2ch_tiled_zlib_pyramid.ome.tif (2x520x696 uint16, 128x128 deflate tiles)",
      reference: fmt === "zarr" ? "zarr-python z[0, y0:y0+h, x0:x0+w]" : "tifffile series[0].aszarr(level=0) via zarr-python, za[:, y0:y0+h, x0:x0+w]",
      pixel_checksum: sums[fmt].ours,
    };
  };
  const result = {
    name: "io",
    what: `random ${size}x${size} tiles (all channels) read one at a time at level 0, same seeded tile list for both sides`,
    unit: "tiles/s",
    zarr: summary("zarr"),
    tiff: summary("tiff"),
    tiles: count, tile_size: size, repeats, seed,
    cache_note: "ours = default decoded-chunk cache (warm after the untimed warm-up pass); ours_uncached = cache disabled",
    date: new Date().toISOString(),
  };
  const file = await writeResult("io", result);
  console.log(`zarr: ours ${result.zarr.ours} tiles/s (uncached ${result.zarr.ours_uncached}), python ${result.zarr.python}, ratio ${result.zarr.ratio} (uncached ${result.zarr.ratio_uncached})`);
  console.log(`tiff: ours ${result.tiff.ours} tiles/s (uncached ${result.tiff.ours_uncached}), python ${result.tiff.python}, ratio ${result.tiff.ratio} (uncached ${result.tiff.ratio_uncached})`);
  console.log(`wrote ${file}`);
}
