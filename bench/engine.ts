// Engine benchmark: our ResNet18 autoencoder vs ../shared/anchors/torch_bench.py, measured in the same run,
// alternating the two (these machines are noisy) and taking medians over repeats.
import { median, runJsonLines, writeResult, sharedDir, round } from "./common.ts";

type Row = Record<string, unknown> & { kind: string; hw?: number; img_s?: number; rss_mb?: number; loss?: number };

export default async function engineBench(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const repeats = Number(args.find((a) => a.startsWith("--repeats="))?.slice(10) ?? (quick ? 1 : 3));
  const sizes = quick ? "64" : "64,128";
  const ours = (extra: string[]) => runJsonLines(process.execPath, ["--import", "tsx", "bench/engine-worker.ts", "--sizes", sizes, "--threads", "2", ...extra]) as Promise<Row[]>;
  const torch = () => runJsonLines("/usr/bin/python3", [`${sharedDir}anchors/torch_bench.py`, "--sizes", sizes, "--threads", "2"]) as Promise<Row[]>;

  const runs: Record<string, Row[][]> = { torch: [], fp32: [], bf16: [] };
  for (let r = 0; r < repeats; r++) {
    runs.torch.push(await torch());
    runs.fp32.push(await ours(["--memory-format", "channels_last"]));
    runs.bf16.push(await ours(["--memory-format", "channels_last", "--precision", "bf16"]));
    console.error(`repeat ${r + 1}/${repeats} done`);
  }
  const pick = (rs: Row[][], kind: string, hw?: number, field: "img_s" | "rss_mb" = "img_s") =>
    median(rs.map((lines) => Number(lines.find((l) => l.kind === kind && (hw === undefined || l.hw === hw))?.[field] ?? NaN)).filter((v) => !Number.isNaN(v)));
  const row = (o: number, t: number) => ({ ours: round(o, 1), torch: round(t, 1), ratio: round(o / t, 3) });
  const result: Record<string, unknown> = {
    note: "img/s, median over repeats; ours = channels-last (+ BN folded for embed); *_bf16 = channels-last + bf16 autocast vs PyTorch's default fp32",
    repeats,
    train64: row(pick(runs.fp32, "train", 64), pick(runs.torch, "train", 64)),
    train64_bf16: row(pick(runs.bf16, "train", 64), pick(runs.torch, "train", 64)),
    embed64: row(pick(runs.fp32, "embed", 64), pick(runs.torch, "embed", 64)),
    embed64_bf16: row(pick(runs.bf16, "embed", 64), pick(runs.torch, "embed", 64)),
  };
  if (!quick) {
    result.train128 = row(pick(runs.fp32, "train", 128), pick(runs.torch, "train", 128));
    result.train128_bf16 = row(pick(runs.bf16, "train", 128), pick(runs.torch, "train", 128));
  }
  const oursRss = pick(runs.fp32, "peak", undefined, "rss_mb"), torchRss = pick(runs.torch, "peak", undefined, "rss_mb");
  result.peak_rss_mb = { ours: oursRss, torch: torchRss, ratio: round(oursRss / torchRss, 3) };
  result.final_loss = { fp32: pick(runs.fp32, "train", 64, "loss" as never), bf16: pick(runs.bf16, "train", 64, "loss" as never), torch: pick(runs.torch, "train", 64, "loss" as never) };
  const file = await writeResult("engine", result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${file}`);
}
