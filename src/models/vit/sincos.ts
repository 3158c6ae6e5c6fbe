// Fixed 2-D sine-cosine position embedding, exactly MAE's get_2d_sincos_pos_embed (float64 maths, float32 out):
// the first half of each vector encodes the patch column, the second half the row; a zero row for the CLS token.
import { tensor, type Tensor } from "../../engine/index.ts";
import { ConfigError } from "../../errors.ts";

function sincos1d(out: Float32Array, offset: number, dim: number, pos: number): void {
  const half = dim / 2;
  for (let d = 0; d < half; d++) {
    const omega = 1 / 10000 ** (d / half);
    out[offset + d] = Math.sin(pos * omega);
    out[offset + half + d] = Math.cos(pos * omega);
  }
}

/** [1, 1 + gh·gw, dim] with the CLS row first (all zeros). */
export function sincos2d(dim: number, gh: number, gw: number): Tensor {
  if (dim % 4 !== 0) throw new ConfigError("model.width", `a sine-cosine position embedding needs a width divisible by 4, got ${dim}`);
  const out = new Float32Array((1 + gh * gw) * dim);
  for (let r = 0; r < gh; r++)
    for (let c = 0; c < gw; c++) {
      const row = (1 + r * gw + c) * dim;
      sincos1d(out, row, dim / 2, c);
      sincos1d(out, row + dim / 2, dim / 2, r);
    }
  return tensor(out, [1, 1 + gh * gw, dim]);
}
