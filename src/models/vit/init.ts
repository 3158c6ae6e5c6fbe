// MAE's initialisation (facebookresearch/mae initialize_weights): Xavier-uniform linear and patch weights,
// zero biases, N(0, 0.02²) tokens. The layers' own torch defaults are replaced after construction.
import { noGrad, tidy, type Tensor } from "../../engine/index.ts";
import { Linear, uniform, normal } from "../nn/layers.ts";

/** Xavier/Glorot uniform for a weight whose dim 0 is fan-out and the rest fan-in (linear or conv). */
export function xavierUniformInPlace(w: Tensor): void {
  const fanOut = w.shape[0];
  const fanIn = w.size / fanOut;
  noGrad(() => tidy(() => w.setData(uniform(w.shape, Math.sqrt(6 / (fanIn + fanOut))))));
}

export function initLinear(l: Linear): Linear {
  xavierUniformInPlace(l.weight);
  if (l.bias) noGrad(() => l.bias!.zero());
  return l;
}

/** N(0, std²), as MAE does for CLS/mask tokens and we do for channel embeddings. */
export const tokenInit = (shape: number[], std = 0.02): Tensor => normal(shape, std);
