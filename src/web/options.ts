// `bie explore RUN key=value...` options: few, checked, with defaults that suit a laptop.
import { ConfigError } from "../errors.ts";

export interface ExploreOptions {
  /** Neighbours listed for a selected or dropped item. */
  k: number;
  /** Edge of a cached thumbnail, pixels. */
  thumbSize: number;
  /** Rows UMAP is fitted on; the rest are transformed (umap2d's maxFit). */
  umapMaxFit: number;
  /** Recompute UMAP, PCA and thumbnails even when cached ones match the embeddings. */
  rebuild: boolean;
}

export const DEFAULT_OPTIONS: ExploreOptions = { k: 12, thumbSize: 64, umapMaxFit: 10000, rebuild: false };

const KEYS: Record<string, keyof ExploreOptions> = { k: "k", thumb_size: "thumbSize", umap_max_fit: "umapMaxFit", rebuild: "rebuild" };
const LIMITS: Partial<Record<keyof ExploreOptions, [number, number]>> = { k: [1, 200], thumbSize: [8, 256], umapMaxFit: [100, 1_000_000] };

export function parseExploreArgs(overrides: readonly string[]): ExploreOptions {
  const opts = { ...DEFAULT_OPTIONS };
  for (const arg of overrides) {
    const eq = arg.indexOf("=");
    const key = arg.slice(0, eq), value = arg.slice(eq + 1);
    const field = KEYS[key];
    if (eq < 1 || !field) throw new ConfigError(key || arg, `unknown explore option (known: ${Object.keys(KEYS).join(", ")})`);
    if (field === "rebuild") {
      if (value !== "true" && value !== "false") throw new ConfigError(key, `expected true or false, got '${value}'`);
      opts.rebuild = value === "true";
      continue;
    }
    const v = Number(value), [lo, hi] = LIMITS[field]!;
    if (!Number.isInteger(v) || v < lo || v > hi) throw new ConfigError(key, `expected an integer in [${lo}, ${hi}], got '${value}'`);
    (opts[field] as number) = v;
  }
  return opts;
}
