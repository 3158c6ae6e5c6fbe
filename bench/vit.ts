// ViT-small MAE training speed: ours (bench/vit-worker.ts) vs PyTorch (bench/vit_torch.py) on the same network
// and step, alternating the two in one run (these machines are noisy) and taking medians over repeats.
import { median, runJsonLines, writeResult, round } from "./common.ts";

type Row = Record<string, unknown> & { img_s: number; median_ms: number; img_per_cpu_s: number; loss: number; rss_mb: number };

export default async function vitBench(args: string[]): Promise<void> {
  const get = (k: string, d: string) => args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
  const quick = args.includes("--quick");
  const repeats = Number(get("repeats", quick ? "1" : "3"));
  const common = ["--size", get("size", "64"), "--batch", get("batch", "32"), "--steps", get("steps", quick ? "4" : "10"), "--warmup", get("warmup", quick ? "2" : "3"), "--threads", get("threads", "2"), "--vit", get("vit", "small"), "--zero-grad", get("zero-grad", "inplace")];
  const config = Object.fromEntries(common.flatMap((v, i) => (i % 2 ? [] : [[v.slice(2), Number.isNaN(Number(common[i + 1])) ? common[i + 1] : Number(common[i + 1])]])));
  const ours = async () => (await runJsonLines(process.execPath, ["--import", "tsx", "bench/vit-worker.ts", ...common]))[0] as Row;
  const torch = async () => (await runJsonLines("/usr/bin/python3", ["bench/vit_torch.py", ...common]))[0] as Row;

  const runs: { ours: Row[]; torch: Row[] } = { ours: [], torch: [] };
  for (let r = 0; r < repeats; r++) {
    // alternate which goes first, so drift in the machine's load does not favour one side
    if (r % 2 === 0) runs.torch.push(await torch()), runs.ours.push(await ours());
    else runs.ours.push(await ours()), runs.torch.push(await torch());
    console.error(`repeat ${r + 1}/${repeats}: ours ${runs.ours[r].img_s} img/s, torch ${runs.torch[r].img_s} img/s`);
  }
  const med = (rs: Row[], k: keyof Row) => median(rs.map((r) => Number(r[k])));
  const o = med(runs.ours, "img_s"), t = med(runs.torch, "img_s");
  const cpuO = med(runs.ours, "img_per_cpu_s"), cpuT = med(runs.torch, "img_per_cpu_s");
  const result = {
    note: "MAE training img/s, same network and step on both sides (3 channels, patch 8, decoder 256x4, mask 0.75, AdamW, fp32; zero-grad mode applied to both); median over repeats of each side's median step time",
    config,
    repeats,
    ours: round(o, 2),
    torch: round(t, 2),
    ratio: round(o / t, 3),
    // Each repeat runs the two back to back, so their ratio sees the same machine load: steadier than the ratio of medians.
    paired_ratio_median: round(median(runs.ours.map((r, i) => r.img_s / runs.torch[i].img_s)), 3),
    per_repeat: { ours: runs.ours.map((r) => r.img_s), torch: runs.torch.map((r) => r.img_s) },
    // Work per image whatever the machine's load: process CPU time (all threads) per step.
    img_per_cpu_s: { ours: round(cpuO, 2), torch: round(cpuT, 2), ratio: round(cpuO / cpuT, 3) },
    peak_rss_mb: { ours: med(runs.ours, "rss_mb"), torch: med(runs.torch, "rss_mb") },
  };
  const file = await writeResult("vit", result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${file}`);
}
