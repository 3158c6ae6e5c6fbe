// The explorer end to end: a tiny real run (train + embed), `bie explore` started as the CLI does, and the page
// in headless Chromium. Checks: the map draws and moves, colouring changes the legend, a click lists the
// server's k-NN (which matches a brute-force cosine k-NN computed here), hover shows a thumbnail, a box
// selection exports the ids inside it, a dropped image is embedded in the browser and placed, bad requests
// (path traversal, bad ids, foreign Host, oversized bodies) are refused without harming the server, and the
// page loads nothing from outside the server. Screenshots go to .test-out/web/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { readNpy } from "../src/io/npy.ts";
import { CHROMIUM, CHROMIUM_ARGS, OUT, ROOT, changedPixels, cosineTo, inkPixels, makeRun, raw, serve, type Served } from "./web-helpers.ts";

const SHOTS = join(OUT, "web");
const noChromium = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (scripts/setup.sh installs it)`;
let tmp: string, run: string, srv: Served, browser: Browser | null = null, page: Page;
let X: Float32Array, n: number, d: number;
const offsite: string[] = [];

// Page-side code: read-outs are strings (tsx would wrap named inner functions with helpers the page lacks);
// waits are plain arrow functions, because the page's Content-Security-Policy forbids eval of strings.
const ex = (expr: string) => page.evaluate(`(() => { const E = window.__explorer; return ${expr}; })()`);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type W = any;
const until = (fn: () => unknown, timeout = 60_000) => page.waitForFunction(fn, null, { timeout });

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), "bie-web-"));
  run = makeRun(tmp);
  const npy = await readNpy(join(run, "embeddings.npy"));
  [n, d] = npy.shape;
  X = npy.data as Float32Array;
  srv = await serve(run);
  if (noChromium) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page.setDefaultTimeout(60_000);
  page.on("request", (r) => { if (!r.url().startsWith(srv.url) && !/^(data|blob):/.test(r.url())) offsite.push(r.url()); });
  await page.goto(srv.url);
  await until(() => (window as W).__explorer && ((window as W).__explorer.state.ready || (window as W).__explorer.state.error), 120_000);
  assert.equal(await ex("E.state.error"), null);
});

after(async () => {
  await browser?.close();
  srv?.child.kill("SIGINT");
  if (srv) assert.equal(await srv.exited, 0, "Ctrl-C stops the server cleanly");
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("bie explore binds loopback, prints its URL and caches the map and thumbnails in the run", async () => {
  assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  for (const f of ["umap.npy", "umap.json", "thumbs.bin", "thumbs.idx", "thumbs.json"]) assert.ok(existsSync(join(run, "explore", f)), f);
  const meta = await (await fetch(`${srv.url}api/meta`)).json();
  assert.equal(meta.n, n);
  assert.equal(meta.d, d);
  assert.equal(meta.colourBy, "label");
  assert.deepEqual(meta.input && [meta.input.channels, meta.input.height, meta.input.width], [3, 32, 32]);
  const pts = new Float32Array(await (await fetch(`${srv.url}api/points/umap`)).arrayBuffer());
  assert.equal(pts.length, 2 * n);
  assert.ok(pts.every(Number.isFinite));
});

test("bie explore refuses a run without embeddings and a port in use, with one clear line each", async () => {
  const bare = join(tmp, "bare");
  mkdirSync(bare);
  writeFileSync(join(bare, "config.yaml"), "model: resnet18_ae\n");
  const noEmb = spawnSync(process.execPath, ["bin/bie.js", "explore", bare, "--port", "0"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(noEmb.status, 2);
  assert.match(noEmb.stderr, /no embeddings to explore yet: run `bie embed .*bare` first/);
  const port = new URL(srv.url).port;
  const busy = spawnSync(process.execPath, ["bin/bie.js", "explore", run, "--port", port], { cwd: ROOT, encoding: "utf8" });
  assert.equal(busy.status, 2);
  assert.match(busy.stderr, new RegExp(`port ${port} on 127.0.0.1 is in use`));
});

test("requests that leave the run folder or name no item are refused, and the server keeps serving", async () => {
  const passwd = /root:.*:0:0:/;
  for (const p of ["/run/../../../../etc/passwd", "/run/..%2f..%2f..%2f..%2fetc%2fpasswd", "/run/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/run/..%5c..%5cetc%5cpasswd",
    "/run//etc/passwd", "/run/%2fetc%2fpasswd", "/run/recon%00.png", "/run/%zz", "/../../etc/passwd", "/ort/..%2f..%2fpackage.json", "/ort/../../../package.json"]) {
    const r = await raw(srv.url, p);
    assert.ok([400, 403, 404].includes(r.status), `${p} → ${r.status}`);
    assert.doesNotMatch(r.body, passwd, p);
    assert.doesNotMatch(r.body, /"dependencies"/, p);
  }
  const cases: [string, number][] = [
    ["/api/items/-1", 400], ["/api/items/1e3", 400], ["/api/items/abc", 400], ["/api/items/99999999", 404], [`/api/items/${n}`, 404],
    ["/api/thumbs/x.png", 400], [`/api/thumbs/${n}.png`, 404], ["/api/neighbours/0?k=0", 400], ["/api/neighbours/0?k=abc", 400], ["/api/neighbours/0?k=100000", 400],
    ["/api/points/tsne", 404], ["/api/columns/nope", 404], ["/api/columns/%E0%A4%A", 400], ["/nothing", 404], ["/ort/evil.wasm", 404],
  ];
  for (const [p, status] of cases) assert.equal((await raw(srv.url, p)).status, status, p);
  assert.equal((await raw(srv.url, "/api/meta", { method: "DELETE" })).status, 405);
  const post = (body: string) => raw(srv.url, "/api/place", { method: "POST", body, headers: { "Content-Type": "application/json" } });
  assert.equal((await post("not json")).status, 400);
  assert.equal((await post(JSON.stringify({ vector: [1, 2, 3] }))).status, 400, "wrong length");
  assert.equal((await post(JSON.stringify({ vector: Array(d).fill("x") }))).status, 400, "not numbers");
  assert.equal((await post(JSON.stringify({ vector: Array(d).fill(1e400) }))).status, 400, "not finite");
  assert.equal((await post("[" + "1,".repeat(200_000) + "1]")).status, 413, "oversized body");
  assert.equal((await raw(srv.url, "/api/meta", { headers: { Host: "evil.example:80" } })).status, 421, "DNS-rebinding guard");
  // a file inside the run is served
  const cfg = await raw(srv.url, "/run/config.yaml");
  assert.equal(cfg.status, 200);
  assert.match(cfg.body, /model: resnet18_ae/);
  assert.equal((await fetch(`${srv.url}api/meta`)).status, 200, "still serving");
  assert.equal(srv.child.exitCode, null, "no crash");
});

test("the server's k-NN is the brute-force cosine k-NN of the full embedding", async () => {
  for (const q of [0, 7, n - 1]) {
    const r = await (await fetch(`${srv.url}api/neighbours/${q}?k=10`)).json();
    const sims = cosineTo(X, n, d, X.subarray(q * d, (q + 1) * d));
    sims[q] = -Infinity; // itself is not its own neighbour
    const order = Array.from(sims.keys()).sort((a, b) => sims[b] - sims[a]);
    assert.equal(r.neighbours.length, 10);
    r.neighbours.forEach((nb: { index: number; similarity: number }, j: number) => {
      assert.ok(Math.abs(nb.similarity - sims[nb.index]) < 1e-5, `similarity of ${nb.index}`);
      assert.ok(Math.abs(nb.similarity - sims[order[j]]) < 1e-5, `rank ${j}: ${nb.similarity} vs ${sims[order[j]]}`);
    });
  }
});

test("the map draws, and pans when dragged", { skip: noChromium }, async () => {
  const map = page.locator("#map");
  const drawn = await map.screenshot();
  assert.ok(inkPixels(drawn) > n * 3, `ink pixels ${inkPixels(drawn)}`);
  const box = (await map.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 40, { steps: 6 });
  await page.mouse.up();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(true))));
  const moved = await map.screenshot();
  assert.ok(changedPixels(drawn, moved) > 100, "pixels change after panning");
  await page.screenshot({ path: join(SHOTS, "map.png") });
  // Headless Chromium's WebGL is software (SwiftShader), so the page drew with its CPU rasteriser; the WebGL
  // renderer, forced, must draw the same points too.
  assert.equal(await ex("E.renderer"), "canvas");
  const glPage = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await glPage.goto(`${srv.url}?renderer=webgl`);
    await glPage.waitForFunction(() => (window as W).__explorer?.state.ready || (window as W).__explorer?.state.error, null, { timeout: 60_000 });
    assert.equal(await glPage.evaluate("window.__explorer.renderer"), "webgl");
    const glShot = await glPage.locator("#map").screenshot();
    assert.ok(inkPixels(glShot) > n * 3, `WebGL ink pixels ${inkPixels(glShot)}`);
    await glPage.screenshot({ path: join(SHOTS, "map-webgl.png") });
  } finally {
    await glPage.close();
  }
  // back to the framed view for the next tests
  await page.selectOption("#projection", "pca");
  await until(() => (window as W).__explorer.state.kind === "pca");
  const pca = await map.screenshot();
  assert.ok(changedPixels(moved, pca) > 100, "PCA map differs");
  await page.selectOption("#projection", "umap");
  await until(() => (window as W).__explorer.state.kind === "umap");
});

test("colouring by a column changes the legend", { skip: noChromium }, async () => {
  const legend = () => page.locator("#legend li .name").allTextContents();
  const labels = [...new Set(readFileSync(join(run, "index.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(",")[3]))].sort();
  assert.deepEqual(await legend(), labels, "default: coloured by label, one legend entry per label");
  const before = await page.locator("#map").screenshot();
  await page.selectOption("#colour-by", "");
  await until(() => document.querySelector("#legend-title")!.textContent === "Legend");
  assert.deepEqual(await legend(), ["all items"]);
  const plain = await page.locator("#map").screenshot();
  assert.ok(changedPixels(before, plain) > 50, "point colours change");
  const other = (await page.locator("#colour-by option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).find((v) => v && v !== "label");
  assert.ok(other, "another column to colour by");
  await page.selectOption("#colour-by", other);
  await page.waitForFunction((name) => document.querySelector("#legend-title")!.textContent === `Legend: ${name}`, other);
  assert.notDeepEqual(await page.locator("#legend li").allTextContents(), labels);
  await page.selectOption("#colour-by", "label");
  await until(() => document.querySelector("#legend-title")!.textContent === "Legend: label");
  assert.deepEqual(await legend(), labels);
});

test("hover shows the item's thumbnail and metadata", { skip: noChromium }, async () => {
  const i = 3;
  const [x, y] = (await ex(`E.screenOf(${i})`)) as [number, number];
  await page.mouse.move(x, y);
  await until(() => (document.querySelector("#tooltip img") as HTMLImageElement | null)?.complete && (document.querySelector("#tooltip") as HTMLElement).dataset.index !== undefined);
  const hovered = Number(await page.getAttribute("#tooltip", "data-index"));
  const item = await (await fetch(`${srv.url}api/items/${hovered}`)).json();
  assert.ok((await page.textContent("#tooltip"))!.includes(item.id));
  assert.ok((await ex("document.querySelector('#tooltip img').naturalWidth")) as number > 0, "thumbnail decoded");
  const [hx, hy] = (await ex(`E.screenOf(${hovered})`)) as [number, number];
  assert.ok(Math.hypot(hx - x, hy - y) <= 8, "the hovered point is the one under the cursor");
});

test("clicking a point lists the server's nearest neighbours as a gallery", { skip: noChromium }, async () => {
  const i = 11;
  const [x, y] = (await ex(`E.screenOf(${i})`)) as [number, number];
  await page.mouse.click(x, y);
  await until(() => document.querySelectorAll("#neighbours li").length > 0 && (document.querySelector("#selected") as HTMLElement).dataset.index !== undefined);
  const picked = Number(await page.getAttribute("#selected", "data-index"));
  const [px, py] = (await ex(`E.screenOf(${picked})`)) as [number, number];
  assert.ok(Math.hypot(px - x, py - y) <= 8, "selected the point under the cursor");
  const shown = (await page.locator("#neighbours li").evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.index))));
  const server = await (await fetch(`${srv.url}api/neighbours/${picked}`)).json();
  assert.deepEqual(shown, server.neighbours.map((x: { index: number }) => x.index));
  assert.equal(shown.length, 12);
  await until(() => Array.from(document.querySelectorAll<HTMLImageElement>("#neighbours img")).every((im) => im.complete && im.naturalWidth > 0));
  await page.screenshot({ path: join(SHOTS, "neighbours.png") });
});

test("a box selection exports the ids inside it as CSV", { skip: noChromium }, async () => {
  await page.selectOption("#colour-by", "label"); // the CSV carries the colouring column
  await until(() => document.querySelector("#legend-title")!.textContent === "Legend: label");
  const box = (await page.locator("#overlay").boundingBox())!;
  const x0 = box.x + box.width * 0.25, y0 = box.y + box.height * 0.2, x1 = box.x + box.width * 0.6, y1 = box.y + box.height * 0.8;
  await page.keyboard.down("Shift");
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move(x1, y1, { steps: 5 });
  await page.mouse.up();
  await page.keyboard.up("Shift");
  const selected = (await ex("E.state.box")) as number[];
  assert.ok(selected.length > 0 && selected.length < n, `${selected.length} selected`);
  const inside = (await ex(`Array.from({ length: ${n} }, (_, i) => i).filter((i) => { const [x, y] = E.screenOf(i); return x >= ${x0} && x <= ${x1} && y >= ${y0} && y <= ${y1}; })`)) as number[];
  assert.deepEqual(selected, inside, "exactly the points inside the box");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
  const file = join(SHOTS, "selection.csv");
  await download.saveAs(file);
  const lines = readFileSync(file, "utf8").trim().split("\n");
  assert.equal(lines[0], "index,id,label");
  const ids = (await (await fetch(`${srv.url}api/ids`)).json()) as string[];
  assert.deepEqual(lines.slice(1).map((l) => l.split(",").slice(0, 2).join(",")), selected.map((i) => `${i},${ids[i]}`));
  await page.screenshot({ path: join(SHOTS, "box.png") });
  await page.click("#clear-box");
});

test("a dropped image is embedded in the browser and placed with its neighbours", { skip: noChromium }, async (t) => {
  const enc = await fetch(`${srv.url}api/encoder.onnx`);
  if (enc.status === 501) return t.skip(`ONNX export not available yet: ${(await enc.json()).error}`);
  assert.equal(enc.status, 200, await enc.clone().text());
  // A training image: embedded in the page it must land on its own row (same preprocessing, same encoder).
  const row = 5;
  const item = await (await fetch(`${srv.url}api/items/${row}`)).json();
  const b64 = readFileSync(item.path).toString("base64");
  const dt = await page.evaluateHandle(`(() => { const b = Uint8Array.from(atob(${JSON.stringify(b64)}), (c) => c.charCodeAt(0)); const dt = new DataTransfer(); dt.items.add(new File([b], "dropped.tif", { type: "image/tiff" })); return dt; })()`);
  await page.dispatchEvent("#map-wrap", "drop", { dataTransfer: dt });
  await until(() => (window as W).__explorer.state.placed || (window as W).__explorer.state.error, 120_000);
  assert.equal(await ex("E.state.error"), null);
  const placed = (await ex("({ at: E.state.placed.at, v: Array.from(E.state.placed.vector), nb: E.state.placed.neighbours })")) as { at: Record<string, [number, number]>; v: number[]; nb: { index: number; similarity: number }[] };
  const own = X.subarray(row * d, (row + 1) * d);
  const cos = cosineTo(own, 1, d, placed.v)[0];
  assert.ok(cos > 0.9999, `browser embedding vs bie embed: cosine ${cos}`);
  assert.equal(placed.nb[0].index, row, "its nearest neighbour is itself");
  const shown = await page.locator("#neighbours li").evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.index)));
  assert.deepEqual(shown, placed.nb.map((x) => x.index));
  assert.ok(placed.at.umap.every(Number.isFinite) && placed.at.pca.every(Number.isFinite));
  await page.screenshot({ path: join(SHOTS, "dropped.png") });
});

test("the page loaded nothing from outside the server", { skip: noChromium }, async () => {
  assert.deepEqual(offsite, []);
  // the README's picture: a neighbour gallery on the map
  const [x, y] = (await ex("E.screenOf(11)")) as [number, number];
  await page.mouse.click(x, y);
  await until(() => document.querySelectorAll("#neighbours img").length > 0 && Array.from(document.querySelectorAll<HTMLImageElement>("#neighbours img")).every((im) => im.complete && im.naturalWidth > 0));
  await page.mouse.move(x, y + 1);
  await page.screenshot({ path: join(SHOTS, "explorer.png") });
});
