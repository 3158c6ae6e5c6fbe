// MAE's objective: mean squared error per token over its pixels, averaged over the masked tokens only;
// optionally against per-patch normalised targets (norm_pix_loss), which the paper found gives better features.
import type { Tensor } from "../../engine/index.ts";

const NORM_EPS = 1e-6;

/** Per-token mean and std (unbiased variance + 1e-6, as MAE), each [B, L, 1]. */
export function patchStats(target: Tensor): { mean: Tensor; std: Tensor } {
  return { mean: target.mean(-1, true), std: target.var(-1, true, true).add(NORM_EPS).sqrt() };
}

/** pred, target [B, L, P]; mask [B, L] with 1 = masked. */
export function maskedPatchLoss(pred: Tensor, target: Tensor, mask: Tensor, normPix: boolean): Tensor {
  let t = target;
  if (normPix) {
    const { mean, std } = patchStats(target);
    t = t.sub(mean).div(std);
  }
  const perToken = pred.to("float32").sub(t).square().mean(-1);
  return perToken.mul(mask).sum().div(mask.sum());
}

/** Decoder output back in pixel units: undo the per-patch normalisation with the target's own statistics. */
export function predictionPixels(pred: Tensor, target: Tensor, normPix: boolean): Tensor {
  const p = pred.to("float32");
  if (!normPix) return p;
  const { mean, std } = patchStats(target);
  return p.mul(std).add(mean);
}
