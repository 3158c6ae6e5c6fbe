// ResNet encoders with torchvision's layout and parameter names (conv1, bn1, layer1.0.conv1, ...,
// layer2.0.downsample.0/1, fc), so torchvision/timm weights load by name and parameter counts agree.
import { F, type Tensor } from "../engine/index.ts";
import { ConfigError } from "../errors.ts";
import { Module, Sequential } from "./nn/module.ts";
import { BatchNorm2d, Conv2d, Linear } from "./nn/layers.ts";

const kaiming = { bias: false, init: "kaiming_fan_out" } as const;

interface Block extends Module {
  forward(x: Tensor): Tensor;
  fold(): void;
}

export class BasicBlock extends Module implements Block {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  constructor(inPlanes: number, planes: number, stride: number) {
    super();
    this.conv1 = this.child("conv1", new Conv2d(inPlanes, planes, 3, stride, 1, kaiming));
    this.bn1 = this.child("bn1", new BatchNorm2d(planes));
    this.conv2 = this.child("conv2", new Conv2d(planes, planes, 3, 1, 1, kaiming));
    this.bn2 = this.child("bn2", new BatchNorm2d(planes));
    this.downsample = stride !== 1 || inPlanes !== planes ? this.child("downsample", shortcut(inPlanes, planes, stride)) : null;
  }
  forward(x: Tensor): Tensor {
    const y = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
    return y.add(this.downsample ? this.downsample.forward(x) : x).relu();
  }
  fold(): void {
    this.conv1.foldBatchNorm(this.bn1);
    this.conv2.foldBatchNorm(this.bn2);
    foldShortcut(this.downsample);
  }
}

export class Bottleneck extends Module implements Block {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;
  constructor(inPlanes: number, planes: number, stride: number) {
    super();
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.child("conv1", new Conv2d(inPlanes, planes, 1, 1, 0, kaiming));
    this.bn1 = this.child("bn1", new BatchNorm2d(planes));
    this.conv2 = this.child("conv2", new Conv2d(planes, planes, 3, stride, 1, kaiming)); // stride on the 3×3 (torchvision v1.5)
    this.bn2 = this.child("bn2", new BatchNorm2d(planes));
    this.conv3 = this.child("conv3", new Conv2d(planes, out, 1, 1, 0, kaiming));
    this.bn3 = this.child("bn3", new BatchNorm2d(out));
    this.downsample = stride !== 1 || inPlanes !== out ? this.child("downsample", shortcut(inPlanes, out, stride)) : null;
  }
  forward(x: Tensor): Tensor {
    let y = this.bn1.forward(this.conv1.forward(x)).relu();
    y = this.bn2.forward(this.conv2.forward(y)).relu();
    y = this.bn3.forward(this.conv3.forward(y));
    return y.add(this.downsample ? this.downsample.forward(x) : x).relu();
  }
  fold(): void {
    this.conv1.foldBatchNorm(this.bn1);
    this.conv2.foldBatchNorm(this.bn2);
    this.conv3.foldBatchNorm(this.bn3);
    foldShortcut(this.downsample);
  }
}

function shortcut(inPlanes: number, outPlanes: number, stride: number): Sequential {
  return new Sequential(new Conv2d(inPlanes, outPlanes, 1, stride, 0, kaiming), new BatchNorm2d(outPlanes));
}
function foldShortcut(s: Sequential | null): void {
  if (s) (s.layers[0] as Conv2d).foldBatchNorm(s.layers[1] as BatchNorm2d);
}

export type ResNetDepth = 18 | 34 | 50 | 101 | 152;
const CONFIGS: Record<ResNetDepth, { block: "basic" | "bottleneck"; layers: [number, number, number, number] }> = {
  18: { block: "basic", layers: [2, 2, 2, 2] },
  34: { block: "basic", layers: [3, 4, 6, 3] },
  50: { block: "bottleneck", layers: [3, 4, 6, 3] },
  101: { block: "bottleneck", layers: [3, 4, 23, 3] },
  152: { block: "bottleneck", layers: [3, 8, 36, 3] },
};
export const RESNET_DEPTHS = Object.keys(CONFIGS).map(Number) as ResNetDepth[];

/** Channels of the last feature map: 512 for ResNet18/34, 2048 for ResNet50+. */
export function resnetWidth(depth: ResNetDepth): number {
  return CONFIGS[depth].block === "basic" ? 512 : 2048;
}

/**
 * torchvision's ResNet with any input channel count; `fc` maps the globally pooled features to `outFeatures`
 * (the latent, or 2×latent for a VAE's mean and log-variance).
 */
export class ResNetEncoder extends Module {
  readonly width: number;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly stages: Sequential[];
  readonly fc: Linear;
  constructor(readonly depth: ResNetDepth, readonly inChannels: number, readonly outFeatures: number) {
    super();
    const cfg = CONFIGS[depth];
    if (!cfg) throw new ConfigError("model", `ResNet depth ${depth} is not one of ${RESNET_DEPTHS.join(", ")}`);
    const Block = cfg.block === "basic" ? BasicBlock : Bottleneck;
    this.conv1 = this.child("conv1", new Conv2d(inChannels, 64, 7, 2, 3, kaiming));
    this.bn1 = this.child("bn1", new BatchNorm2d(64));
    let inPlanes = 64;
    this.stages = [64, 128, 256, 512].map((planes, i) => {
      const blocks: Module[] = [];
      for (let b = 0; b < cfg.layers[i]; b++) {
        blocks.push(new Block(inPlanes, planes, b === 0 && i > 0 ? 2 : 1));
        inPlanes = planes * Block.expansion;
      }
      return this.child(`layer${i + 1}`, new Sequential(...blocks));
    });
    this.width = inPlanes;
    this.fc = this.child("fc", new Linear(inPlanes, outFeatures));
  }
  /** [B, C, H, W] → [B, width, H/32, W/32] (H, W multiples of 32). */
  features(x: Tensor): Tensor {
    let y = F.maxPool2d(this.bn1.forward(this.conv1.forward(x)).relu(), 3, 2, 1);
    for (const s of this.stages) y = s.forward(y);
    return y;
  }
  /** Global average pool + linear, as torchvision's avgpool + fc. */
  head(features: Tensor): Tensor {
    return this.fc.forward(F.adaptiveAvgPool2d(features, 1).flatten(1));
  }
  forward(x: Tensor): Tensor {
    return this.head(this.features(x));
  }
  /** Fold every batch norm into its conv (eval-mode running statistics). */
  fold(): void {
    this.conv1.foldBatchNorm(this.bn1);
    for (const s of this.stages) for (const b of s.layers) (b as Block).fold();
  }
}
