// Small inline-SVG plots for the report: scatter (one <path> of round dots per class), line charts and a
// heat map. Strings only, no DOM, no scripts; every label is escaped.

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
export const MISSING_COLOUR = "#b0b0b0";

export function esc(s: unknown): string {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const f1 = (v: number) => (Math.round(v * 10) / 10).toString();

/** "Nice" tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

const fmtTick = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(4)));

interface Frame { w: number; h: number; left: number; right: number; top: number; bottom: number }

function frame(w: number, h: number, legend: boolean): Frame {
  return { w, h, left: 52, right: legend ? 150 : 14, top: 28, bottom: 40 };
}

function axes(fr: Frame, xs: [number, number], ys: [number, number], title: string, xLabel: string, yLabel: string): { sx: (v: number) => number; sy: (v: number) => number; svg: string } {
  const pw = fr.w - fr.left - fr.right, ph = fr.h - fr.top - fr.bottom;
  const pad = (a: [number, number]): [number, number] => (a[1] > a[0] ? [a[0] - (a[1] - a[0]) * 0.03, a[1] + (a[1] - a[0]) * 0.03] : [a[0] - 1, a[0] + 1]);
  const [x0, x1] = pad(xs), [y0, y1] = pad(ys);
  const sx = (v: number) => fr.left + ((v - x0) / (x1 - x0)) * pw;
  const sy = (v: number) => fr.top + ph - ((v - y0) / (y1 - y0)) * ph;
  let s = `<rect x="${fr.left}" y="${fr.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#999"/>`;
  for (const t of ticks(x0, x1)) s += `<line x1="${f1(sx(t))}" x2="${f1(sx(t))}" y1="${fr.top + ph}" y2="${fr.top + ph + 4}" stroke="#666"/><text x="${f1(sx(t))}" y="${fr.top + ph + 15}" font-size="10" text-anchor="middle">${fmtTick(t)}</text>`;
  for (const t of ticks(y0, y1)) s += `<line x1="${fr.left - 4}" x2="${fr.left}" y1="${f1(sy(t))}" y2="${f1(sy(t))}" stroke="#666"/><text x="${fr.left - 6}" y="${f1(sy(t) + 3)}" font-size="10" text-anchor="end">${fmtTick(t)}</text>`;
  s += `<text x="${fr.left + pw / 2}" y="16" font-size="13" font-weight="bold" text-anchor="middle">${esc(title)}</text>`;
  s += `<text x="${fr.left + pw / 2}" y="${fr.h - 6}" font-size="11" text-anchor="middle">${esc(xLabel)}</text>`;
  s += `<text x="12" y="${fr.top + ph / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${fr.top + ph / 2})">${esc(yLabel)}</text>`;
  return { sx, sy, svg: s };
}

function legend(fr: Frame, items: { name: string; colour: string }[]): string {
  const x = fr.w - fr.right + 12;
  return items.slice(0, 20).map((it, i) => `<rect x="${x}" y="${fr.top + i * 16}" width="10" height="10" fill="${it.colour}"/><text x="${x + 15}" y="${fr.top + i * 16 + 9}" font-size="11">${esc(it.name.length > 18 ? it.name.slice(0, 17) + "…" : it.name)}</text>`).join("");
}

export function colourOf(classes: readonly string[]): (c: string | null) => string {
  const map = new Map(classes.map((c, i) => [c, PALETTE[i % PALETTE.length]]));
  return (c) => (c === null ? MISSING_COLOUR : map.get(c) ?? MISSING_COLOUR);
}

/** Scatter plot coloured by class; null labels drawn grey underneath. */
export function scatterSvg(xy: ArrayLike<number>, labels: readonly (string | null)[], classes: readonly string[], o: { title: string; xLabel?: string; yLabel?: string; width?: number; height?: number }): string {
  const n = labels.length;
  const fr = frame(o.width ?? 520, o.height ?? 420, true);
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    xmin = Math.min(xmin, x); xmax = Math.max(xmax, x); ymin = Math.min(ymin, y); ymax = Math.max(ymax, y);
  }
  if (xmin > xmax) { xmin = ymin = 0; xmax = ymax = 1; }
  const a = axes(fr, [xmin, xmax], [ymin, ymax], o.title, o.xLabel ?? "", o.yLabel ?? "");
  const colour = colourOf(classes);
  const groups = new Map<string | null, string[]>();
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const key = labels[i] !== null && classes.includes(labels[i]!) ? labels[i] : null;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(`M${f1(a.sx(x))} ${f1(a.sy(y))}h0`);
  }
  const r = n > 5000 ? 2.5 : n > 1000 ? 3.5 : 5;
  const order = [null, ...classes];
  const paths = order.filter((k) => groups.has(k)).map((k) => `<path class="dots" data-class="${esc(k ?? "(none)")}" d="${groups.get(k)!.join("")}" stroke="${colour(k)}" stroke-width="${r}" stroke-linecap="round" stroke-opacity="0.75" fill="none"/>`).join("");
  const items = classes.map((c) => ({ name: c, colour: colour(c) }));
  if (groups.has(null)) items.push({ name: "(no label)", colour: MISSING_COLOUR });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${fr.w} ${fr.h}" width="${fr.w}" height="${fr.h}" role="img" aria-label="${esc(o.title)}">${a.svg}${paths}${legend(fr, items)}</svg>`;
}

