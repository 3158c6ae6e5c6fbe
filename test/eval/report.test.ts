// report.html of a small real run opened in headless Chromium: plots render (non-empty SVG paths, heat map
// cells), thumbnails and reconstructions decode, nothing is fetched from the network; screenshot saved to
// .test-out/eval-report.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { evaluate } from "../../src/eval/evaluate.ts";
import { writeReport } from "../../src/eval/report/report.ts";
import { closeForestPool } from "../../src/eval/forest/pool.ts";
import { BadInputError } from "../../src/errors.ts";
import { makeRun, type FixtureRun } from "./run-fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const OUT = fileURLToPath(new URL("../../.test-out/", import.meta.url));
let tmp: string, run: FixtureRun, html: string;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), "bie-report-"));
  run = await makeRun(join(tmp, "report-run"), "report-run", 16);
  await evaluate(run.dir, { trees: 30 });
  html = await writeReport(run.dir);
});
after(async () => { await closeForestPool(); rmSync(tmp, { recursive: true, force: true }); });

test("report.html is one self-contained file", () => {
  const text = readFileSync(html, "utf8");
  assert.equal(html, join(run.dir, "report.html"));
  // the only URL allowed is the SVG namespace; no scripts, no external images or styles
  assert.deepEqual(text.match(/https?:\/\/[^\s"')]+/g)!.filter((u) => u !== "http://www.w3.org/2000/svg"), []);
  assert.ok(!/<script/i.test(text));
  assert.ok(!/<link/i.test(text));
  assert.match(text, /a &lt;tag&gt; &amp; &quot;quotes&quot;/, "config text is escaped");
  assert.match(text, /1 unreadable line/, "the cut-off metrics line is reported, not fatal");
});

test("writeReport without an evaluation says what to do", async () => {
  await assert.rejects(writeReport(tmp), (e: any) => e instanceof BadInputError && /bie evaluate/.test(e.message));
});

test("renders in headless Chromium: scatter, curves, heat map, images", { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed` }, async () => {
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url()); });
    await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
    // A string, not a function: tsx would wrap a function with helpers the page does not have.
    const stats = (await page.evaluate(`(() => {
      const len = (sel) => Array.from(document.querySelectorAll(sel)).map((p) => p.getTotalLength());
      const dots = Array.from(document.querySelectorAll("path.dots")).map((p) => (p.getAttribute("d") || "").split("M").length - 1);
      const imgs = Array.from(document.querySelectorAll("img")).map((i) => i.naturalWidth);
      const box = (sel) => Array.from(document.querySelectorAll(sel)).map((e) => e.getBoundingClientRect()).filter((r) => r.width > 0 && r.height > 0).length;
      return { svgs: document.querySelectorAll("svg").length, dots, lines: len("path.line"), cells: box("rect.cell"), imgs, recon: document.querySelectorAll("img.recon").length };
    })()`)) as { svgs: number; dots: number[]; lines: number[]; cells: number; imgs: number[]; recon: number };
    assert.ok(stats.svgs >= 5, `svg count ${stats.svgs}`);
    // two scatter plots (UMAP, PCA): every row drawn once per plot, one path per class (+ unlabelled)
    assert.equal(stats.dots.reduce((a, b) => a + b, 0), 2 * run.n);
    assert.equal(stats.dots.length, 2 * 8);
    assert.ok(stats.lines.length >= 4 && stats.lines.every((l) => l > 10), `curve lengths ${stats.lines}`);
    assert.equal(stats.cells, 49, "7×7 confusion cells");
    assert.equal(stats.recon, 2);
    assert.ok(stats.imgs.length >= 2 + 6 * 6 && stats.imgs.every((w) => w > 0), `images ${stats.imgs}`);
    assert.deepEqual(requests, []);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, "eval-report.png"), fullPage: true });
    assert.ok(existsSync(join(OUT, "eval-report.png")));
  } finally {
    await browser?.close();
  }
});
