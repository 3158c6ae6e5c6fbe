// Embedding throughput: our native engine and onnxruntime (bench/embed-worker.ts) beside PyTorch's embed line of
// shared/anchors/torch_bench.py (same ResNet18 encoder, 3×64×64, latent 64, batch 64, 2 threads), alternating
// the three in one run (the machine is shared and noisy) and taking medians over repeats.
import { median, runJsonLines, writeResult, round, sharedDir } from "./common.ts";

type Row = Record<string, unknown> & { img_s: number; median_ms: number };

export default async function embedBench(args: string[]): Promise<void> {
  const get = (k: string, d: string) => args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
  const quick = args.includes("--quick");
  const repeats = Number(get("repeats", quick ? "1" : "3"));
  const threads = get("threads", "2");
  const ours = async (runtime: string) =>
    (await runJsonLines("nice", [process.execPath, "--import", "tsx", "bench/embed-worker.ts", "--runtime", runtime, "--threads", threads, "--reps", quick ? "3" : "5"]))[0] as Row;
  // torch_bench trains a few steps first (size 64 only, as short as it allows), then prints the embed line
  const runTorch = async () =>
    (await runJsonLines("nice", ["/usr/bin/python3", `${sharedDir}anchors/torch_bench.py`, "--threads", threads, "--sizes", "64", "--steps", "1", "--warmup", "1"])).find((r) => r.kind === "embed") as Row;

  const runs: Record<"native" | "onnx" | "torch", Row[]> = { native: [], onnx: [], torch: [] };
  const order: ("native" | "onnx" | "torch")[] = ["torch", "native", "onnx"];
  for (let r = 0; r < repeats; r++) {
    for (const k of r % 2 ? [...order].reverse() : order) runs[k].push(k === "torch" ? await runTorch() : await ours(k));
    console.error(`repeat ${r + 1}/${repeats}: native ${runs.native[r].img_s}, onnx ${runs.onnx[r].img_s}, torch ${runs.torch[r].img_s} img/s`);
  }
  const med = (k: keyof typeof runs) => median(runs[k].map((x) => x.img_s));
  const [native, onnx, torch] = [med("native"), med("onnx"), med("torch")];
  const result = {
    note: "embed img/s, ResNet18 encoder 3x64x64 -> 64, batch 64, eval/no-grad, fp32; native = libtorch engine with BN folded (as bie embed), onnx = the same model exported by src/export on onnxruntime-node (CPU), torch = shared/anchors/torch_bench.py embed line (PyTorch 1.13, BN not folded); median of repeats, alternating order",
    config: { threads: Number(threads), batch: 64, hw: 64, latent: 64, repeats },
    native: round(native, 1),
    onnx: round(onnx, 1),
    torch: round(torch, 1),
    ratio_native: round(native / torch, 3),
    ratio_onnx: round(onnx / torch, 3),
    per_repeat: { native: runs.native.map((x) => x.img_s), onnx: runs.onnx.map((x) => x.img_s), torch: runs.torch.map((x) => x.img_s) },
    load_average: (await import("node:os")).loadavg().map((v) => round(v, 1)),
  };
  const file = await writeResult("embed", result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${file}`);
}
