// `bie sweep sweep.yaml`: run a sweep in this process, ASHA promotions first, until nothing is left; or, with
// trial=k (a Slurm array task), run trial k and keep going while ASHA promotes it. Both read the state from the
// sweep folder, so they can be re-run, interleaved and finished by each other.
import { BieError } from "../errors.ts";
import { planSweep, type SweepPlan } from "./sweep-spec.ts";
import { readTrialStates, writePlan } from "./sweep-state.ts";
import { summarizeSweep, type SweepSummary } from "./sweep-summary.ts";
import { runTrial, type TrialRunOptions } from "./trial.ts";
import { pendingWork } from "./sweep-work.ts";

export interface SweepRunOptions extends TrialRunOptions {
  /** Only this trial (and its promotions). */
  trial?: number;
  /** Sweep folder, overriding the spec's `out`. */
  out?: string;
}

export async function prepareSweep(specFile: string, out?: string): Promise<SweepPlan> {
  const plan = planSweep(specFile, { out });
  await writePlan(plan);
  return plan;
}

export async function runSweep(specFile: string, o: SweepRunOptions = {}): Promise<SweepSummary> {
  const plan = await prepareSweep(specFile, o.out);
  if (o.trial !== undefined) await advanceTrial(plan, o.trial, o);
  else await runAllTrials(plan, o);
  return summarizeSweep(plan);
}

/** Trial k from its first missing rung, continuing while it is promoted. */
export async function advanceTrial(plan: SweepPlan, k: number, o: TrialRunOptions = {}): Promise<void> {
  if (!plan.trials[k]) throw new BieError("USAGE", `trial=${k}: the sweep has trials 0..${plan.trials.length - 1}`);
  for (let step = 0; step < plan.rungs.length; step++) {
    const states = await readTrialStates(plan);
    const s = states[k];
    const r = s.losses.findIndex((l) => l === undefined);
    if (s.terminal || r < 0) return;
    if (r > 0 && !pendingWork(plan, states).some((w) => w.trial === k && w.rung === r)) {
      o.onLog?.(`trial ${k}: not promoted past rung ${r - 1} (yet); a later \`bie sweep\` promotes it if others fall behind`);
      return;
    }
    await runTrial(plan, k, r, o);
  }
}

/** Everything left, one rung job at a time. Each job completes a rung or ends a trial, so this ends. */
export async function runAllTrials(plan: SweepPlan, o: TrialRunOptions = {}): Promise<void> {
  const maxJobs = plan.trials.length * plan.rungs.length;
  for (let n = 0; n <= maxJobs; n++) {
    const work = pendingWork(plan, await readTrialStates(plan));
    if (work.length === 0) return;
    const w = work[0];
    const after = await runTrial(plan, w.trial, w.rung, o);
    if (after.losses[w.rung] === undefined && !after.terminal)
      throw new BieError("SWEEP_STUCK", `trial ${w.trial} ran without reaching rung ${w.rung} (epoch ${plan.rungs[w.rung]}); see ${after.dir}/run.json`);
  }
  throw new BieError("SWEEP_STUCK", `${plan.dir}: more rung jobs than trials × rungs; the trial folders are inconsistent`);
}
