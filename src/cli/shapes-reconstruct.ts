// `bie shapes reconstruct RUN [part=test] [count=24] [out=RUN/shape_recon]`: decode a shape run's outlines back
// to contours (MDS + Procrustes), write the input-vs-reconstruction figure (SVG) and the per-shape numbers.
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { ConfigError } from "../errors.ts";
import { takeOptions } from "../config/verb-options.ts";
import { reconstructShapes, shapeReconSvg } from "../train/shape-recon.ts";

const PARTS = ["train", "val", "test", "all"] as const;

export async function shapesReconstructCommand(inputs: string[], overrides: string[]): Promise<void> {
  const { opts, rest } = takeOptions(overrides, { part: "string", count: "int", out: "string" });
  if (rest.length) throw new ConfigError(rest[0].split("=")[0], "unknown option (shapes reconstruct takes part=, count=, out=)");
  const run = inputs[0];
  if (!run) throw new ConfigError("run", "give the run folder of a task=shapes training");
  const part = (opts.part ?? "test") as (typeof PARTS)[number];
  if (!PARTS.includes(part)) throw new ConfigError("part", `expected one of ${PARTS.join(", ")}, got '${part}'`);
  const count = (opts.count ?? 24) as number;
  if (count < 1) throw new ConfigError("count", `expected a positive integer, got '${count}'`);
  const res = await reconstructShapes(resolve(run), { part });
  // The figure: evenly spaced items of the part, so it is not only the easy or the hard ones.
  const step = Math.max(1, res.items.length / count);
  const shown = Array.from({ length: Math.min(count, res.items.length) }, (_, k) => res.items[Math.floor(k * step)]);
  const title = `${run}: ${res.part} outlines (black) and decoded (red) · mean IoU ${res.meanIou.toFixed(3)} over ${res.items.length}`;
  const out = resolve(opts.out ?? join(run, "shape_recon"));
  await writeFileAtomic(`${out}.svg`, shapeReconSvg(shown, { title }));
  const rows = res.items.map((i) => ({ id: i.id, iou: +i.iou.toFixed(4), rms: +i.rms.toFixed(4) }));
  await writeFileAtomic(`${out}.json`, JSON.stringify({ part: res.part, units: res.units, items: res.items.length, mean_iou: res.meanIou, median_rms: res.medianRms, rows }, null, 2) + "\n");
  console.log(`${res.items.length} ${res.part} shapes: mean IoU ${res.meanIou.toFixed(3)}, median point RMS ${res.medianRms.toFixed(3)} ${res.units}`);
  console.error(`wrote ${out}.svg and ${out}.json`);
}
