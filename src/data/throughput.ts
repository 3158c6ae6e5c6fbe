// Loader throughput: images/s prepared (decode + normalise + fit + augment) with no consumer work, so the
// figure is the most the data pipeline can feed the trainer.
//   node --import tsx src/data/throughput.ts [data.path] [workers,...] [key=value ...]
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { resolveConfig } from "../config/index.ts";
import { dataForConfig } from "./index.ts";

export interface ThroughputRow {
  workers: number;
  epoch: number;
  images: number;
  seconds: number;
  imgPerSec: number;
  firstBatchMs: number;
}

/** Two epochs of the train split per worker count: epoch 0 includes starting the threads, epoch 1 is warm. */
export async function measureThroughput(overrides: string[], workerCounts: number[]): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  for (const workers of workerCounts) {
    const cfg = resolveConfig({ overrides: [...overrides, `data.workers=${workers}`], uniqueName: false });
    const data = await dataForConfig(cfg);
    try {
      for (const epoch of [0, 1]) {
        const t0 = performance.now();
        let images = 0, first = 0;
        for await (const b of data.loader("train", { epoch })) {
          if (!first) first = performance.now() - t0;
          images += b.indices.length;
        }
        const seconds = (performance.now() - t0) / 1000;
        rows.push({ workers, epoch, images, seconds, imgPerSec: images / seconds, firstBatchMs: first });
      }
    } finally {
      await data.close();
    }
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [path = "../shared/data/jurkat/cells_exp1", counts = "0,1,2", ...rest] = process.argv.slice(2);
  const rows = await measureThroughput([`data.path=${path}`, "batch_size=16", ...rest], counts.split(",").map(Number));
  for (const r of rows)
    console.log(`workers=${r.workers} epoch=${r.epoch} ${r.images} images ${r.seconds.toFixed(2)} s ${r.imgPerSec.toFixed(0)} img/s (first batch ${r.firstBatchMs.toFixed(0)} ms)`);
}
