// ASHA (Li et al. 2020, "A System for Massively Parallel Hyperparameter Tuning"): asynchronous successive
// halving. Rung i has an epoch budget min·η^i (the last rung is max_epochs). Whenever a trial finishes a rung,
// any trial in the top 1/η of those that have reached rung i so far, and not yet beyond it, is promoted to rung
// i+1. No rung waits for stragglers, so workers never idle; the price is that an early promotion may go to a
// trial that later arrivals would have beaten (the paper shows this costs little).

/** Epoch budgets: min, min·η, min·η², … below max, then max. */
export function rungBudgets(minEpochs: number, maxEpochs: number, eta: number): number[] {
  const out: number[] = [];
  for (let i = 0; ; i++) {
    const b = Math.max(Math.round(minEpochs * eta ** i), (out.at(-1) ?? 0) + 1);
    if (b >= maxEpochs) break;
    out.push(b);
  }
  out.push(maxEpochs);
  return out;
}

export interface TrialRungs {
  trial: number;
  /** Validation loss at each rung's budget; undefined where the trial has not got there. */
  losses: (number | undefined)[];
  /** Finished, diverged or stopped: never promoted again. */
  terminal: boolean;
}

/** Trials to promote now, as (trial, rung to train to), highest rung first (ASHA serves promotions first). */
export function promotions(trials: TrialRungs[], nRungs: number, eta: number): { trial: number; rung: number }[] {
  const out: { trial: number; rung: number }[] = [];
  for (let r = nRungs - 2; r >= 0; r--) {
    const members = trials.filter((t) => t.losses[r] !== undefined);
    const keep = Math.floor(members.length / eta);
    const ranked = [...members].sort((a, b) => key(a.losses[r]!) - key(b.losses[r]!) || a.trial - b.trial);
    for (const t of ranked.slice(0, keep)) if (!t.terminal && t.losses[r + 1] === undefined) out.push({ trial: t.trial, rung: r + 1 });
  }
  return out;
}

const key = (v: number) => (Number.isNaN(v) ? Infinity : v);
