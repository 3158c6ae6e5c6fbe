// Progress display: a redrawn bar with ETA and loss on a terminal; plain periodic lines when output goes to a
// file or a CI log, where carriage-return redraws would be noise.

export interface Sink {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  out?: Sink;
  /** Force bar (true) or line (false) mode; default: whether `out` is a TTY. */
  tty?: boolean;
  /** Line mode: at most one line per this many ms, plus one at the end of each epoch/pass. */
  everyMs?: number;
  now?: () => number;
}

/** What the trainer reports after each step (epoch and step are 1-based, step counts completed steps). */
export interface TrainProgress {
  phase?: "train" | "val";
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  imgPerSec: number;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "--";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

export const formatLoss = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1e3 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4)) : String(v));

export class ProgressBar {
  private readonly out: Sink;
  private readonly tty: boolean;
  private readonly everyMs: number;
  private readonly now: () => number;
  private start: { t: number; f: number } | null = null;
  private lastPrint = -Infinity;
  private line = "";

  constructor(opts: ProgressOptions = {}) {
    this.out = opts.out ?? process.stderr;
    this.tty = opts.tty ?? !!this.out.isTTY;
    this.everyMs = opts.everyMs ?? 10_000;
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * fraction: overall progress in [0,1] (drives the ETA); label/count/extra: the text around the bar;
   * final: the end of an epoch or pass, always printed in line mode.
   */
  update(fraction: number, label: string, count: string, extra: string, final = false): void {
    const t = this.now();
    this.start ??= { t, f: fraction };
    const rate = (fraction - this.start.f) / (t - this.start.t);
    const eta = fraction >= 1 ? 0 : rate > 0 ? (1 - fraction) / rate / 1000 : NaN;
    const tail = `${extra}${extra ? " · " : ""}ETA ${formatDuration(eta)}`;
    if (this.tty) {
      if (!final && t - this.lastPrint < 100) return; // redraw at most 10×/s
      const cols = this.out.columns ?? 80;
      const fixed = `${label} ${count} ${tail}`.length + 2;
      const width = Math.max(10, Math.min(40, cols - fixed - 1));
      const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
      this.line = `${label} ${"█".repeat(filled)}${"░".repeat(width - filled)} ${count} ${tail}`.slice(0, cols - 1);
      this.out.write(`\r\x1b[K${this.line}`);
      this.lastPrint = t;
    } else if (final || t - this.lastPrint >= this.everyMs) {
      this.out.write(`${label} ${count} ${tail}\n`);
      this.lastPrint = t;
    }
  }

  /** A message that must not be overwritten by the bar. */
  log(message: string): void {
    if (this.tty && this.line) this.out.write(`\r\x1b[K${message}\n${this.line}`);
    else this.out.write(`${message}\n`);
  }

  /** End of a task: the next update starts a new bar (and a new ETA estimate). */
  done(): void {
    if (this.tty && this.line) this.out.write("\n");
    this.line = "";
    this.start = null;
    this.lastPrint = -Infinity;
  }
}

/** The trainer's onProgress callback, drawn on a bar. */
export function trainProgress(bar: ProgressBar): (p: TrainProgress) => void {
  let frac = 0;
  return (p) => {
    const steps = Math.max(1, p.steps);
    if (p.phase !== "val") frac = (p.epoch - 1 + p.step / steps) / p.epochs;
    const label = `epoch ${p.epoch}/${p.epochs}${p.phase === "val" ? " val" : ""}`;
    const extra = `loss ${formatLoss(p.loss)}${p.imgPerSec > 0 ? ` · ${Math.round(p.imgPerSec)} img/s` : ""}`;
    bar.update(frac, label, `${p.step}/${p.steps}`, extra, p.step === p.steps && p.phase !== "val");
  };
}

/** A done/total callback (embedding, evaluation) drawn on a bar. */
export function countProgress(bar: ProgressBar, label: string): (done: number, total: number, perSec?: number) => void {
  return (done, total, perSec) => {
    bar.update(total > 0 ? done / total : 1, label, `${done}/${total}`, perSec ? `${Math.round(perSec)} img/s` : "", done >= total);
  };
}
