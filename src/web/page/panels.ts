// The side panel's pieces: legend, item details, neighbour gallery.
import type { ColumnData, Item, Neighbour } from "./api.ts";
import { imageUrl, thumbUrl } from "./api.ts";
import { el, kvTable } from "./dom.ts";
import { categoryColour, MISSING, namedCategories, OTHER, PLAIN, RAMP_CSS } from "./palette.ts";

export function renderLegend(list: HTMLElement, title: HTMLElement, col: ColumnData | null, n: number): void {
  list.replaceChildren();
  const swatch = (colour: string) => el("span", { class: "swatch", style: `background:${colour}` });
  const row = (colour: string, name: string, count: number | null, code?: number) =>
    el("li", code === undefined ? {} : { "data-code": String(code) }, swatch(colour), el("span", { class: "name" }, name), el("span", { class: "count" }, count === null ? "" : String(count)));
  if (!col) {
    title.textContent = "Legend";
    list.append(row(PLAIN, "all items", n));
    return;
  }
  title.textContent = `Legend: ${col.name}`;
  if (col.kind === "category") {
    const named = namedCategories(col.categories.length);
    col.categories.slice(0, named).forEach((c, i) => list.append(row(categoryColour(i, col.categories.length), c, col.counts[i], i)));
    const rest = col.counts.slice(named).reduce((s, v) => s + v, 0);
    if (rest) list.append(row(OTHER, `${col.categories.length - named} others`, rest));
  } else if (col.kind === "number") {
    list.append(el("li", {}, el("span", {}, fmt(col.min)), el("span", { class: "ramp", style: `background:${RAMP_CSS}` }), el("span", {}, fmt(col.max))));
  }
  if (col.missing) list.append(row(MISSING, "(missing)", col.missing));
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(Math.round(v * 1000) / 1000));

export function itemTable(item: Item, maxRows = 12): HTMLTableElement {
  const rows: [string, string][] = [["id", item.id]];
  for (const [k, v] of Object.entries(item.values)) if (!["id", "path"].includes(k) && v !== null && v !== "") rows.push([k, v]);
  return kvTable(rows.slice(0, maxRows));
}

export function renderSelected(box: HTMLElement, item: Item): void {
  box.classList.remove("muted");
  box.replaceChildren(
    item.hasThumb ? el("img", { src: thumbUrl(item.index), alt: item.id }) : "",
    itemTable(item, 20),
    item.path ? el("a", { href: imageUrl(item.index), target: "_blank", rel: "noopener" }, "larger image") : "",
  );
  box.dataset.index = String(item.index);
}

export function renderGallery(list: HTMLElement, nb: Neighbour[], onPick: (i: number) => void): void {
  list.replaceChildren(
    ...nb.map((x) => {
      const li = el("li", { "data-index": String(x.index), "data-id": x.id, title: x.id },
        el("img", { src: thumbUrl(x.index), alt: "", loading: "lazy" }),
        el("span", { class: "id" }, x.id),
        el("span", { class: "sim" }, x.similarity.toFixed(3)));
      li.addEventListener("click", () => onPick(x.index));
      return li;
    }),
  );
}
