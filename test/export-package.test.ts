// bioimage.io packages end to end on a tiny trained run (24 demo cells, 32×32, latent 16): `bie export` writes a
// package our validator accepts (published JSON Schema + semantic rules + test output reproduced); embedding with
// the package, with a bare .onnx and with runtime=onnx reproduces the native embeddings within 1e-4; a malformed
// rdf.yaml and a hash mismatch are refused with messages that say what is wrong.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unzipSync, zipSync } from "fflate";
import YAML from "yaml";
import { readNpy } from "../src/io/npy.ts";
import { setThreads } from "../src/engine/index.ts";
import { embedRun } from "../src/train/index.ts";
import { embedImported, embedRunOnnx, exportRun, readPackage, validatePackage } from "../src/export/index.ts";
import { tempDir } from "./temp-dir.ts";

const TOL = 1e-4;
const root = fileURLToPath(new URL("../", import.meta.url));
const bie = join(root, "bin", "bie.js");
const work = tempDir("export");
const manifest = join(work, "cells.csv");
{
  const lines = readFileSync(join(root, "demo-data/jurkat/manifest.csv"), "utf8").trim().split("\n");
  const rows = lines.slice(1).filter((_, i) => i % 12 === 0).slice(0, 24).map((l) => l.replace(/^([^,]+)/, (p) => join(root, "demo-data/jurkat", p)));
  writeFileSync(manifest, [lines[0], ...rows].join("\n") + "\n");
}
const runDir = join(work, "runs", "tiny");
const common = ["engine.threads=1", "data.workers=0"];
let zipPath = "";
setThreads(1);

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bie, ...args], { cwd: work, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" } });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => resolve({ code, out, err }));
  });
}

async function maxDiff(a: string, b: string): Promise<number> {
  const [x, y] = [await readNpy(a), await readNpy(b)];
  assert.deepEqual(x.shape, y.shape);
  return (x.data as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - (y.data as Float32Array)[i])), 0);
}

/** A copy of the package with some files replaced. */
function repack(name: string, edit: (files: Record<string, Uint8Array>) => void): string {
  const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
  edit(files);
  const out = join(work, name);
  writeFileSync(out, zipSync(files, { level: 0 }));
  return out;
}
const editRdf = (files: Record<string, Uint8Array>, fn: (rdf: any) => void) => {
  const rdf = YAML.parse(new TextDecoder().decode(files["rdf.yaml"]));
  fn(rdf);
  files["rdf.yaml"] = new TextEncoder().encode(YAML.stringify(rdf));
};

before(async () => {
  const r = await cli(["train", `data.path=${manifest}`, "model=resnet18_ae", "latent_dim=16", "data.image_size=32", "epochs=1", "batch_size=8", `runs_dir=${join(work, "runs")}`, "name=tiny", ...common]);
  assert.equal(r.code, 0, r.err);
});

test("bie export format=bioimageio writes a flat package that validates against the published schema and reproduces its test output", { timeout: 300_000 }, async () => {
  const r = await cli(["export", runDir, "format=bioimageio", "cite_data=Blasi et al., Label-free cell cycle analysis, Nat Commun 7:10256 (2016)|10.1038/ncomms10256", "channel_names=brightfield,dna,darkfield", ...common]);
  assert.equal(r.code, 0, r.err + r.out);
  zipPath = /package: (\S+\.zip)/.exec(r.out)![1];
  const pkg = readPackage(zipPath);
  assert.deepEqual([...pkg.files.keys()].sort(), ["README.md", "cover.png", "model.onnx", "rdf.yaml", "test_input.npy", "test_output.npy"]);
  const rdf = pkg.rdf as any;
  assert.equal(rdf.format_version, "0.5.7");
  assert.deepEqual(rdf.inputs[0].axes.map((a: any) => a.type), ["batch", "channel", "space", "space"]);
  assert.deepEqual(rdf.inputs[0].axes[1].channel_names, ["brightfield", "dna", "darkfield"]);
  assert.deepEqual(rdf.inputs[0].preprocessing[0], { id: "scale_range", kwargs: { axes: ["y", "x"], min_percentile: 1, max_percentile: 99.8, eps: 1e-6 } });
  assert.deepEqual(rdf.outputs[0].axes[1], { type: "index", id: "latent", size: 16, description: "embedding dimension" });
  assert.equal(rdf.weights.onnx.opset_version, 17);
  assert.equal(rdf.cite.length, 2);
  assert.equal(rdf.cite[1].doi, "10.1038/ncomms10256");
  const report = await validatePackage(pkg);
  assert.deepEqual(report.errors, []);
  assert.ok(report.ok);
  assert.ok(report.reproduced[0].maxAbs <= 1e-5, `reproduced to ${report.reproduced[0].maxAbs}`);
  assert.match(r.out, /onnxruntime vs native \d\.\de-\d+/);
});

