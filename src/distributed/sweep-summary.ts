// The sweep's report: sweep.json (best trial and config, every trial), sweep.csv (one row per trial, one column per
// searched key) and val_curves.svg (validation loss per epoch, one line per trial). Rebuilt from the trial folders
// whenever a trial job ends, so it is always as current as the folder.
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import type { SweepPlan } from "./sweep-spec.ts";
import { readTrialStates, type TrialState } from "./sweep-state.ts";
import { pendingWork } from "./sweep-work.ts";
import { withLockWaiting } from "./trial-lock.ts";

export interface TrialRow {
  trial: number;
  status: TrialState["status"];
  epochs_done: number;
  /** Highest rung the trial completed (-1: none yet). */
  rung: number;
  best_val_loss: number | null;
  params: Record<string, unknown>;
  run: string;
}

export interface SweepSummary {
  name: string;
  dir: string;
  method: string;
  asha: { rungs: number[]; reduction_factor: number } | null;
  done: boolean;
  best: (TrialRow & { overrides: string[] }) | null;
  trials: TrialRow[];
}

/** Rebuild the summary; serialised by a lock so the last writer has read every result written before it. */
export function summarizeSweep(plan: SweepPlan): Promise<SweepSummary> {
  return withLockWaiting(join(plan.dir, "summary.lock"), () => writeSummary(plan));
}

async function writeSummary(plan: SweepPlan): Promise<SweepSummary> {
  const states = await readTrialStates(plan);
  const trials: TrialRow[] = states.map((s) => ({
    trial: s.trial,
    status: s.status,
    epochs_done: s.epochsDone,
    rung: s.losses.reduce<number>((r, l, i) => (l !== undefined && Number.isFinite(l) ? i : r), -1),
    best_val_loss: s.bestVal,
    params: plan.trials[s.trial].params,
    run: s.dir,
  }));
  const ranked = trials.filter((t) => t.best_val_loss !== null && Number.isFinite(t.best_val_loss)).sort((a, b) => a.best_val_loss! - b.best_val_loss! || a.trial - b.trial);
  const best = ranked[0] ? { ...ranked[0], overrides: plan.trials[ranked[0].trial].overrides } : null;
  const summary: SweepSummary = {
    name: plan.name,
    dir: plan.dir,
    method: plan.method,
    asha: plan.asha ? { rungs: plan.rungs, reduction_factor: plan.reductionFactor } : null,
    done: pendingWork(plan, states).length === 0,
    best,
    trials,
  };
  await writeFileAtomic(join(plan.dir, "sweep.json"), JSON.stringify(summary, null, 2) + "\n");
  await writeFileAtomic(join(plan.dir, "sweep.csv"), csv(plan, trials));
  await writeFileAtomic(join(plan.dir, "val_curves.svg"), curvesSvg(plan, states));
  return summary;
}

function csv(plan: SweepPlan, rows: TrialRow[]): string {
  const keys = Object.keys(plan.trials[0]?.params ?? {});
  const esc = (v: unknown) => {
    const s = v == null ? "" : typeof v === "string" ? v : JSON.stringify(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = ["trial", "status", "epochs_done", "rung", "best_val_loss", ...keys, "run"];
  return [head.join(","), ...rows.map((r) => [r.trial, r.status, r.epochs_done, r.rung, r.best_val_loss, ...keys.map((k) => r.params[k]), r.run].map(esc).join(","))].join("\n") + "\n";
}

/** A plain SVG line chart; no plotting dependency for one figure. */
function curvesSvg(plan: SweepPlan, states: TrialState[]): string {
  const W = 640, H = 400, L = 60, R = 120, T = 30, B = 40;
  const pts = states.flatMap((s) => s.curve.filter((c) => Number.isFinite(c.loss)));
  const maxE = Math.max(1, ...plan.rungs, ...pts.map((p) => p.epoch));
  const lo = Math.min(...pts.map((p) => p.loss), Infinity), hi = Math.max(...pts.map((p) => p.loss), -Infinity);
  const [y0, y1] = pts.length ? (hi > lo ? [lo, hi] : [lo - 1e-6, hi + 1e-6]) : [0, 1];
  const x = (e: number) => L + ((e - 0) / maxE) * (W - L - R);
  const y = (v: number) => T + (1 - (v - y0) / (y1 - y0)) * (H - T - B);
  const colour = (i: number) => `hsl(${(i * 137.5) % 360},65%,45%)`;
  const lines = states
    .filter((s) => s.curve.length)
    .map((s) => {
      const finite = s.curve.filter((c) => Number.isFinite(c.loss));
      const d = finite.map((c) => `${x(c.epoch).toFixed(1)},${y(c.loss).toFixed(1)}`).join(" ");
      const dots = finite.map((c) => `<circle cx="${x(c.epoch).toFixed(1)}" cy="${y(c.loss).toFixed(1)}" r="2.5" fill="${colour(s.trial)}"/>`).join("");
      const last = s.curve.at(-1)!;
      const label = Number.isFinite(last.loss) ? `<text x="${(x(last.epoch) + 4).toFixed(1)}" y="${(y(last.loss) + 4).toFixed(1)}" font-size="10" fill="${colour(s.trial)}">${s.trial}</text>` : "";
      return `<polyline fill="none" stroke="${colour(s.trial)}" stroke-width="1.5" points="${d}"/>${dots}${label}`;
    });
  const rungs = plan.asha ? plan.rungs.map((b) => `<line x1="${x(b)}" x2="${x(b)}" y1="${T}" y2="${H - B}" stroke="#ccc" stroke-dasharray="3,3"/>`) : [];
  const fmt = (v: number) => (Math.abs(v) < 1e-2 || Math.abs(v) >= 1e3 ? v.toExponential(2) : v.toPrecision(3));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<text x="${L}" y="18" font-size="13">${escapeXml(plan.name)}: validation loss per epoch${plan.asha ? " (dashed: ASHA rungs)" : ""}</text>`,
    ...rungs,
    `<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#000"/><line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#000"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 8}" font-size="11" text-anchor="middle">epoch (max ${maxE})</text>`,
    `<text x="${L - 4}" y="${T + 4}" font-size="10" text-anchor="end">${fmt(y1)}</text><text x="${L - 4}" y="${H - B}" font-size="10" text-anchor="end">${fmt(y0)}</text>`,
    ...lines,
    `</svg>`,
    "",
  ].join("\n");
}

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
