// Linear probe: L2-regularised logistic regression as scikit-learn's LogisticRegression(C=1) defines it —
// binary logistic for two classes, multinomial (softmax) for more; intercepts are not penalised.
// Solved with L-BFGS to a tight tolerance (sklearn's default of 100 iterations often stops short).
import { ConfigError } from "../errors.ts";
import type { Matrix } from "./forest/forest.ts";
import { lbfgs } from "./lbfgs.ts";

export interface LogisticOptions {
  C?: number; // inverse regularisation strength, default 1
  maxIter?: number; // default 1000
  gtol?: number; // stop when every gradient entry of the mean loss is below this (default 1e-6)
  ftol?: number; // or when the relative decrease is below this (default 1e-12)
  classes?: readonly string[];
}

export class LogisticRegression {
  private constructor(
    readonly classes: readonly string[],
    readonly d: number,
    readonly coef: Float64Array, // binary: d values (for classes[1]); multinomial: classes × d
    readonly intercept: Float64Array,
    readonly converged: boolean,
  ) {}

  static fit(X: Matrix, y: readonly string[], opts: LogisticOptions = {}): LogisticRegression {
    const n = y.length, d = X.length / n;
    if (!Number.isInteger(d) || d === 0) throw new ConfigError("features", `matrix of ${X.length} values does not split into ${n} rows`);
    const C = opts.C ?? 1;
    const classes = opts.classes ? [...opts.classes] : [...new Set(y)].sort();
    const code = new Map(classes.map((c, i) => [c, i]));
    const yc = Int32Array.from(y, (v) => code.get(v) ?? -1);
    if (yc.includes(-1)) throw new ConfigError("classes", "a training label is not in the class list");
    const k = classes.length;
    // The objective is divided by n·C (same minimiser) to keep gradients of order one.
    const lam = 1 / (C * n);
    if (k === 2) {
      const fg = (w: Float64Array, g: Float64Array) => {
        g.fill(0);
        let loss = 0;
        for (let i = 0; i < n; i++) {
          let z = w[d];
          for (let f = 0; f < d; f++) z += w[f] * X[i * d + f];
          const s = yc[i] === 1 ? 1 : -1;
          const m = s * z;
          loss += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
          const r = (-s / (1 + Math.exp(m))) / n; // d loss / d z, scaled
          for (let f = 0; f < d; f++) g[f] += r * X[i * d + f];
          g[d] += r;
        }
        let pen = 0;
        for (let f = 0; f < d; f++) { pen += w[f] * w[f]; g[f] += lam * w[f]; }
        return loss / n + 0.5 * lam * pen;
      };
      const r = lbfgs(fg, new Float64Array(d + 1), { maxIter: opts.maxIter ?? 1000, gtol: opts.gtol, ftol: opts.ftol });
      return new LogisticRegression(classes, d, r.x.slice(0, d), r.x.slice(d), r.converged);
    }
    const p = new Float64Array(k);
    const fg = (w: Float64Array, g: Float64Array) => {
      // w: k × (d + 1), last of each row the intercept
      g.fill(0);
      let loss = 0;
      for (let i = 0; i < n; i++) {
        let mx = -Infinity;
        for (let c = 0; c < k; c++) {
          let z = w[c * (d + 1) + d];
          for (let f = 0; f < d; f++) z += w[c * (d + 1) + f] * X[i * d + f];
          p[c] = z; if (z > mx) mx = z;
        }
        let sum = 0;
        for (let c = 0; c < k; c++) { p[c] = Math.exp(p[c] - mx); sum += p[c]; }
        loss += Math.log(sum) + mx - (Math.log(p[yc[i]]) + mx);
        for (let c = 0; c < k; c++) {
          const r = (p[c] / sum - (c === yc[i] ? 1 : 0)) / n;
          const o = c * (d + 1);
          for (let f = 0; f < d; f++) g[o + f] += r * X[i * d + f];
          g[o + d] += r;
        }
      }
      let pen = 0;
      for (let c = 0; c < k; c++) for (let f = 0; f < d; f++) { const v = w[c * (d + 1) + f]; pen += v * v; g[c * (d + 1) + f] += lam * v; }
      return loss / n + 0.5 * lam * pen;
    };
    const r = lbfgs(fg, new Float64Array(k * (d + 1)), { maxIter: opts.maxIter ?? 1000, gtol: opts.gtol, ftol: opts.ftol });
    const coef = new Float64Array(k * d), intercept = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      coef.set(r.x.subarray(c * (d + 1), c * (d + 1) + d), c * d);
      intercept[c] = r.x[c * (d + 1) + d];
    }
    return new LogisticRegression(classes, d, coef, intercept, r.converged);
  }

  /** sklearn's objective at this model: C · Σ log-loss + ½‖coef‖² (intercepts unpenalised). */
  objective(X: Matrix, y: readonly string[], C = 1): number {
    const p = this.predictProba(X), k = this.classes.length;
    let loss = 0;
    y.forEach((label, i) => { loss -= Math.log(p[i * k + this.classes.indexOf(label)]); });
    let pen = 0;
    for (const v of this.coef) pen += v * v;
    return C * loss + 0.5 * pen;
  }

  /** A model from given coefficients (e.g. another implementation's, to compare objectives). */
  static fromCoefficients(classes: readonly string[], d: number, coef: ArrayLike<number>, intercept: ArrayLike<number>): LogisticRegression {
    return new LogisticRegression(classes, d, Float64Array.from(coef), Float64Array.from(intercept), true);
  }

  predictProba(X: Matrix): Float64Array {
    const d = this.d, k = this.classes.length, n = X.length / d;
    const out = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      if (k === 2) {
        let z = this.intercept[0];
        for (let f = 0; f < d; f++) z += this.coef[f] * X[i * d + f];
        const p1 = 1 / (1 + Math.exp(-z));
        out[i * 2] = 1 - p1; out[i * 2 + 1] = p1;
        continue;
      }
      let mx = -Infinity;
      for (let c = 0; c < k; c++) {
        let z = this.intercept[c];
        for (let f = 0; f < d; f++) z += this.coef[c * d + f] * X[i * d + f];
        out[i * k + c] = z; if (z > mx) mx = z;
      }
      let sum = 0;
      for (let c = 0; c < k; c++) { out[i * k + c] = Math.exp(out[i * k + c] - mx); sum += out[i * k + c]; }
      for (let c = 0; c < k; c++) out[i * k + c] /= sum;
    }
    return out;
  }
}
