// Where a sweep lives and what state it is in. The sweep folder is the single source of truth:
//   trials.json           the frozen plan (every trial's overrides, the rungs)
//   trials/trial_NNN/     each trial's ordinary run folder (config.yaml, metrics.jsonl, checkpoints/, run.json)
//   sweep.json, sweep.csv, val_curves.svg   the summary
// A trial's progress is read back from its run.json and metrics.jsonl, so any machine sharing the folder (a queue
// worker, a Slurm task, a second `bie sweep`) sees the same state and nothing needs a coordinator.
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { BieError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { RunInfo } from "../train/index.ts";
import { trialName, type SweepPlan, type Trial } from "./sweep-spec.ts";
import type { TrialRungs } from "./asha.ts";

export const PAUSE_MESSAGE = "paused by ASHA";

export interface TrialState extends TrialRungs {
  dir: string;
  status: "pending" | "paused" | RunInfo["status"];
  epochsDone: number;
  bestVal: number | null;
  /** Validation loss per finished epoch. */
  curve: { epoch: number; loss: number }[];
  message?: string;
}

export const trialDir = (plan: SweepPlan, k: number) => join(plan.dir, "trials", trialName(k));

/** Write trials.json, or check that the one already there is the same sweep (a re-run continues it). */
export async function writePlan(plan: SweepPlan): Promise<void> {
  const file = join(plan.dir, "trials.json");
  const text = JSON.stringify(plan, null, 2) + "\n";
  if (existsSync(file)) {
    const old = JSON.parse(await readFile(file, "utf8")) as SweepPlan;
    if (JSON.stringify(comparable(old)) !== JSON.stringify(comparable(plan)))
      throw new BieError("SWEEP_CHANGED", `${plan.dir} holds a different sweep (its trials.json differs from this spec); choose another out= or remove the folder`);
    return;
  }
  await mkdir(join(plan.dir, "trials"), { recursive: true });
  await writeFileAtomic(file, text);
}

const comparable = (p: SweepPlan) => ({ config: p.config, rungs: p.rungs, eta: p.reductionFactor, asha: p.asha, trials: p.trials });

export async function readPlan(dir: string): Promise<SweepPlan> {
  const file = join(dir, "trials.json");
  if (!existsSync(file)) throw new BieError("NOT_A_SWEEP", `${dir}: not a sweep folder (no trials.json)`);
  return JSON.parse(await readFile(file, "utf8")) as SweepPlan;
}

export async function readTrialState(plan: SweepPlan, t: Trial): Promise<TrialState> {
  const dir = trialDir(plan, t.trial);
  const losses: (number | undefined)[] = plan.rungs.map(() => undefined);
  const base = { trial: t.trial, dir, losses, curve: [] as TrialState["curve"], epochsDone: 0, bestVal: null };
  if (!existsSync(join(dir, "run.json"))) return { ...base, status: "pending", terminal: false };
  const info = JSON.parse(await readFile(join(dir, "run.json"), "utf8")) as RunInfo;
  const curve = await valCurve(join(dir, "metrics.jsonl"), info.epochs_done);
  const paused = info.message?.startsWith(PAUSE_MESSAGE) ?? false;
  const status: TrialState["status"] = paused ? "paused" : info.status;
  const terminal = !paused && ["finished", "stopped_early", "stopped_time", "failed"].includes(info.status);
  if (plan.asha) {
    plan.rungs.forEach((b, r) => (losses[r] = curve.find((c) => c.epoch === b)?.loss));
    // A trial that diverged or stopped short of a rung still counts there, last, so the others can be ranked.
    const next = losses.findIndex((l) => l === undefined);
    if (terminal && next >= 0) losses[next] = Infinity;
  } else if (terminal) losses[0] = info.status === "failed" ? Infinity : (info.best_val_loss ?? Infinity);
  return { ...base, curve, epochsDone: info.epochs_done, bestVal: info.best_val_loss, status, terminal, message: info.message };
}

export const readTrialStates = (plan: SweepPlan) => Promise.all(plan.trials.map((t) => readTrialState(plan, t)));

/** Validation losses of epochs the run has checkpointed (a later line belongs to an epoch that will be redone). */
async function valCurve(file: string, epochsDone: number): Promise<TrialState["curve"]> {
  if (!existsSync(file)) return [];
  const out = new Map<number, number>();
  for (const line of (await readFile(file, "utf8")).split("\n")) {
    if (!line.trim()) continue;
    let row: { split?: string; epoch?: number; loss?: number | null };
    try {
      row = JSON.parse(line);
    } catch {
      continue; // a line cut short by a kill
    }
    if (row.split === "val" && typeof row.epoch === "number" && row.epoch <= epochsDone) out.set(row.epoch, row.loss ?? Infinity);
  }
  return [...out].sort((a, b) => a[0] - b[0]).map(([epoch, loss]) => ({ epoch, loss }));
}