export interface Series { name: string; points: [number, number][]; dashed?: boolean }

/** Line chart of several series sharing axes (log y optional, for losses). */
export function lineSvg(series: Series[], o: { title: string; xLabel?: string; yLabel?: string; logY?: boolean; width?: number; height?: number }): string {
  const fr = frame(o.width ?? 520, o.height ?? 320, true);
  const ty = (v: number) => (o.logY ? Math.log10(v) : v);
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(ty(y)));
  const range = (v: number[]): [number, number] => (v.length ? [v.reduce((a, b) => Math.min(a, b)), v.reduce((a, b) => Math.max(a, b))] : [0, 1]);
  const xs = range(pts.map((p) => p[0])), ys = range(pts.map((p) => ty(p[1])));
  const a = axes(fr, xs, ys, o.title, o.xLabel ?? "", (o.yLabel ?? "") + (o.logY ? " (log10)" : ""));
  const paths = series.map((s, i) => {
    const good = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(ty(y)));
    if (good.length === 0) return "";
    const d = good.map(([x, y], j) => `${j ? "L" : "M"}${f1(a.sx(x))} ${f1(a.sy(ty(y)))}`).join("");
    const marker = good.length === 1 ? `<circle cx="${f1(a.sx(good[0][0]))}" cy="${f1(a.sy(ty(good[0][1])))}" r="3" fill="${PALETTE[i % 10]}"/>` : "";
    return `<path class="line" data-series="${esc(s.name)}" d="${d}" stroke="${PALETTE[i % 10]}" stroke-width="1.8" fill="none"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>${marker}`;
  }).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${fr.w} ${fr.h}" width="${fr.w}" height="${fr.h}" role="img" aria-label="${esc(o.title)}">${a.svg}${paths}${legend(fr, series.map((s, i) => ({ name: s.name, colour: PALETTE[i % 10] })))}</svg>`;
}

/** Confusion matrix heat map: cell shade = row-normalised share (recall), text = count. */
export function heatmapSvg(m: number[][], labels: readonly string[], o: { title: string }): string {
  const k = labels.length, cell = Math.max(26, Math.min(56, Math.floor(420 / Math.max(1, k))));
  const left = 110, top = 46, w = Math.max(left + cell * k + 20, 7 * o.title.length + 20), h = top + cell * k + 70;
  let s = `<text x="${w / 2}" y="16" font-size="13" font-weight="bold" text-anchor="middle">${esc(o.title)}</text>`;
  s += `<text x="${left + (cell * k) / 2}" y="${h - 8}" font-size="11" text-anchor="middle">predicted</text>`;
  s += `<text x="12" y="${top + (cell * k) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${top + (cell * k) / 2})">true</text>`;
  const short = (t: string) => (t.length > 13 ? t.slice(0, 12) + "…" : t);
  for (let i = 0; i < k; i++) {
    const total = m[i].reduce((a, b) => a + b, 0);
    s += `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" font-size="11" text-anchor="end">${esc(short(labels[i]))}</text>`;
    for (let j = 0; j < k; j++) {
      const share = total ? m[i][j] / total : 0;
      const shade = Math.round(255 - share * 200);
      const fill = i === j ? `rgb(${shade},${Math.round(255 - share * 120)},${shade})` : `rgb(255,${shade},${shade})`;
      s += `<rect class="cell" x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff"><title>${esc(labels[i])} → ${esc(labels[j])}: ${m[i][j]} (${(share * 100).toFixed(1)}%)</title></rect>`;
      s += `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" font-size="${cell < 34 ? 9 : 11}" text-anchor="middle" fill="${share > 0.6 ? "#fff" : "#222"}">${m[i][j]}</text>`;
    }
  }
  for (let j = 0; j < k; j++) {
    const x = left + j * cell + cell / 2, y = top + k * cell + 8;
    s += `<text x="${x}" y="${y}" font-size="11" text-anchor="end" transform="rotate(-40 ${x} ${y})">${esc(short(labels[j]))}</text>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(o.title)}">${s}</svg>`;
}
