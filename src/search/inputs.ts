// What `bie search` reads: the images to search (one large image, or a dataset of images) and how a region of
// one becomes a model input — the run's own normalisation and fit, so tiles look like the training items.
import { existsSync, statSync } from "node:fs";
import { extname, resolve } from "node:path";
import { BadInputError } from "../errors.ts";
import { openImageSource, type ImageSource } from "../io/source.ts";
import { listItems, type PrepOptions } from "../data/index.ts";
import { render } from "../data/prepare.ts";
import { normaliseImage, percentiles } from "../data/normalise.ts";
import type { PixelArray, PlanarImage } from "../io/image.ts";
import type { Config } from "../config/index.ts";

/** One searchable image: a file, a Zarr store, or channel files joined with '+' (a.tif+b.tif). */
export interface TargetImage {
  name: string;
  open(): Promise<ImageSource>;
}

export function imageRef(spec: string): TargetImage {
  const parts = spec.split("+");
  const paths = parts.length > 1 && parts.every((p) => existsSync(p)) ? parts.map((p) => resolve(p)) : [resolve(spec)];
  return { name: paths.join("+"), open: () => openImageSource(paths.length > 1 ? paths : paths[0]) };
}

const isZarr = (p: string) => /\.zarr\/?$/i.test(p) || existsSync(resolve(p, ".zattrs")) || existsSync(resolve(p, "zarr.json")) || existsSync(resolve(p, ".zgroup"));

/** in=: an image (file, Zarr store, a+b channel files), a CSV manifest, or a folder of images (searched recursively). */
export function targetImages(spec: string, cfg: Config): { images: TargetImage[]; dataset: boolean } {
  const p = resolve(spec.split("+")[0]);
  if (!existsSync(p)) throw new BadInputError(p, "no such file or folder to search in");
  const isCsv = extname(p).toLowerCase() === ".csv";
  if (!isCsv && (!statSync(p).isDirectory() || isZarr(p))) return { images: [imageRef(spec)], dataset: false };
  // A dataset: listed as the data layer lists training data (manifest columns as in the run's config).
  const list = listItems({ ...cfg.data, path: p, manifest: undefined, limit: undefined, group_column: undefined, label_column: null, missing_labels: "keep", skip_bad: false });
  return { images: list.items.map((it) => ({ name: it.path, open: () => openImageSource(it.path) })), dataset: true };
}

/** The run's preparation settings for an image with `channels` channels (no augmentation). */
export function prepFor(cfg: Config, channels: number, size: [number, number]): PrepOptions {
  return {
    height: size[0], width: size[1], fit: cfg.data.fit, normalise: cfg.data.normalise,
    pLow: cfg.data.percentile_low, pHigh: cfg.data.percentile_high, channels, channelsFrom: "the searched image",
    augment: cfg.data.augment, skipBad: false,
  };
}

/** Per-channel [lo, hi] of a whole image (normalise=image): from the finest level of at most 4096² pixels. */
export async function imageRange(src: ImageSource, cfg: Config, channels: number[]): Promise<[number, number][]> {
  let level = src.levels - 1;
  while (level > 0 && src.shapes[level - 1].x * src.shapes[level - 1].y <= 4096 * 4096) level--;
  const s = src.shapes[level];
  if (s.x * s.y > 4096 * 4096) throw new BadInputError(src.path, `too large for normalise=image without a pyramid level of at most 4096² pixels; use normalise=tile`);
  const data = await src.readRegion({ level, c: channels, y0: 0, x0: 0, h: s.y, w: s.x });
  const n = s.x * s.y;
  return channels.map((_, i) => {
    const plane = data.subarray(i * n, (i + 1) * n) as PixelArray;
    return cfg.data.normalise === "minmax" ? minMax(plane) : percentiles(plane, src.dtype, cfg.data.percentile_low, cfg.data.percentile_high);
  });
}

function minMax(a: PixelArray): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.length; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i]; }
  return [lo, hi];
}

/** A region → model input C×H×W in `out` at `offset`: scaled per region (range null) or by the image's range. */
export function regionToInput(img: PlanarImage, prep: PrepOptions, range: [number, number][] | null, out: Float32Array, offset: number): void {
  let planes: Float32Array;
  if (!range) planes = normaliseImage(img, prep.normalise, prep.pLow, prep.pHigh);
  else {
    const n = img.width * img.height;
    planes = new Float32Array(n * img.channels);
    for (let c = 0; c < img.channels; c++) {
      const [lo, hi] = range[c];
      const scale = hi > lo ? 1 / (hi - lo) : 0;
      for (let i = 0; i < n; i++) { const v = (img.data[c * n + i] - lo) * scale; planes[c * n + i] = v < 0 ? 0 : v > 1 ? 1 : v; }
    }
  }
  render(planes, img.channels, img.width, img.height, prep, null, out, offset);
}
