// The reference decoder of shared/anchors/torch_bench.py, generalised: linear → width×h×w, then five
// (nearest ×2, 3×3 conv, BN, ReLU) stages halving the channels (512 → 256 … 16; 2048 → 1024 … 64),
// a 3×3 conv to the image channels and a sigmoid (inputs live in [0, 1]).
import { F, type Tensor } from "../engine/index.ts";
import { Module, Sequential } from "./nn/module.ts";
import { BatchNorm2d, Conv2d, Lambda, Linear } from "./nn/layers.ts";

export const UPSAMPLE_STAGES = 5; // 2^5 = 32, the encoder's total stride

export class UpDecoder extends Module {
  readonly fc: Linear;
  readonly ups: Sequential;
  readonly out: Conv2d;
  /**
   * @param width channels of the first feature map (the encoder's final width)
   * @param grid [h, w] of the first feature map (padded image size / 32)
   */
  constructor(readonly latentDim: number, readonly width: number, readonly grid: [number, number], readonly outChannels: number) {
    super();
    this.fc = this.child("fc", new Linear(latentDim, width * grid[0] * grid[1]));
    const layers: Module[] = [];
    let cin = width;
    for (let i = 1; i <= UPSAMPLE_STAGES; i++) {
      const c = width >> i;
      // same indices as the reference nn.Sequential: 4i+0 upsample, +1 conv, +2 bn, +3 relu
      layers.push(new Lambda((x) => F.interpolate(x, { scale: 2, mode: "nearest" })), new Conv2d(cin, c, 3, 1, 1, { bias: false }), new BatchNorm2d(c), new Lambda((x) => x.relu()));
      cin = c;
    }
    this.ups = this.child("ups", new Sequential(...layers));
    this.out = this.child("out", new Conv2d(cin, outChannels, 3, 1, 1));
  }
  /** [B, latent] → [B, outChannels, 32h, 32w] in (0, 1). */
  forward(z: Tensor): Tensor {
    const [h, w] = this.grid;
    const y = this.fc.forward(z).reshape([-1, this.width, h, w]);
    return this.out.forward(this.ups.forward(y)).sigmoid();
  }
  fold(): void {
    const l = this.ups.layers;
    for (let i = 1; i < l.length; i += 4) (l[i] as Conv2d).foldBatchNorm(l[i + 1] as BatchNorm2d);
  }
}
