// Related views for the group contrastive term (issue 13): which rows of a batch belong together — the channels
// of one image (channel_mode=batch) or items sharing manifest values (well, plate, z, t, a replicate id) — and
// the term itself, computed on the latent the model's forward pass already produced.
import type { Tensor } from "../engine/index.ts";
import type { Config } from "../config/index.ts";
import { ConfigError } from "../errors.ts";
import type { Item } from "../data/index.ts";
import { ntXent, groupPull } from "./contrastive.ts";

/** The item fields a group name can also mean, besides manifest (meta) columns. */
const ITEM_FIELDS = ["label", "group", "id"] as const;
/** The group name for "the channels of one image". */
export const CHANNEL = "channel";
/** The group name for "the symmetry views of one outline" (task=shapes, shapes.views ≥ 2). */
export const VIEW = "view";

export interface RelatedViews {
  /** Group key of every item (null: groups are per image only, i.e. groups = [channel]). */
  itemKeys: Int32Array | null;
  /** One group number per batch row (rows are item-major: rowsPerItem rows per item, or per item its own count). */
  rowGroups(indices: readonly number[], rowsPerItem: number | readonly number[]): Int32Array;
}

/** The value of one group column for an item: a manifest column, else the item field of that name. */
function fieldOf(it: Item, name: string): string | null {
  if (name in it.meta) return it.meta[name];
  return it[name as (typeof ITEM_FIELDS)[number]] ?? null;
}

/**
 * Group numbers for items: rows agreeing on every listed column share a number. An item with an empty value in
 * a group column gets a group of its own (it has no positives). Returns null when no column is listed.
 */
export function itemGroupKeys(items: readonly Item[], columns: readonly string[]): Int32Array | null {
  if (columns.length === 0) return null;
  const known = new Set<string>([...ITEM_FIELDS, ...items.flatMap((it) => Object.keys(it.meta))]);
  for (const c of columns)
    if (!known.has(c)) throw new ConfigError("contrastive.groups", `'${c}' is not a manifest column (columns: ${[...known].join(", ")}; or '${CHANNEL}' with data.channel_mode=batch)`);
  const ids = new Map<string, number>();
  const keys = new Int32Array(items.length);
  items.forEach((it, i) => {
    const parts = columns.map((c) => fieldOf(it, c));
    const k = parts.some((p) => p === null || p === "") ? `\u0000solo${i}` : JSON.stringify(parts);
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    keys[i] = id;
  });
  return keys;
}

/** What the config asks for, checked against the data; null when the contrastive term is off. */
export function relatedViews(cfg: Config, items: readonly Item[], channelsPerItem: number): RelatedViews | null {
  const c = cfg.contrastive;
  if (!(c.weight > 0)) return null;
  if (c.groups.length === 0) throw new ConfigError("contrastive.groups", "is empty: name the manifest columns that make views related, or 'channel'");
  if (c.groups.includes(VIEW)) {
    if (cfg.task !== "shapes" || cfg.shapes.views < 2)
      throw new ConfigError("contrastive.groups", `'${VIEW}' relates the symmetry views of one outline, which needs task=shapes and shapes.views ≥ 2 (have task=${cfg.task}, shapes.views=${cfg.shapes.views})`);
    if (c.groups.length > 1) throw new ConfigError("contrastive.groups", `'${VIEW}' cannot be combined with other groups`);
    return { itemKeys: null, rowGroups: (indices, rowsPerItem) => rowsOfItems(indices, rowsPerItem, null) };
  }
  const byChannel = c.groups.includes(CHANNEL);
  if (byChannel && cfg.data.channel_mode !== "batch")
    throw new ConfigError("contrastive.groups", `'${CHANNEL}' relates the channels of one image, which needs data.channel_mode=batch`);
  if (byChannel && channelsPerItem < 2) throw new ConfigError("contrastive.groups", `'${CHANNEL}' needs images with 2 or more channels; these have ${channelsPerItem}`);
  // 'channel' with other columns: rows of one image always agree on the item's columns, so the image decides.
  // The manifest's label and group columns live in the item's label/group fields, not in its metadata.
  const columns = c.groups.map((g) => (g === cfg.data.group_column ? "group" : g === cfg.data.label_column ? "label" : g));
  const itemKeys = byChannel ? null : itemGroupKeys(items, columns);
  return {
    itemKeys,
    rowGroups: (indices, rowsPerItem) => rowsOfItems(indices, rowsPerItem, itemKeys),
  };
}

/** One group number per batch row: the item's key, or the item itself when there are no keys. */
function rowsOfItems(indices: readonly number[], rowsPerItem: number | readonly number[], itemKeys: Int32Array | null): Int32Array {
  const rows = typeof rowsPerItem === "number" ? indices.map(() => rowsPerItem) : rowsPerItem;
  const out = new Int32Array(rows.reduce((a, r) => a + r, 0));
  let o = 0;
  indices.forEach((idx, i) => out.fill(itemKeys ? itemKeys[idx] : idx, o, (o += rows[i])));
  return out;
}

/** The contrastive term on a [B, D] latent (fp32 whatever the autocast precision). */
export function contrastiveTerm(cfg: Config, latent: Tensor, groups: Int32Array): Tensor {
  const z = latent.dtype === "float32" ? latent : latent.to("float32");
  return cfg.contrastive.kind === "pull" ? groupPull(z, groups) : ntXent(z, groups, cfg.contrastive.temperature);
}

/** Add the weighted term to a loss (the model's, or the model's plus task penalties); terms gain `contrastive`. */
export function withContrastive<T extends { total: Tensor; terms: Record<string, Tensor>; latent?: Tensor }>(cfg: Config, out: T, latent: Tensor, groups: Int32Array): T {
  const term = contrastiveTerm(cfg, latent, groups);
  return { ...out, total: out.total.add(term.mul(cfg.contrastive.weight)), terms: { ...out.terms, contrastive: term } };
}
