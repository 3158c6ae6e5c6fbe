// Vector quantiser with an exponential-moving-average codebook (van den Oord et al. 2017, appendix; the
// PyTorch "VectorQuantizerEMA" formulation with Laplace-smoothed cluster sizes). The codebook is not trained
// by gradients: each training forward moves every code toward the mean of the vectors assigned to it.
import { F, noGrad, op, type Tensor } from "../engine/index.ts";
import { Module } from "./nn/module.ts";
import { normal } from "./nn/layers.ts";
import { ones } from "../engine/index.ts";

export interface Quantized {
  /** Straight-through output: forward value = nearest codes, gradient flows to the inputs unchanged. */
  quantized: Tensor;
  /** Code index per input row, int64 [N]. */
  indices: Tensor;
  /** ‖z − sg(q)‖² mean: pulls encoder outputs toward their codes (weighted by the commitment cost). */
  commitment: Tensor;
  /** ‖sg(z) − q‖² mean (detached): what a gradient-trained codebook would minimise; reported only. */
  codebookLoss: Tensor;
  /** exp(entropy) of code usage in this batch (detached). */
  perplexity: Tensor;
}

export class VectorQuantizerEMA extends Module {
  readonly embedding: Tensor;
  readonly emaClusterSize: Tensor;
  readonly emaW: Tensor;
  constructor(readonly codebookSize: number, readonly codeDim: number, readonly decay = 0.99, readonly eps = 1e-5) {
    super();
    this.embedding = this.buffer("embedding", normal([codebookSize, codeDim], 1));
    // cluster sizes start at 1 and ema_w at the codes, so an unused code decays in both and stays put
    this.emaClusterSize = this.buffer("ema_cluster_size", ones([codebookSize]));
    this.emaW = this.buffer("ema_w", noGrad(() => this.embedding.clone()));
  }

  /** z: [N, codeDim]. With update (default: in training mode) also moves the codebook (EMA). */
  forward(z: Tensor, update = this.training): Quantized {
    // Distances and EMA sums in float64: bf16 autocast leaves float64 alone, so code choice stays exact.
    const { indices, onehot } = noGrad(() => {
      const z64 = z.to("float64");
      const e = this.embedding.to("float64");
      const d = z64.square().sum(1, true).add(e.square().sum(1)).sub(z64.mm(e.T), 2);
      const indices = d.argmin(1);
      return { indices, onehot: op<Tensor>("one_hot", indices, this.codebookSize).to("float64") };
    });
    const q = this.embedding.indexSelect(0, indices); // codes before this step's update
    const commitment = F.mseLoss(z, q);
    const stats = noGrad(() => {
      const p = onehot.mean(0).to("float32");
      return { codebookLoss: commitment.detach(), perplexity: p.mul(p.add(1e-10).log()).sum().neg().exp() };
    });
    if (update) this.update(z, onehot);
    const quantized = z.add(q.sub(z).detach());
    return { quantized, indices, commitment, ...stats };
  }

  private update(z: Tensor, onehot: Tensor): void {
    noGrad(() => {
      const a = 1 - this.decay;
      this.emaClusterSize.mulInPlace(this.decay).addInPlace(onehot.sum(0).to("float32"), a);
      const n = this.emaClusterSize.sum().item();
      const k = this.codebookSize;
      this.emaClusterSize.copyFrom(this.emaClusterSize.add(this.eps).mul(n / (n + k * this.eps)));
      this.emaW.mulInPlace(this.decay).addInPlace(onehot.T.mm(z.detach().to("float64")).to("float32"), a);
      this.embedding.copyFrom(this.emaW.div(this.emaClusterSize.unsqueeze(1)));
    });
  }
}