test("embeddings through the package, a bare .onnx and runtime=onnx match the native engine within 1e-4", { timeout: 300_000 }, async () => {
  assert.ok(zipPath, "needs the package of the previous test");
  const native = await embedRun(runDir, common);
  const ref = join(native.outDir, "embeddings.npy");
  // the package, through the CLI as a user would run it
  const viaZip = await cli(["embed", `model=${zipPath}`, `data.path=${manifest}`, `out=${join(work, "zip")}`, ...common]);
  assert.equal(viaZip.code, 0, viaZip.err);
  assert.ok((await maxDiff(ref, join(work, "zip", "embeddings.npy"))) < TOL);
  assert.equal(readFileSync(join(work, "zip", "index.csv"), "utf8"), readFileSync(join(native.outDir, "index.csv"), "utf8"));
  // runtime=onnx on the run itself
  const onnxRun = await embedRunOnnx(runDir, common, { outDir: join(work, "rt") });
  assert.ok((await maxDiff(ref, join(onnxRun.outDir, "embeddings.npy"))) < TOL);
  // a bare .onnx: input size from the graph, preprocessing from data.*
  const onnx = await exportRun(runDir, ["format=onnx", `out=${join(work, "enc.onnx")}`, ...common]);
  const bare = await embedImported(onnx.path, [`data.path=${manifest}`, ...common], { outDir: join(work, "bare") });
  assert.equal(bare.dim, 16);
  assert.ok((await maxDiff(ref, join(work, "bare", "embeddings.npy"))) < TOL);
});

test("a malformed rdf.yaml is refused with the place and the reason", { timeout: 120_000 }, async () => {
  assert.ok(zipPath);
  const broken = repack("broken-yaml.zip", (f) => void (f["rdf.yaml"] = new TextEncoder().encode("format_version: 0.5.7\ninputs: [\n  - id: x\n")));
  const r = await cli(["embed", `model=${broken}`, `data.path=${manifest}`, ...common]);
  assert.equal(r.code, 2);
  assert.match(r.err, /broken-yaml\.zip:rdf\.yaml: invalid YAML/);

  const noNames = repack("no-channel-names.zip", (f) => editRdf(f, (rdf) => {
    delete rdf.inputs[0].axes[1].channel_names;
    delete rdf.weights.onnx.opset_version;
    rdf.weights.torchscript = { source: "model.pt", pytorch_version: "1.13" };
    rdf.inputs[0].axes[2].type = "spaec";
    rdf.licence = "MIT";
  }));
  const rep = await validatePackage(noNames);
  assert.equal(rep.ok, false);
  assert.ok(rep.errors.some((e) => /rdf\.yaml \/inputs\/0\/axes\/1: must have required property 'channel_names'/.test(e)), rep.errors.join("\n"));
  assert.ok(rep.errors.some((e) => /\/weights\/onnx: must have required property 'opset_version'/.test(e)), rep.errors.join("\n"));
  assert.ok(rep.errors.some((e) => /weights: exactly one entry must have no parent, found 2 \(onnx, torchscript\)/.test(e)), rep.errors.join("\n"));
  assert.ok(rep.errors.some((e) => /file 'model\.pt' is not in the package/.test(e)), rep.errors.join("\n"));
  assert.ok(rep.errors.some((e) => /\/inputs\/0\/axes\/2\/type: 'spaec' is not one of batch, channel, index, space, time/.test(e)), rep.errors.join("\n"));
  assert.ok(rep.errors.some((e) => /rdf\.yaml \/: must NOT have additional properties \('licence'\)/.test(e)), rep.errors.join("\n"));

  const badShape = repack("bad-shape.zip", (f) => editRdf(f, (rdf) => void (rdf.inputs[0].axes[2].size = 40)));
  const rep2 = await validatePackage(badShape);
  assert.ok(rep2.errors.some((e) => /test tensor of 'input' \[1,3,32,32\]: axis 'y' has size 32, expected 40/.test(e)), rep2.errors.join("\n"));
});

test("a hash mismatch or a test output the model does not reproduce is refused", { timeout: 120_000 }, async () => {
  assert.ok(zipPath);
  const tampered = repack("tampered.zip", (f) => {
    const m = f["model.onnx"].slice();
    m[m.length - 5] ^= 0xff; // flip bits in the last initializer
    f["model.onnx"] = m;
  });
  const rep = await validatePackage(tampered);
  assert.ok(rep.errors.some((e) => /weights\.onnx: sha256 mismatch for 'model\.onnx': rdf\.yaml says [0-9a-f]{64}, the file hashes to [0-9a-f]{64}/.test(e)), rep.errors.join("\n"));
  const r = await cli(["embed", `model=${tampered}`, `data.path=${manifest}`, ...common]);
  assert.equal(r.code, 2);
  assert.match(r.err, /tampered\.zip: not a valid bioimage\.io model package:\n\s+- weights\.onnx: sha256 mismatch/);

  // a wrong test output whose hash is updated: only reproduction can tell
  const wrongOut = repack("wrong-output.zip", (f) => {
    const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    const npy = f["test_output.npy"].slice();
    for (let i = npy.length - 16; i < npy.length; i++) npy[i] ^= 0x40; // perturb the last values
    f["test_output.npy"] = npy;
    editRdf(f, (rdf) => void (rdf.outputs[0].test_tensor.sha256 = sha256(npy)));
  });
  const rep2 = await validatePackage(wrongOut);
  assert.ok(rep2.errors.some((e) => /test output 'embedding' not reproduced: \d+ of 16 values differ by more than abs 0\.001 \+ rel 0\.001/.test(e)), rep2.errors.join("\n"));
  assert.ok(existsSync(zipPath));
});
