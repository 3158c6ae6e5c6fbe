// Limited-memory BFGS with a backtracking line search (Armijo + curvature check), enough for the smooth,
// strictly convex losses of the linear probe.

export interface LbfgsOptions { maxIter?: number; gtol?: number; ftol?: number; memory?: number }
export interface LbfgsResult { x: Float64Array; f: number; iterations: number; converged: boolean }

/** Minimise f; `fg(x, grad)` returns f(x) and writes the gradient into grad. */
export function lbfgs(fg: (x: Float64Array, g: Float64Array) => number, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const maxIter = opts.maxIter ?? 1000, gtol = opts.gtol ?? 1e-6, ftol = opts.ftol ?? 1e-12, mem = opts.memory ?? 10;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fg(x, g);
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  const dir = new Float64Array(n), alpha = new Float64Array(mem);
  const xNew = new Float64Array(n), gNew = new Float64Array(n);
  const dot = (a: Float64Array, b: Float64Array) => { let s = 0; for (let i = 0; i < n; i++) s += a[i] * b[i]; return s; };
  const maxAbs = (a: Float64Array) => { let m = 0; for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i])); return m; };
  let it = 0;
  for (; it < maxIter; it++) {
    if (maxAbs(g) <= gtol) return { x, f, iterations: it, converged: true };
    // Two-loop recursion: dir = -H g.
    for (let i = 0; i < n; i++) dir[i] = -g[i];
    for (let j = S.length - 1; j >= 0; j--) {
      alpha[j] = rho[j] * dot(S[j], dir);
      for (let i = 0; i < n; i++) dir[i] -= alpha[j] * Y[j][i];
    }
    if (S.length) {
      const last = S.length - 1, gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) dir[i] *= gamma;
    } else {
      const scale = 1 / Math.max(1, Math.sqrt(dot(g, g)));
      for (let i = 0; i < n; i++) dir[i] *= scale;
    }
    for (let j = 0; j < S.length; j++) {
      const beta = rho[j] * dot(Y[j], dir);
      for (let i = 0; i < n; i++) dir[i] += S[j][i] * (alpha[j] - beta);
    }
    let slope = dot(g, dir);
    if (!(slope < 0)) { // not a descent direction: restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i];
      slope = -dot(g, g);
    }
    let step = 1, fNew = Infinity;
    for (let ls = 0; ls < 50; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * dir[i];
      fNew = fg(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= f + 1e-4 * step * slope)) return { x, f, iterations: it, converged: false };
    const s = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) { s[i] = xNew[i] - x[i]; y[i] = gNew[i] - g[i]; }
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      S.push(s); Y.push(y); rho.push(1 / sy);
      if (S.length > mem) { S.shift(); Y.shift(); rho.shift(); }
    }
    const fOld = f;
    x = Float64Array.from(xNew); g = Float64Array.from(gNew); f = fNew;
    if (Math.abs(fOld - f) <= ftol * Math.max(1, Math.abs(f))) return { x, f, iterations: it + 1, converged: true };
  }
  return { x, f, iterations: it, converged: false };
}
