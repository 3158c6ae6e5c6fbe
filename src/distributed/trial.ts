// Run one trial of a sweep up to one rung. A trial's config spans max_epochs; to stop at a rung we let the
// trainer finish the rung's last epoch — validation logged, epoch checkpoint and run.json written — and throw a
// PauseSignal from the per-epoch log callback, which the trainer passes through. Promotion later resumes the
// run from that checkpoint (trainFromConfig's exact resume), so pausing never changes a trial's result.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { resolveConfig } from "../config/index.ts";
import { BieError } from "../errors.ts";
import { RunFolder, trainFromConfig, type Progress } from "../train/index.ts";
import type { SweepPlan } from "./sweep-spec.ts";
import { PAUSE_MESSAGE, readTrialState, trialDir, type TrialState } from "./sweep-state.ts";
import { withTrialLock } from "./trial-lock.ts";

class PauseSignal extends Error {
  constructor(readonly epoch: number) {
    super(`${PAUSE_MESSAGE} at epoch ${epoch}`);
  }
}

export interface TrialRunOptions {
  onProgress?: (p: Progress) => void;
  onLog?: (line: string) => void;
}

/** Train trial k until it has a result at `rung` (or has finished/diverged). A no-op when it already has. */
export async function runTrial(plan: SweepPlan, k: number, rung: number, o: TrialRunOptions = {}): Promise<TrialState> {
  const t = plan.trials[k];
  if (!t) throw new BieError("USAGE", `trial=${k}: the sweep has trials 0..${plan.trials.length - 1}`);
  const dir = trialDir(plan, k);
  await mkdir(join(plan.dir, "trials"), { recursive: true });
  return withTrialLock(`${dir}.lock`, async () => {
    const before = await readTrialState(plan, t);
    if (before.terminal || before.losses[rung] !== undefined) return before;
    const resume = existsSync(join(dir, "run.json"));
    const cfg = resolveConfig({ file: plan.config ?? undefined, overrides: t.overrides, uniqueName: false });
    const budget = plan.asha ? plan.rungs[rung] : cfg.epochs;
    const pauseAfter = (epoch: number) => {
      if (epoch >= budget && budget < cfg.epochs) throw new PauseSignal(epoch);
    };
    o.onLog?.(`trial ${k}: ${resume ? "resuming" : "starting"}, training to epoch ${budget}/${cfg.epochs} (rung ${rung})`);
    try {
      await trainFromConfig(cfg, {
        resume: resume ? dir : undefined,
        onLog: (line) => {
          o.onLog?.(`trial ${k}: ${line}`);
          const m = /^epoch (\d+)\/\d+:/.exec(line); // the trainer's end-of-epoch line, written after the checkpoint
          if (m) pauseAfter(Number(m[1]));
        },
        onProgress: (p) => {
          if (p.epoch > budget) pauseAfter(p.epoch - 1); // safety net should the log line ever change
          o.onProgress?.(p);
        },
      });
    } catch (e) {
      const run = new RunFolder(dir);
      const info = await run.readInfo();
      if (e instanceof PauseSignal) {
        if (info) await run.writeInfo({ ...info, status: "interrupted", message: `${PAUSE_MESSAGE} at epoch ${e.epoch} (rung ${rung})` });
      } else if (e instanceof BieError && e.code === "ENGINE" && info?.status === "failed") {
        // A loss that became NaN is the trial's result (run.json says failed; it ranks last), not a job failure.
        o.onLog?.(`trial ${k}: failed: ${e.message}`);
      } else {
        // Anything else may pass (a file server hiccup, memory): leave the trial resumable and let the job retry.
        if (info) await run.writeInfo({ ...info, status: "interrupted", message: `error, to be retried: ${(e as Error).message}` });
        throw e;
      }
    }
    return readTrialState(plan, t);
  });
}
