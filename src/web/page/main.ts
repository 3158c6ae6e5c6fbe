// The explorer page: wires the map (renderer + overlay + camera), colouring, hover, selection with neighbours,
// box selection with CSV export, and embedding a dropped image. window.__explorer exposes a few read-outs and
// camera moves for the tests and the frame-time bench.
import * as api from "./api.ts";
import { byId, el } from "./dom.ts";
import { decodeFile, encode, inputPreview, modelInput } from "./embed-image.ts";
import { PointGrid } from "./grid.ts";
import { coloursFromCodes, coloursFromNumbers, plainColours } from "./palette.ts";
import { itemTable, renderGallery, renderLegend, renderSelected } from "./panels.ts";
import { createRenderer } from "./renderer.ts";
import { View } from "./view.ts";

type Kind = "umap" | "pca";
interface PlacedImage { name: string; vector: Float32Array; at: Record<Kind, [number, number]>; neighbours: api.Neighbour[] }

const params = new URLSearchParams(location.search);
const mapCanvas = byId<HTMLCanvasElement>("map"), overlay = byId<HTMLCanvasElement>("overlay"), wrap = byId("map-wrap");
const tooltip = byId("tooltip"), status = byId("status");
const forced = params.get("renderer");
const renderer = createRenderer(mapCanvas, forced === "canvas" || forced === "webgl" ? forced : "auto");
const octx = overlay.getContext("2d")!;
const view = new View();

const state = {
  meta: null as api.Meta | null,
  kind: "umap" as Kind,
  xy: new Float32Array(0) as Float32Array,
  grid: null as PointGrid | null,
  colours: new Uint8Array(0) as Uint8Array,
  column: null as api.ColumnData | null,
  hover: -1,
  selected: -1,
  neighbours: [] as api.Neighbour[],
  placed: null as PlacedImage | null,
  box: null as number[] | null,
  dragBox: null as [number, number, number, number] | null,
  ready: false,
  frames: 0,
  error: null as string | null,
};
const items = new Map<number, Promise<api.Item>>();
const item = (i: number) => {
  let p = items.get(i);
  if (!p) items.set(i, (p = api.getItem(i)));
  return p;
};

function say(text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle("error", error);
  if (error) state.error = text;
}

// ---- drawing ----
let drawQueued = false;
function requestDraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

function draw(): void {
  renderer.draw(view);
  drawOverlay();
  state.frames++;
}

function drawOverlay(): void {
  const dpr = devicePixelRatio || 1;
  octx.setTransform(dpr, 0, 0, dpr, 0, 0);
  octx.clearRect(0, 0, view.width, view.height);
  const ring = (i: number, r: number, colour: string, width: number) => {
    const [x, y] = view.toScreen(state.xy[2 * i], state.xy[2 * i + 1]);
    octx.beginPath();
    octx.arc(x, y, r, 0, 2 * Math.PI);
    octx.strokeStyle = colour;
    octx.lineWidth = width;
    octx.stroke();
  };
  for (const nb of state.neighbours) ring(nb.index, 5, "#ff7f0e", 2);
  if (state.selected >= 0) (ring(state.selected, 7, "#fff", 4), ring(state.selected, 7, "#000", 2));
  if (state.hover >= 0) ring(state.hover, 6, "#333", 1);
  if (state.placed) {
    const [x, y] = view.toScreen(...state.placed.at[state.kind]);
    star(x, y, 10);
  }
  if (state.dragBox) {
    const [x0, y0, x1, y1] = state.dragBox;
    octx.fillStyle = "#3a7bd522";
    octx.strokeStyle = "#3a7bd5";
    octx.lineWidth = 1;
    octx.fillRect(x0, y0, x1 - x0, y1 - y0);
    octx.strokeRect(x0, y0, x1 - x0, y1 - y0);
  }
}

