// `npm run bench -- explorer [n=100000] [d=16] [frames=180]`
// Frame time of the explorer's map while panning and zooming 100k points in headless Chromium: the renderer the
// page picks by itself ("auto"), then each one forced (WebGL — SwiftShader here, as the machine has no GPU — and
// the CPU canvas rasteriser). A synthetic run
// folder (clustered Gaussian embeddings, a label column, a ready-made 2-D map seeded into the UMAP cache so no
// UMAP is fitted) is served by the real explorer server. Each measured frame is a requestAnimationFrame callback
// that moves the camera and draws synchronously; frame time = interval between consecutive callbacks, which
// includes compositing. Target: median ≤ 33 ms while panning. → bench/results/explorer.json
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { writeNpy } from "../src/io/npy.ts";
import { startExplorer } from "../src/web/index.ts";
import { writeUmapCache } from "../src/web/projection.ts";
import { DEFAULT_OPTIONS } from "../src/web/options.ts";
import { sha256File } from "../src/web/run-data.ts";
import { median, round, writeResult } from "./common.ts";

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"];
const TARGET_MS = 33;

function option(args: string[], name: string, fallback: number): number {
  const a = args.find((x) => x.startsWith(`${name}=`));
  return a ? Number(a.slice(name.length + 1)) : fallback;
}

/** n points in 12 Gaussian clusters, in d dims (the embedding) and in 2-D (the map). */
async function syntheticRun(dir: string, n: number, d: number): Promise<void> {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const K = 12;
  const centres = Array.from({ length: K }, () => Array.from({ length: d }, () => 4 * gauss()));
  const X = new Float32Array(n * d), xy = new Float32Array(n * 2);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rand() * K);
    labels.push(`cluster_${k}`);
    for (let f = 0; f < d; f++) X[i * d + f] = centres[k][f] + gauss();
    const a = (2 * Math.PI * k) / K;
    xy[2 * i] = 10 * Math.cos(a) + 1.5 * gauss();
    xy[2 * i + 1] = 10 * Math.sin(a) + 1.5 * gauss();
  }
  await writeNpy(join(dir, "embeddings.npy"), X, [n, d]);
  writeFileSync(join(dir, "index.csv"), "index,id,label\n" + labels.map((l, i) => `${i},item_${i},${l}`).join("\n") + "\n");
  await writeUmapCache(dir, await sha256File(join(dir, "embeddings.npy")), DEFAULT_OPTIONS.umapMaxFit, xy, { synthetic: true });
}

interface Frames { intervals: number[]; draws: number[] }

export default async function (args: string[]): Promise<void> {
  const n = option(args, "n", 100_000), d = option(args, "d", 16), frames = option(args, "frames", 180);
  const tmp = mkdtempSync(join(tmpdir(), "bie-bench-explorer-"));
  const run = join(tmp, "synthetic");
  const load0 = loadavg()[0];
  console.log(`explorer bench: ${n} points × ${d} dims, ${frames} frames per measurement (load average ${round(load0, 1)})`);
  await syntheticRun(run, n, d);
  const ex = await startExplorer(run, { port: 0 });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  const results: Record<string, unknown> = {};
  try {
    for (const renderer of ["auto", "webgl", "canvas"] as const) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.on("pageerror", (e) => console.error(`  page error: ${e.message}`));
      const t0 = performance.now();
      await page.goto(`${ex.url}?renderer=${renderer}`);
      type W = { __explorer?: { state: { ready: boolean; error: string | null } } };
      await page.waitForFunction(() => (window as never as W).__explorer?.state.ready || (window as never as W).__explorer?.state.error, null, { timeout: 300_000 });
      const error = await page.evaluate("window.__explorer.state.error");
      if (error) throw new Error(`the page failed: ${error}`);
      const readyMs = performance.now() - t0;
      const kind = await page.evaluate("window.__explorer.renderer");
      const measure = (move: "pan" | "zoom") =>
        page.evaluate(
          `new Promise((done) => {
            const E = window.__explorer, intervals = [], draws = [];
            let last = -1, i = 0;
            const step = (t) => {
              if (last >= 0) intervals.push(t - last);
              last = t;
              if (i++ === ${frames}) return done({ intervals, draws });
              if (${JSON.stringify(move)} === "pan") E.view.panBy(6 * Math.cos(i / 15), 4 * Math.sin(i / 15));
              else E.view.zoomAt(E.view.width / 2, E.view.height / 2, i % 60 < 30 ? 1.03 : 1 / 1.03);
              draws.push(E.drawNow());
              requestAnimationFrame(step);
            };
            requestAnimationFrame(step);
          })`,
        ) as Promise<Frames>;
      await measure("pan"); // warm-up: JIT, buffers, caches
      const summary = (f: Frames) => ({
        median_frame_ms: round(median(f.intervals)), p95_frame_ms: round(f.intervals.slice().sort((a, b) => a - b)[Math.floor(0.95 * (f.intervals.length - 1))]),
        fps: round(1000 / median(f.intervals), 1), median_draw_cpu_ms: round(median(f.draws)),
      });
      const pan = summary(await measure("pan")), zoom = summary(await measure("zoom"));
      results[renderer] = { renderer: kind, ready_ms: Math.round(readyMs), pan, zoom };
      console.log(`  ${renderer} (${kind}): ready in ${Math.round(readyMs)} ms; pan median ${pan.median_frame_ms} ms (p95 ${pan.p95_frame_ms}, draw ${pan.median_draw_cpu_ms} ms CPU); zoom median ${zoom.median_frame_ms} ms`);
      await page.close();
    }
  } finally {
    await browser.close();
    await ex.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  const panMedian = (k: string) => (results[k] as { pan: { median_frame_ms: number } }).pan.median_frame_ms;
  const file = await writeResult("explorer", {
    points: n, dims: d, frames, viewport: [1280, 800], target_ms: TARGET_MS,
    meets_target: Object.fromEntries(Object.keys(results).map((k) => [k, panMedian(k) <= TARGET_MS])),
    ...results,
    chromium: (await import("node:child_process")).execFileSync("/usr/bin/chromium", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(),
    load_average: [round(load0, 1), round(loadavg()[0], 1)],
    command: `npm run bench -- explorer n=${n} d=${d} frames=${frames}`,
    date: new Date().toISOString(),
  });
  console.log(`→ ${file}`);
}
