// The run folder: everything a run writes, in one place a user (and `bie runs`, `bie evaluate`) can read.
//   config.yaml  resolved config        run.json     status, best val loss, wall time
//   metrics.jsonl one line per log       checkpoints/ last + best (weights, optimizer, RNG, position)
//   recon/epoch_NNN.png  input vs reconstruction    bad_inputs.txt  skipped files (data.skip_bad)
import { appendFile, mkdir, readFile, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import type { Config } from "../config/index.ts";
import { configToYaml } from "../config/index.ts";

export interface RunInfo {
  name: string;
  model: string;
  task: string;
  data: string;
  epochs: number;
  epochs_done: number;
  status: "running" | "finished" | "stopped_early" | "stopped_time" | "failed" | "interrupted";
  best_val_loss: number | null;
  wall_time_s: number;
  started: string;
  finished?: string;
  message?: string;
  latent_dim: number;
}

export class RunFolder {
  constructor(readonly dir: string) {}
  static forConfig(cfg: Config): RunFolder {
    return new RunFolder(resolve(cfg.runs_dir, cfg.name));
  }
  path(...p: string[]): string {
    return join(this.dir, ...p);
  }
  async init(cfg: Config): Promise<void> {
    await mkdir(this.path("checkpoints"), { recursive: true });
    await mkdir(this.path("recon"), { recursive: true });
    await writeFileAtomic(this.path("config.yaml"), configToYaml(cfg));
  }
  async writeInfo(info: RunInfo): Promise<void> {
    await writeFileAtomic(this.path("run.json"), JSON.stringify(info, null, 2) + "\n");
  }
  async readInfo(): Promise<RunInfo | null> {
    if (!existsSync(this.path("run.json"))) return null;
    return JSON.parse(await readFile(this.path("run.json"), "utf8")) as RunInfo;
  }
  async appendMetrics(row: Record<string, unknown>): Promise<void> {
    await appendFile(this.path("metrics.jsonl"), JSON.stringify(row) + "\n");
  }
  /** Drop metric lines past a resume point, so a resumed run's log reads as if it never stopped. */
  async truncateMetricsAfter(step: number): Promise<void> {
    const f = this.path("metrics.jsonl");
    if (!existsSync(f)) return;
    const lines = (await readFile(f, "utf8")).split("\n").filter(Boolean);
    const kept = lines.filter((l) => (JSON.parse(l) as { step?: number }).step! <= step);
    await writeFileAtomic(f, kept.map((l) => l + "\n").join(""));
  }
  async listRecon(): Promise<string[]> {
    return existsSync(this.path("recon")) ? (await readdir(this.path("recon"))).filter((f) => f.endsWith(".png")).sort() : [];
  }
}
