// channel_mode=batch embeds every channel of an item as its own row; the item's embedding joins its rows:
// concatenated (channel order kept, C·D values) or averaged (D values, the same size whatever C is, so images
// with different channel counts share one table).
import { BieError } from "../errors.ts";

export type ChannelPool = "concat" | "mean";

/** embed.channel_pool with auto resolved: mean when the items are known to have different channel counts. */
export function channelPoolFor(mode: "auto" | ChannelPool, counts: readonly number[] | undefined): ChannelPool {
  if (mode !== "auto") return mode;
  return (counts?.length ?? 1) > 1 ? "mean" : "concat";
}

/**
 * Rows of a batch's embedding (item-major, itemRows[i] rows of D values for item i) → one row per item.
 * concat needs every item to have `expected` rows; describe(i) names item i in the error.
 */
export function poolItemRows(z: Float32Array, itemRows: readonly number[], pool: ChannelPool, expected: number, describe: (i: number) => string): Float32Array {
  const total = itemRows.reduce((a, r) => a + r, 0);
  const d = z.length / total;
  if (pool === "concat") {
    const odd = itemRows.findIndex((r) => r !== expected);
    if (odd >= 0)
      throw new BieError(
        "EMBED_CHANNELS",
        `${describe(odd)} has ${itemRows[odd]} channel(s), the first image ${expected}: concatenated per-channel embeddings need equal counts; set embed.channel_pool=mean`,
      );
    return z;
  }
  const out = new Float32Array(itemRows.length * d);
  let row = 0;
  itemRows.forEach((r, i) => {
    for (let k = 0; k < r; k++, row++) for (let j = 0; j < d; j++) out[i * d + j] += z[row * d + j] / r;
  });
  return out;
}
