// What is left to do in a sweep, from its trials' states alone: ASHA promotions first (highest rung first, as
// ASHA serves them), then trials that have not finished the bottom rung, in trial order.
import { promotions } from "./asha.ts";
import type { SweepPlan } from "./sweep-spec.ts";
import type { TrialState } from "./sweep-state.ts";

export interface Work {
  trial: number;
  rung: number;
}

export function pendingWork(plan: SweepPlan, states: TrialState[]): Work[] {
  const promos = plan.asha ? promotions(states, plan.rungs.length, plan.reductionFactor) : [];
  const bottom = states.filter((s) => !s.terminal && s.losses[0] === undefined).map((s) => ({ trial: s.trial, rung: 0 }));
  return [...promos, ...bottom];
}
