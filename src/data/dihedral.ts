// The 8 symmetries of a square image (4 quarter turns × optional mirror) applied to a whole NCHW batch, for
// test-time averaging of embeddings: an embedding averaged over them no longer depends on how the cell happened
// to lie (what the reference study found helped most). Non-square images have 4 (identity, flips, half turn).

/** How many symmetries an h×w image has. */
export function dihedralCount(h: number, w: number): number {
  return h === w ? 8 : 4;
}

/**
 * Symmetry k (0 ≤ k < dihedralCount) of a [B, C, H, W] batch; k = 0 is the identity. Square: a horizontal
 * mirror when k ≥ 4, then k & 3 quarter turns (torch.rot90(x.flip(-1) if k ≥ 4 else x, k & 3, (-2, -1))). Otherwise: identity, horizontal flip, vertical flip, half turn.
 */
export function dihedralTransform(x: Float32Array, shape: readonly number[], k: number): Float32Array {
  const [b, c, h, w] = shape;
  if (k === 0) return x;
  const out = new Float32Array(x.length);
  // (r, col) of the output reads the input at src(r, col).
  let src: (r: number, col: number) => number;
  if (h === w) {
    const turns = k & 3, mirror = k >= 4;
    // Output = quarter turns of the mirrored image: find where the turns read from, then mirror that column.
    src = (r, col) => {
      let sr = r, sc = col;
      for (let t = 0; t < turns; t++) [sr, sc] = [sc, h - 1 - sr]; // one quarter turn counter-clockwise
      return sr * w + (mirror ? w - 1 - sc : sc);
    };
  } else {
    if (k > 3) throw new RangeError(`a ${h}×${w} image has 4 symmetries, asked for #${k}`);
    const vflip = k === 2 || k === 3, hflip = k === 1 || k === 3;
    src = (r, col) => (vflip ? h - 1 - r : r) * w + (hflip ? w - 1 - col : col);
  }
  const map = new Int32Array(h * w);
  for (let r = 0; r < h; r++) for (let col = 0; col < w; col++) map[r * w + col] = src(r, col);
  const plane = h * w;
  for (let p = 0; p < b * c; p++) {
    const o = p * plane;
    for (let i = 0; i < plane; i++) out[o + i] = x[o + map[i]];
  }
  return out;
}
