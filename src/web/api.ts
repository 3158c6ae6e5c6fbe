// Routing every request the explorer answers. Each input is checked before use: item numbers must be whole
// numbers below n, column names must exist, vectors must be d finite numbers, file paths must stay inside the
// run folder. Failures are 400/404/405/413 with a JSON message; an unexpected error is a 500 — never a crash.
import type { IncomingMessage, ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { statSync } from "node:fs";
import { thumbnailPng } from "../eval/report/thumbs.ts";
import { readItemImage } from "./item-pixels.ts";
import { appBundle, contentType, ortFile, pageFile } from "./assets.ts";
import type { EncoderSource } from "./encoder.ts";
import { badRequest, HttpError, notFound } from "./http-errors.ts";
import { readBody, send, sendJson } from "./http.ts";
import { cosineKnn } from "./knn.ts";
import type { ExploreOptions } from "./options.ts";
import { PROJECTIONS, type Projection, type ProjectionKind } from "./projection.ts";
import { categoryCodes, type RunData } from "./run-data.ts";
import { fileInside } from "./safe-path.ts";
import type { ThumbStore } from "./thumbs.ts";

export interface ExplorerContext {
  run: RunData;
  opts: ExploreOptions;
  projection(kind: ProjectionKind): Promise<Projection>;
  thumbs: ThumbStore;
  encoder: EncoderSource;
}

type Handler = (ctx: ExplorerContext, m: RegExpMatchArray, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;
interface Route { method: "GET" | "POST"; pattern: RegExp; handler: Handler }

const MAX_K = 200;
const PREVIEW_PX = 256;

const routes: Route[] = [
  { method: "GET", pattern: /^\/$/, handler: async (_c, _m, _q, res) => asset(res, await pageFile("index.html")) },
  { method: "GET", pattern: /^\/style\.css$/, handler: async (_c, _m, _q, res) => asset(res, await pageFile("style.css")) },
  { method: "GET", pattern: /^\/app\.js$/, handler: async (_c, _m, _q, res) => send(res, 200, await appBundle(), contentType(".js")) },
  { method: "GET", pattern: /^\/ort\/([^/]+)$/, handler: ortAsset },
  { method: "GET", pattern: /^\/api\/meta$/, handler: meta },
  { method: "GET", pattern: /^\/api\/points\/([^/]+)$/, handler: points },
  { method: "GET", pattern: /^\/api\/columns\/([^/]+)$/, handler: column },
  { method: "GET", pattern: /^\/api\/ids$/, handler: async (c, _m, _q, res) => sendJson(res, c.run.table.ids) },
  { method: "GET", pattern: /^\/api\/items\/([^/]+)$/, handler: item },
  { method: "GET", pattern: /^\/api\/thumbs\/([^/]+)\.png$/, handler: thumb },
  { method: "GET", pattern: /^\/api\/images\/([^/]+)\.png$/, handler: preview },
  { method: "GET", pattern: /^\/api\/neighbours\/([^/]+)$/, handler: neighbours },
  { method: "POST", pattern: /^\/api\/place$/, handler: place },
  { method: "GET", pattern: /^\/api\/encoder\.onnx$/, handler: async (c, _m, _q, res) => send(res, 200, await c.encoder(), "application/octet-stream") },
  { method: "GET", pattern: /^\/run\/(.+)$/, handler: runFile },
];

export async function route(ctx: ExplorerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://explorer.invalid");
  } catch {
    throw badRequest("malformed request URL");
  }
  const method = req.method === "HEAD" ? "GET" : req.method;
  const matching = routes.filter((r) => r.pattern.test(url.pathname));
  if (matching.length === 0) throw notFound(`no such page: ${url.pathname}`);
  const r = matching.find((x) => x.method === method);
  if (!r) {
    res.setHeader("Allow", [...new Set(matching.map((x) => x.method))].join(", "));
    throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
  }
  await r.handler(ctx, url.pathname.match(r.pattern)!, req, res, url);
}

function asset(res: ServerResponse, a: { body: Uint8Array | string; type: string }): void {
  send(res, 200, a.body, a.type);
}

async function ortAsset(_c: ExplorerContext, m: RegExpMatchArray, _q: IncomingMessage, res: ServerResponse): Promise<void> {
  const a = await ortFile(m[1]);
  if (!a) throw notFound(`no runtime file ${m[1]}`);
  send(res, 200, a.body, a.type, "max-age=3600");
}

/** A row number from the URL: digits only, below n. */
function itemIndex(ctx: ExplorerContext, raw: string): number {
  if (!/^\d{1,10}$/.test(raw)) throw badRequest(`item must be a row number, got '${raw.slice(0, 40)}'`);
  const i = Number(raw);
  if (i >= ctx.run.table.n) throw notFound(`no item ${i} (the run has ${ctx.run.table.n})`);
  return i;
}

function kParam(ctx: ExplorerContext, url: URL): number {
  const raw = url.searchParams.get("k");
  if (raw === null) return ctx.opts.k;
  const k = Number(raw);
  if (!/^\d{1,4}$/.test(raw) || k < 1 || k > MAX_K) throw badRequest(`k must be a whole number in [1, ${MAX_K}]`);
  return k;
}

async function meta(ctx: ExplorerContext, _m: RegExpMatchArray, _q: IncomingMessage, res: ServerResponse): Promise<void> {
  const { run, opts, thumbs } = ctx;
  const categorical = run.columns.filter((c) => c.kind === "category" && c.distinct > 1);
  const colourBy = categorical.find((c) => c.name === "label")?.name ?? categorical[0]?.name ?? null;
  sendJson(res, {
    name: run.name, n: run.table.n, d: run.table.d, source: run.table.source,
    columns: run.columns, colourBy, projections: PROJECTIONS, k: opts.k,
    thumbSize: opts.thumbSize, thumbsMissing: thumbs.missing,
    input: run.input, inputProblem: run.inputProblem,
    umap: (await ctx.projection("umap")).info,
  });
}

async function points(ctx: ExplorerContext, m: RegExpMatchArray, _q: IncomingMessage, res: ServerResponse): Promise<void> {
  const kind = m[1] as ProjectionKind;
  if (!PROJECTIONS.includes(kind)) throw notFound(`no projection '${m[1].slice(0, 40)}' (have ${PROJECTIONS.join(", ")})`);
  const p = await ctx.projection(kind);
  send(res, 200, new Uint8Array(p.coords.buffer, p.coords.byteOffset, p.coords.byteLength), "application/octet-stream");
}

async function column(ctx: ExplorerContext, m: RegExpMatchArray, _q: IncomingMessage, res: ServerResponse): Promise<void> {
  const name = decodeSegment(m[1]);
  const info = ctx.run.columns.find((c) => c.name === name);
  if (!info) throw notFound(`no column '${name.slice(0, 80)}'`);
  const values = ctx.run.table.columns[name];
  if (info.kind === "number") {
    const nums = values.map((v) => (v === null || v === "" ? null : Number(v)));
    let min = Infinity, max = -Infinity; // a loop: spreading 100k+ values into Math.min overflows the stack
    for (const v of nums) if (v !== null) (min = Math.min(min, v)), (max = Math.max(max, v));
    sendJson(res, { ...info, values: nums, min, max });
  } else if (info.kind === "category") {
    const { categories, counts, codes } = categoryCodes(values);
    sendJson(res, { ...info, categories, counts, codes: Array.from(codes) });
  } else sendJson(res, { ...info, values });
}

async function item(ctx: ExplorerContext, m: RegExpMatchArray, _q: IncomingMessage, res: ServerResponse): Promise<void> {
  const i = itemIndex(ctx, m[1]);
  const { table } = ctx.run;
  const values: Record<string, string | null> = {};
  for (const [name, col] of Object.entries(table.columns)) values[name] = col[i];
  sendJson(res, { index: i, id: table.ids[i], path: table.paths[i], values, hasThumb: (await ctx.thumbs.get(i)) !== null });
}

async function thumb(ctx: ExplorerContext, m: RegExpMatchArray, _q: IncomingMessage, res: ServerResponse): Promise<void> {
  const png = await ctx.thumbs.get(itemIndex(ctx, m[1]));
  if (!png) throw notFound("this item has no thumbnail (its image could not be read)");
  send(res, 200, png, "image/png", "max-age=3600");
}

/** A larger view of one item's image, made when asked for: the page never loads these on its own. */
async function preview(ctx: ExplorerContext, m: RegExpMatchArray, _q: IncomingMessage, res: ServerResponse): Promise<void> {
  const i = itemIndex(ctx, m[1]);
  const path = ctx.run.table.paths[i];
  if (!path) throw notFound("this item has no image path");
  let png: Uint8Array;
  try {
    png = thumbnailPng(await readItemImage(ctx.run.table, i), PREVIEW_PX);
  } catch (e) {
    throw notFound(`cannot read this item's image (${(e as Error).message})`);
  }
  send(res, 200, png, "image/png");
}

async function neighbours(ctx: ExplorerContext, m: RegExpMatchArray, _q: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const i = itemIndex(ctx, m[1]);
  const { unit, table } = ctx.run;
  const nb = cosineKnn(unit, table.n, table.d, unit.subarray(i * table.d, (i + 1) * table.d), kParam(ctx, url), i);
  sendJson(res, { index: i, id: table.ids[i], neighbours: nb.map((x) => ({ ...x, id: table.ids[x.index] })) });
}

/** A vector embedded by the page: its neighbours and where it lands on every map. */
async function place(ctx: ExplorerContext, _m: RegExpMatchArray, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const { table, unit } = ctx.run;
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req, 64 + table.d * 32)).toString("utf8"));
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw badRequest("body must be JSON: {\"vector\": [numbers]}");
  }
  const v = (body as { vector?: unknown })?.vector;
  if (!Array.isArray(v) || v.length !== table.d || !v.every((x) => typeof x === "number" && Number.isFinite(x)))
    throw badRequest(`vector must be ${table.d} finite numbers (the run's embedding size)`);
  const k = kParam(ctx, url);
  const nb = cosineKnn(unit, table.n, table.d, v, Math.max(k, 15));
  const at: Record<string, [number, number]> = {};
  for (const kind of PROJECTIONS) at[kind] = (await ctx.projection(kind)).place(v, nb.slice(0, 15));
  sendJson(res, { neighbours: nb.slice(0, k).map((x) => ({ ...x, id: table.ids[x.index] })), at });
}

/** Any file of the run folder, read-only (recon grids, config, metrics); nothing outside it. */
async function runFile(ctx: ExplorerContext, m: RegExpMatchArray, _q: IncomingMessage, res: ServerResponse): Promise<void> {
  const file = fileInside(ctx.run.dir, m[1]);
  if (!file) throw new HttpError(403, "path is outside the run folder or does not exist");
  if (!statSync(file).isFile()) throw notFound("not a file");
  send(res, 200, new Uint8Array(await readFile(file)), contentType(file));
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw badRequest("malformed percent-encoding");
  }
}
