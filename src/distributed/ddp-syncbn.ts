// Synchronised batch norm: in training, the statistics come from the global batch (all ranks) instead of
// each rank's slice, as torch.nn.SyncBatchNorm does. Differentiable all-reduces carry the per-channel sums
// (with the row count), then the squared deviations; their backward sums the gradients over ranks, so the
// result is the gradient of the global batch's loss. Eval mode is unchanged (running statistics).
import { cat, full, noGrad, type Tensor } from "../engine/index.ts";
import type { ProcessGroup } from "../engine/dist.ts";
import { BatchNorm2d } from "../models/nn/layers.ts";
import type { Module } from "../models/nn/module.ts";

/** Make every BatchNorm2d in the model synchronise over the group while training; returns how many. */
export function syncBatchNorm(model: Module, pg: ProcessGroup): number {
  let n = 0;
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    const perRank = m.forward.bind(m);
    // Replacing the instance's forward keeps the module tree, names and checkpoints exactly as they were.
    m.forward = (x: Tensor) => (m.training && !m.folded ? syncForward(m, x, pg) : perRank(x));
    n++;
  }
  return n;
}

function syncForward(bn: BatchNorm2d, xIn: Tensor, pg: ProcessGroup): Tensor {
  const x = xIn.dtype === "float32" ? xIn : xIn.to("float32"); // statistics in fp32, also under bf16 autocast
  const C = bn.channels;
  const shape = [1, C, 1, 1];
  // Two passes (mean, then squared deviations): E[x²]−E[x]² cancels badly when the mean is large against the
  // spread, e.g. deep layers with a few rows per rank.
  const first = pg.allReduceSum(cat([x.sum([0, 2, 3]), full([1], x.size / C)]));
  const count = first.narrow(0, C, 1).item();
  const mean = first.narrow(0, 0, C).div(count);
  const centred = x.sub(mean.reshape(shape));
  const variance = pg.allReduceSum(centred.square().sum([0, 2, 3])).div(count); // biased, as batch norm normalises
  const y = centred.mul(variance.add(bn.eps).rsqrt().mul(bn.weight).reshape(shape)).add(bn.bias.reshape(shape));
  noGrad(() => {
    const m = bn.momentum;
    bn.runningMean.mulInPlace(1 - m).addInPlace(mean.detach(), m);
    bn.runningVar.mulInPlace(1 - m).addInPlace(variance.detach().mul(count / Math.max(1, count - 1)), m);
    bn.numBatchesTracked.addInPlace(1);
  });
  return y;
}
