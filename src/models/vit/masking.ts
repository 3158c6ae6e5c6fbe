// MAE's per-sample random masking: sort uniform noise, keep the first (1 − ratio)·L tokens. The noise comes from
// the engine's RNG (torch.rand), so a seed reproduces the masks; tests pass their own noise.
import { getRngState, manualSeed, op, rand, setRngState, type Tensor } from "../../engine/index.ts";
import { ConfigError } from "../../errors.ts";

export interface Masked {
  /** [B, keep, D]: the visible tokens, in shuffled order. */
  visible: Tensor;
  /** [B, L] float: 1 where the token was removed (MAE's convention). */
  mask: Tensor;
  /** [B, L] int64: where each original token sits in the shuffled order (to unshuffle the decoder input). */
  idsRestore: Tensor;
}

/** Tokens kept at this ratio: Python's int(L · (1 − ratio)), at least one. */
export function keptCount(tokens: number, ratio: number): number {
  if (!(ratio >= 0 && ratio < 1)) throw new ConfigError("model.mask_ratio", `must be in [0, 1), got ${ratio}`);
  return Math.max(1, Math.trunc(tokens * (1 - ratio)));
}

export function randomMasking(x: Tensor, ratio: number, noise?: Tensor): Masked {
  const [b, l, d] = x.shape;
  const keep = keptCount(l, ratio);
  const n = noise ?? rand([b, l]);
  const idsShuffle = op<Tensor>("argsort", n, 1, false);
  const idsRestore = op<Tensor>("argsort", idsShuffle, 1, false);
  const idsKeep = idsShuffle.narrow(1, 0, keep);
  const visible = x.gather(1, idsKeep.unsqueeze(-1).expand([b, keep, d]));
  // A token is kept iff its place in the shuffled order is < keep: the same mask as MAE's gather of ones/zeros.
  const mask = idsRestore.ge(keep).to("float32");
  return { visible, mask, idsRestore };
}

/** Noise from a fixed seed, leaving the global RNG where it was (stable validation masks across epochs). */
export function fixedNoise(shape: number[], seed: number): Tensor {
  const saved = getRngState();
  try {
    manualSeed(seed);
    return rand(shape);
  } finally {
    setRngState(saved);
    saved.dispose();
  }
}
