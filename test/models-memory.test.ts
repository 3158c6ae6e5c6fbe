// Memory: 2,000 training steps of a tiny conv autoencoder (16×16, batch 4, Adam, each step inside tidy)
// keep the process's resident memory flat after warm-up: RSS(step 2000) − RSS(step 500) < 20 MB.
// Run in its own file (own process) so other tests' allocations do not blur the measurement.
// The loop turns the event loop every 50 steps, as a real training loop does while awaiting its data loader:
// Node 20 runs N-API finalizers (which free each tensor handle's small native holder) from the event loop,
// so a loop that never yields keeps ~0.5 KB per created tensor until it does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { F, Optimizer, manualSeed, rand, tidy } from "../src/engine/index.ts";
import { BatchNorm2d, Conv2d, ConvTranspose2d, Lambda, Sequential } from "../src/models/index.ts";

const BOUND_MB = 20;

test(`2,000 training steps keep RSS flat after warm-up (growth from step 500 to 2000 < ${BOUND_MB} MB)`, async () => {
  manualSeed(0);
  const relu = new Lambda((x) => x.relu());
  const net = new Sequential(
    new Conv2d(1, 8, 3, 2, 1), new BatchNorm2d(8), relu,
    new Conv2d(8, 16, 3, 2, 1), new BatchNorm2d(16), relu,
    new ConvTranspose2d(16, 8, 4, 2, 1), relu,
    new ConvTranspose2d(8, 1, 4, 2, 1), new Lambda((x) => x.sigmoid()),
  );
  const opt = new Optimizer("adam", net.parameters(), { lr: 3e-3 });
  const data = rand([32, 1, 16, 16]).keep();
  const rss: Record<number, number> = {};
  const losses: number[] = [];
  for (let step = 1; step <= 2000; step++) {
    if (step % 50 === 0) await new Promise((r) => setImmediate(r));
    const loss = tidy(() => {
      opt.zeroGrad();
      const x = data.narrow(0, (step * 4) % 32, 4);
      const l = F.mseLoss(net.forward(x), x);
      l.backward();
      opt.step();
      return l.item();
    });
    if (step % 100 === 0) losses.push(loss);
    if (step === 500 || step === 2000) rss[step] = process.memoryUsage().rss / 2 ** 20;
  }
  const growth = rss[2000] - rss[500];
  console.log(`RSS step 500: ${rss[500].toFixed(1)} MB, step 2000: ${rss[2000].toFixed(1)} MB, growth ${growth.toFixed(2)} MB; loss ${losses[0].toFixed(4)} → ${losses.at(-1)!.toFixed(4)}`);
  assert.ok(growth < BOUND_MB, `RSS grew ${growth.toFixed(1)} MB`);
  assert.ok(losses.at(-1)! < losses[0], "the net learns");
  opt.dispose();
  net.dispose();
  data.dispose();
});
