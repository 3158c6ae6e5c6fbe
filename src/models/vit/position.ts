// Position embeddings for a patch grid: the fixed sine-cosine table is recomputed for any grid; a learned table is
// resampled bicubically (timm's resample_abs_pos_embed) when the grid differs from the one it was trained on.
import { op, cat, type Tensor } from "../../engine/index.ts";
import { sincos2d } from "./sincos.ts";

export type PosEmbedKind = "sincos" | "learned";

/** table [1, 1 + th·tw, D] built for a th × tw grid → [1, 1 + gh·gw, D] for a gh × gw grid (CLS row first). */
export function positionsFor(table: Tensor, kind: PosEmbedKind, built: [number, number], gh: number, gw: number): Tensor {
  if (built[0] === gh && built[1] === gw) return table;
  const dim = table.shape[2];
  if (kind === "sincos") return sincos2d(dim, gh, gw);
  const grid = table.narrow(1, 1, built[0] * built[1]).reshape([1, built[0], built[1], dim]).permute([0, 3, 1, 2]);
  const resized = op<Tensor>("upsample_bicubic2d.vec", grid, [gh, gw], false, null);
  return cat([table.narrow(1, 0, 1), resized.permute([0, 2, 3, 1]).reshape([1, gh * gw, dim])], 1);
}
