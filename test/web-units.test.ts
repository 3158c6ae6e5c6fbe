// The explorer's pure pieces, without a server or browser: safe paths (symlinks, encodings), cosine k-NN
// (ties, exclusion, k beyond n), option parsing, column kinds, UMAP placement, the page's point grid and camera.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../src/errors.ts";
import { cosineKnn, fileInside, parseExploreArgs, unitRows } from "../src/web/index.ts";
import { weightedPlacement } from "../src/web/projection.ts";
import { categoryCodes, describeColumn } from "../src/web/run-data.ts";
import { PointGrid } from "../src/web/page/grid.ts";
import { View } from "../src/web/page/view.ts";
import { appBundle } from "../src/web/assets.ts";
import { closeItemSources, readItemImage, regionOfRow } from "../src/web/item-pixels.ts";
import type { EmbeddingTable } from "../src/eval/index.ts";

test("fileInside keeps paths inside the root, including through symlinks", () => {
  const tmp = mkdtempSync(join(tmpdir(), "bie-web-path-"));
  try {
    const root = join(tmp, "run");
    mkdirSync(join(root, "recon"), { recursive: true });
    writeFileSync(join(root, "recon", "a.png"), "x");
    writeFileSync(join(tmp, "secret.txt"), "s");
    symlinkSync(join(tmp, "secret.txt"), join(root, "leak.txt"));
    symlinkSync(tmp, join(root, "up"));
    symlinkSync(join(root, "recon"), join(root, "inner"));
    assert.equal(fileInside(root, "recon/a.png"), join(root, "recon", "a.png"));
    assert.equal(fileInside(root, "recon%2Fa.png"), join(root, "recon", "a.png"));
    assert.equal(fileInside(root, "inner/a.png"), join(root, "recon", "a.png"), "a symlink that stays inside is fine");
    for (const bad of ["../secret.txt", "..%2fsecret.txt", "recon/../../secret.txt", "%2e%2e/secret.txt", "leak.txt", "up/secret.txt", "/etc/passwd",
      "%2Fetc%2Fpasswd", "recon\\..\\..\\secret.txt", "a%00.png", "%E0%A4%A", "missing.txt"])
      assert.equal(fileInside(root, bad), null, bad);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("cosineKnn: best first, ties to the lower index, self excluded, k capped at n", () => {
  const X = Float32Array.from([1, 0, 2, 0, 0, 1, 1, 1, -1, 0]); // rows: (1,0) (2,0) (0,1) (1,1) (-1,0)
  const U = unitRows(X, 2);
  const nb = cosineKnn(U, 5, 2, [1, 0], 5, 0);
  assert.deepEqual(nb.map((x) => x.index), [1, 3, 2, 4]);
  assert.ok(Math.abs(nb[0].similarity - 1) < 1e-7 && Math.abs(nb[1].similarity - Math.SQRT1_2) < 1e-6 && Math.abs(nb[3].similarity + 1) < 1e-7);
  assert.deepEqual(cosineKnn(U, 5, 2, [1, 0], 1).map((x) => x.index), [0], "rows 0 and 1 tie: the lower index wins");
  assert.deepEqual(cosineKnn(U, 5, 2, [1, 0], 0), []);
  assert.deepEqual(cosineKnn(unitRows(new Float32Array(4), 2), 2, 2, [0, 0], 2).map((x) => x.similarity), [0, 0], "zero vectors are similar to nothing");
});

test("explore options: defaults, values, and clear errors", () => {
  assert.deepEqual(parseExploreArgs([]), { k: 12, thumbSize: 64, umapMaxFit: 10000, rebuild: false });
  assert.deepEqual(parseExploreArgs(["k=5", "thumb_size=32", "umap_max_fit=2000", "rebuild=true"]), { k: 5, thumbSize: 32, umapMaxFit: 2000, rebuild: true });
  for (const bad of ["kk=3", "k=0", "k=2.5", "k=x", "thumb_size=4", "rebuild=yes", "=3"])
    assert.throws(() => parseExploreArgs([bad]), ConfigError, bad);
});

test("columns: numbers, categories and free text; legend order and codes", () => {
  const many = Array.from({ length: 30 }, (_, i) => String(i * 0.5));
  assert.equal(describeColumn("area", many).kind, "number");
  assert.equal(describeColumn("well", ["1", "2", "1", null]).kind, "category", "few distinct numbers are categories");
  assert.equal(describeColumn("id", Array.from({ length: 100 }, (_, i) => `cell${i}`)).kind, "text");
  const c = categoryCodes(["b", "a", null, "b", "", "c10", "c9"]);
  assert.deepEqual(c.categories, ["a", "b", "c9", "c10"], "few categories: natural alphabetical order");
  assert.deepEqual(Array.from(c.codes), [1, 0, -1, 1, -1, 3, 2]);
  assert.deepEqual(c.counts, [1, 2, 1, 1]);
  const big = categoryCodes([...Array(25).keys()].flatMap((i) => Array(i + 1).fill(`k${i}`)));
  assert.equal(big.categories[0], "k24", "many categories: most common first");
});

test("UMAP placement: umap-learn's membership weights (sum log2 k), weighted mean of the neighbours' spots", () => {
  const coords = Float32Array.from([0, 0, 10, 0, 0, 10]);
  // d = (0, .8, .8): 1 + 2 exp(-.8/sigma) = log2(3) → each far weight (log2(3) - 1)/2
  const w = (Math.log2(3) - 1) / 2;
  const [x, y] = weightedPlacement(coords, [{ index: 1, similarity: 1 }, { index: 0, similarity: 0.2 }, { index: 2, similarity: 0.2 }]);
  assert.ok(Math.abs(x - 10 / (1 + 2 * w)) < 1e-3 && Math.abs(y - (10 * w) / (1 + 2 * w)) < 1e-3, `${x},${y}`);
  const mid = weightedPlacement(coords, [{ index: 0, similarity: 0.9 }, { index: 1, similarity: 0.9 }]);
  assert.deepEqual(mid, [5, 0]);
});

test("page grid and camera: nearest point, box query, pan and zoom round trips", () => {
  const n = 2000;
  const xy = new Float32Array(n * 2);
  let s = 7;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 100 - 50;
  for (let i = 0; i < 2 * n; i++) xy[i] = r();
  const g = new PointGrid(xy);
  for (const [qx, qy] of [[0, 0], [49, -49], [-12.3, 7.7]]) {
    let best = -1, bd = Infinity;
    for (let i = 0; i < n; i++) { const d = (xy[2 * i] - qx) ** 2 + (xy[2 * i + 1] - qy) ** 2; if (d < bd) (bd = d), (best = i); }
    assert.equal(g.nearest(qx, qy, Math.sqrt(bd) + 1e-6), best);
    assert.equal(g.nearest(qx, qy, Math.sqrt(bd) * 0.99), -1, "nothing within a smaller radius");
  }
  const inBox = g.inRect(10, -5, -20, 30);
  assert.deepEqual(inBox, Array.from({ length: n }, (_, i) => i).filter((i) => xy[2 * i] >= -20 && xy[2 * i] <= 10 && xy[2 * i + 1] >= -5 && xy[2 * i + 1] <= 30));
  const v = new View();
  v.width = 800;
  v.height = 600;
  v.fit(xy);
  const [sx, sy] = v.toScreen(xy[0], xy[1]);
  assert.ok(sx >= 0 && sx <= 800 && sy >= 0 && sy <= 600, "fit frames every point");
  v.zoomAt(sx, sy, 3);
  const [sx2, sy2] = v.toScreen(xy[0], xy[1]);
  assert.ok(Math.abs(sx2 - sx) < 1e-6 && Math.abs(sy2 - sy) < 1e-6, "zoom keeps the point under the cursor");
  v.panBy(10, -5);
  const [sx3, sy3] = v.toScreen(xy[0], xy[1]);
  assert.ok(Math.abs(sx3 - sx - 10) < 1e-6 && Math.abs(sy3 - sy + 5) < 1e-6, "drag moves points with the cursor");
});

test("the page bundles for the browser (shared readers included, node builtins stubbed)", async () => {
  const js = await appBundle();
  assert.ok(js.length > 10_000);
  assert.match(js, /function normaliseImage/, "the data layer's own normalisation is in the bundle");
  assert.doesNotMatch(js, /from\s*["']node:/, "no node: imports left for the browser to fail on");
});

test("tile items (data.tiles rows) show their region of the big image, whole-file items the whole file", async () => {
  const zarr = new URL("./fixtures/io/zarr/ome_5d_u16_be_zlib.ome.zarr", import.meta.url).pathname;
  const png = new URL("../demo-data/jurkat/Anaphase/0000.tif", import.meta.url).pathname;
  const col = (a: (string | null)[]) => a;
  const table = {
    ids: ["a#0", "a#1", "plain"], paths: [zarr, zarr, png], n: 3, d: 1, X: new Float32Array(3), featureNames: ["z_0"], source: "(test)",
    columns: { level: col(["0", "0", null]), t: col(["0", "0", null]), z: col(["max", "1", null]), y0: col(["1", "2", null]), x0: col(["2", "0", null]), h: col(["5", "4", null]), w: col(["6", "3", null]) },
  } as EmbeddingTable;
  assert.deepEqual(regionOfRow(table.columns, 0), { level: 0, t: 0, z: null, y0: 1, x0: 2, h: 5, w: 6 });
  assert.equal(regionOfRow(table.columns, 2), null);
  try {
    const a = await readItemImage(table, 0), b = await readItemImage(table, 1), c = await readItemImage(table, 2);
    assert.deepEqual([a.height, a.width, b.height, b.width], [5, 6, 4, 3]);
    assert.deepEqual([c.height, c.width, c.channels], [40, 40, 3]);
  } finally {
    closeItemSources();
  }
});
