// Point colours: a 20-colour categorical palette (Tableau 10 and its light variants), grey for missing values,
// and a viridis ramp for numeric columns. Colours are RGBA bytes per point, ready for either renderer.

const CATEGORICAL = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#79706e",
  "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d", "#f1ce63", "#d4a6c8", "#fabfd2", "#d7b5a6", "#bab0ac",
];
export const MISSING = "#cccccc";
export const OTHER = "#888888";
export const PLAIN = "#4e79a7";
const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];

/** Up to 20 categories get a colour each; with more, the first 19 do and the rest share OTHER. */
export function namedCategories(total: number): number {
  return total <= CATEGORICAL.length ? total : CATEGORICAL.length - 1;
}

export function categoryColour(code: number, total: number): string {
  return code < 0 ? MISSING : code < namedCategories(total) ? CATEGORICAL[code] : OTHER;
}

export function rgb(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** Viridis at t in [0,1], as a CSS colour. */
export function ramp(t: number): string {
  const x = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS.length - 2), f = x - i;
  const a = rgb(VIRIDIS[i]), b = rgb(VIRIDIS[i + 1]);
  const c = a.map((v, j) => Math.round(v + f * (b[j] - v)));
  return `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

export const RAMP_CSS = `linear-gradient(to right, ${VIRIDIS.join(", ")})`;

export function coloursFromCodes(codes: ArrayLike<number>, total: number): Uint8Array {
  const named = namedCategories(total);
  const lut = Array.from({ length: named + 1 }, (_, c) => rgb(categoryColour(c, total)));
  const miss = rgb(MISSING);
  const out = new Uint8Array(codes.length * 4);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    const [r, g, b] = c < 0 ? miss : lut[Math.min(c, named)];
    out.set([r, g, b, 255], i * 4);
  }
  return out;
}

export function coloursFromNumbers(values: (number | null)[], min: number, max: number): Uint8Array {
  const lut = Array.from({ length: 256 }, (_, j) => rgb(ramp(j / 255)));
  const miss = rgb(MISSING);
  const span = max > min ? max - min : 1;
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => {
    const [r, g, b] = v === null ? miss : lut[Math.round(((v - min) / span) * 255)];
    out.set([r, g, b, 255], i * 4);
  });
  return out;
}

export function plainColours(n: number): Uint8Array {
  const [r, g, b] = rgb(PLAIN);
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) out.set([r, g, b, 255], i * 4);
  return out;
}
