// Embedding throughput (not a test): resnet18_ae encoder, batch 64, 64×64, latent 64 — plain, BN-folded,
// folded + channels-last, and that under bf16 autocast. Median of 9 calls, 3 interleaved rounds.
// Run: THREADS=2 node --import tsx test/models-embed-speed.ts
import { rand, noGrad, tidy, setThreads, manualSeed, autocast } from "../src/engine/index.ts";
import { createModel, type EmbeddingModel } from "../src/models/index.ts";

setThreads(Number(process.env.THREADS ?? 2));
manualSeed(0);
const x = rand([64, 3, 64, 64]).keep();
const build = () => createModel("resnet18_ae", { inChannels: 3, latentDim: 64, imageSize: [64, 64] }).eval();

function imagesPerSecond(m: EmbeddingModel, bf16 = false): number {
  const ts: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t = performance.now();
    noGrad(() => tidy(() => void autocast(bf16, () => m.embed(x)).shape));
    ts.push(performance.now() - t);
  }
  return 64000 / ts.sort((a, b) => a - b)[4];
}

const plain = build();
const fused = build();
fused.fuseForInference!();
const fusedCl = build();
fusedCl.fuseForInference!();
fusedCl.toMemoryFormat("channels_last");
const rows: Record<string, number[]> = { plain: [], fused: [], fused_channels_last: [], fused_channels_last_bf16: [] };
for (let r = 0; r < 3; r++) {
  rows.plain.push(imagesPerSecond(plain));
  rows.fused.push(imagesPerSecond(fused));
  rows.fused_channels_last.push(imagesPerSecond(fusedCl));
  rows.fused_channels_last_bf16.push(imagesPerSecond(fusedCl, true));
}
for (const [k, v] of Object.entries(rows)) console.log(k.padEnd(26), v.map((n) => n.toFixed(0)).join(" "), "img/s");