function star(x: number, y: number, r: number): void {
  octx.beginPath();
  for (let j = 0; j < 10; j++) {
    const a = -Math.PI / 2 + (j * Math.PI) / 5, rr = j % 2 ? r * 0.45 : r;
    octx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  octx.closePath();
  octx.fillStyle = "#d62728";
  octx.fill();
  octx.strokeStyle = "#000";
  octx.lineWidth = 1.5;
  octx.stroke();
}

function resize(): void {
  const r = wrap.getBoundingClientRect(), dpr = devicePixelRatio || 1;
  const first = view.width <= 1;
  view.width = r.width;
  view.height = r.height;
  renderer.resize(r.width, r.height, dpr);
  overlay.width = Math.round(r.width * dpr);
  overlay.height = Math.round(r.height * dpr);
  if (first && state.xy.length) view.fit(state.xy);
  requestDraw();
}

// ---- data ----
async function loadProjection(kind: Kind): Promise<void> {
  say(`loading ${kind.toUpperCase()} map…`);
  state.xy = await api.getPoints(kind);
  state.kind = kind;
  state.grid = new PointGrid(state.xy);
  renderer.setPositions(state.xy);
  view.fit(state.xy);
  say("");
  requestDraw();
}

async function colourBy(name: string | null): Promise<void> {
  const n = state.meta!.n;
  state.column = name ? await api.getColumn(name) : null;
  const c = state.column;
  state.colours = !c || c.kind === "text" ? plainColours(n) : c.kind === "category" ? coloursFromCodes(c.codes, c.categories.length) : coloursFromNumbers(c.values, c.min, c.max);
  applyColours();
  renderLegend(byId("legend"), byId("legend-title"), c, n);
}

/** Base colours, with everything outside a box selection faded. */
function applyColours(): void {
  let rgba = state.colours;
  if (state.box) {
    rgba = rgba.slice();
    for (let i = 3; i < rgba.length; i += 4) rgba[i] = 40;
    for (const i of state.box) rgba[4 * i + 3] = 255;
  }
  renderer.setColours(rgba);
  requestDraw();
}

// ---- selection ----
async function select(i: number): Promise<void> {
  state.selected = i;
  state.placed = null;
  requestDraw();
  const [it, nb] = await Promise.all([item(i), api.getNeighbours(i, state.meta!.k)]);
  if (state.selected !== i) return; // another click came first
  state.neighbours = nb;
  renderSelected(byId("selected"), it);
  renderGallery(byId("neighbours"), nb, (j) => void select(j).catch(fail));
  requestDraw();
}

function clearSelection(): void {
  state.selected = -1;
  state.neighbours = [];
  state.placed = null;
  byId("selected").replaceChildren("click a point to see its nearest neighbours");
  byId("selected").classList.add("muted");
  byId("neighbours").replaceChildren();
  setBox(null);
}

function setBox(indices: number[] | null): void {
  state.box = indices;
  byId("box-info").textContent = indices ? `${indices.length} item(s) selected` : "shift-drag on the map to select a region";
  byId<HTMLButtonElement>("export-csv").disabled = !indices?.length;
  byId<HTMLButtonElement>("clear-box").disabled = !indices;
  applyColours();
}

let ids: Promise<string[]> | null = null;
async function exportCsv(): Promise<void> {
  if (!state.box) return;
  ids ??= api.getIds();
  const all = await ids;
  const col = state.column;
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const extra = col && col.kind === "category" ? col.name : null;
  const lines = [["index", "id", ...(extra ? [extra] : [])].map(q).join(",")];
  for (const i of state.box) lines.push([String(i), all[i], ...(extra && col!.kind === "category" ? [col!.codes[i] < 0 ? "" : col!.categories[col!.codes[i]]] : [])].map(q).join(","));
  const a = el("a", { href: URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" })), download: `${state.meta!.name}-selection.csv` });
  document.body.append(a);
  a.click();
  a.remove();
}

// ---- hover ----
let hoverAt: [number, number] | null = null;
function updateHover(): void {
  if (!hoverAt || !state.grid) return;
  const [sx, sy] = hoverAt;
  const [x, y] = view.toData(sx, sy);
  const i = state.grid.nearest(x, y, 8 / view.scale);
  if (i === state.hover) return;
  state.hover = i;
  requestDraw();
  if (i < 0) return void (tooltip.hidden = true);
  tooltip.hidden = false;
  tooltip.style.left = `${Math.min(sx + 14, view.width - 270)}px`;
  tooltip.style.top = `${Math.min(sy + 14, view.height - 120)}px`;
  tooltip.replaceChildren(el("span", { class: "muted" }, "…"));
  item(i).then((it) => {
    if (state.hover !== i) return;
    tooltip.replaceChildren(it.hasThumb ? el("img", { src: api.thumbUrl(i), alt: "" }) : "", itemTable(it, 8));
    tooltip.dataset.index = String(i);
    // keep it inside the map: above the cursor when there is no room below
    const h = Math.max(tooltip.offsetHeight, 76);
    tooltip.style.top = `${sy + 14 + h <= view.height ? sy + 14 : Math.max(0, sy - 14 - h)}px`;
  }, fail);
}

// ---- pointer: drag pans, shift-drag boxes, a click selects ----
let down: { x: number; y: number; box: boolean; moved: boolean } | null = null;
const local = (e: PointerEvent | WheelEvent | MouseEvent): [number, number] => {
  const r = overlay.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top];
};
overlay.addEventListener("pointerdown", (e) => {
  const [x, y] = local(e);
  down = { x, y, box: e.shiftKey, moved: false };
  overlay.setPointerCapture(e.pointerId);
});
overlay.addEventListener("pointermove", (e) => {
  const [x, y] = local(e);
  if (down) {
    if (!down.moved && Math.hypot(x - down.x, y - down.y) < 3) return;
    down.moved = true;
    if (down.box) state.dragBox = [Math.min(down.x, x), Math.min(down.y, y), Math.max(down.x, x), Math.max(down.y, y)];
    else {
      view.panBy(e.movementX, e.movementY);
      tooltip.hidden = true;
    }
    requestDraw();
    return;
  }
  hoverAt = [x, y];
  updateHover();
});
overlay.addEventListener("pointerup", (e) => {
  const d = down;
  down = null;
  if (!d) return;
  const [x, y] = local(e);
  if (d.box && d.moved && state.grid) {
    const [xa, ya] = view.toData(Math.min(d.x, x), Math.max(d.y, y)), [xb, yb] = view.toData(Math.max(d.x, x), Math.min(d.y, y));
    state.dragBox = null;
    setBox(state.grid.inRect(xa, ya, xb, yb));
  } else if (!d.moved && state.grid) {
    const [dx, dy] = view.toData(x, y);
    const i = state.grid.nearest(dx, dy, 8 / view.scale);
    if (i >= 0) select(i).catch(fail);
  }
  requestDraw();
});
overlay.addEventListener("pointerleave", () => {
  hoverAt = null;
  state.hover = -1;
  tooltip.hidden = true;
  requestDraw();
});
overlay.addEventListener("wheel", (e) => {
  e.preventDefault();
  const [x, y] = local(e);
  view.zoomAt(x, y, Math.exp(-e.deltaY * 0.0015));
  requestDraw();
}, { passive: false });
addEventListener("keydown", (e) => {
  if (e.key === "Escape") clearSelection();
});

// ---- dropping an image ----
async function embedFile(file: File): Promise<void> {
  const meta = state.meta!;
  if (!meta.input) throw new Error(`this run cannot embed new images: ${meta.inputProblem}`);
  say(`embedding ${file.name} in the browser…`);
  const x = modelInput(await decodeFile(file), meta.input);
  const vector = await encode(x, meta.input);
  if (vector.length !== meta.d) throw new Error(`the encoder gave ${vector.length} numbers; the run's embedding has ${meta.d}`);
  const placed = await api.place(vector, meta.k);
  state.selected = -1;
  state.placed = { name: file.name, vector, at: placed.at, neighbours: placed.neighbours };
  state.neighbours = placed.neighbours;
  const box = byId("selected");
  box.classList.remove("muted");
  box.dataset.index = "";
  box.replaceChildren(el("img", { src: inputPreview(x, meta.input), alt: file.name }), el("b", {}, file.name), el("br"), "embedded in this browser (★ on the map)");
  renderGallery(byId("neighbours"), placed.neighbours, (j) => void select(j).catch(fail));
  say(`${file.name}: placed on the map`);
  requestDraw();
}

wrap.addEventListener("dragover", (e) => {
  e.preventDefault();
  wrap.classList.add("dragging");
});
wrap.addEventListener("dragleave", () => wrap.classList.remove("dragging"));
wrap.addEventListener("drop", (e) => {
  e.preventDefault();
  wrap.classList.remove("dragging");
  const f = e.dataTransfer?.files[0];
  if (f) embedFile(f).catch(fail);
});
byId<HTMLInputElement>("file").addEventListener("change", (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) embedFile(f).catch(fail);
});

function fail(e: unknown): void {
  say(e instanceof Error ? e.message : String(e), true);
}

// ---- start ----
async function start(): Promise<void> {
  const meta = (state.meta = await api.getMeta());
  document.title = `${meta.name} · bie explorer`;
  byId("run-name").textContent = meta.name;
  byId("count").textContent = `${meta.n.toLocaleString("en")} items × ${meta.d} dims`;
  const sel = byId<HTMLSelectElement>("colour-by");
  sel.replaceChildren(el("option", { value: "" }, "(none)"), ...meta.columns.filter((c) => c.kind !== "text" && c.distinct > 1).map((c) => el("option", { value: c.name }, c.name)));
  sel.value = meta.colourBy ?? "";
  sel.addEventListener("change", () => colourBy(sel.value || null).catch(fail));
  const proj = byId<HTMLSelectElement>("projection");
  proj.addEventListener("change", () => loadProjection(proj.value as Kind).catch(fail));
  byId("export-csv").addEventListener("click", () => exportCsv().catch(fail));
  byId("clear-box").addEventListener("click", () => setBox(null));
  if (!meta.input) byId("file").closest("label")!.title = `embedding new images is off: ${meta.inputProblem}`;
  renderer.pointSize = meta.n > 50000 ? 2 : meta.n > 5000 ? 3 : 5;
  resize();
  new ResizeObserver(resize).observe(wrap);
  await loadProjection("umap");
  await colourBy(meta.colourBy);
  state.ready = true;
}

const explorer = {
  state,
  view,
  get renderer() {
    return renderer.kind;
  },
  /** CSS pixel position (page coordinates) of item i on the map. */
  screenOf(i: number): [number, number] {
    const r = overlay.getBoundingClientRect();
    const [x, y] = view.toScreen(state.xy[2 * i], state.xy[2 * i + 1]);
    return [r.left + x, r.top + y];
  },
  panBy(dx: number, dy: number): void {
    view.panBy(dx, dy);
    requestDraw();
  },
  zoomBy(factor: number): void {
    view.zoomAt(view.width / 2, view.height / 2, factor);
    requestDraw();
  },
  /** Draw now (not at the next frame) and return how long it took, ms. */
  drawNow(): number {
    const t = performance.now();
    draw();
    return performance.now() - t;
  },
};
(window as unknown as { __explorer: typeof explorer }).__explorer = explorer;
start().catch(fail);
