// Fine-tuning and pretrained weights (issue 13 part 3): torchvision's resnet18 state dict, written as safetensors
// by /usr/bin/python3 (random init, no download), loads into our encoder by name (input conv adapted to 1 or 2
// channels as timm does); wrong files fail naming the parameter; freeze keeps parameters fixed; `bie finetune`
// continues a run on new data in a new run folder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createModel } from "../src/models/index.ts";
import { loadSafetensors, type Tensor } from "../src/engine/index.ts";
import { resolveConfig } from "../src/config/index.ts";
import { loadPretrained, trainableParameters } from "../src/train/finetune.ts";
import { run } from "../src/cli/program.ts";
import { tempDir } from "./temp-dir.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const work = tempDir("finetune");

/**
 * torchvision.models.<arch>() state dicts as safetensors, all in one python process (torch imports slowly);
 * each entry's `edit` (python) may change the dict `sd` first.
 */
function torchvisionWeights(files: { file: string; arch?: string; edit?: string }[]): void {
  const py = `
import json, struct, torch, torchvision
def write(path, sd):
    DT = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        b = v.contiguous().numpy().tobytes(); header[k] = {"dtype": DT[v.dtype], "shape": list(v.shape), "data_offsets": [off, off + len(b)]}; blobs.append(b); off += len(b)
    h = json.dumps(header).encode(); h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h); [f.write(b) for b in blobs]
${files.map(({ file, arch, edit }) => `
torch.manual_seed(0)
sd = dict(torchvision.models.${arch ?? "resnet18"}().state_dict())
${edit ?? ""}
write(${JSON.stringify(file)}, sd)`).join("\n")}
`;
  const r = spawnSync("/usr/bin/python3", ["-c", py], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

const tv18 = join(work, "resnet18.safetensors");
const BROKEN: [string, string, RegExp][] = [
  ["shape", `sd["layer2.0.conv1.weight"] = torch.zeros(128, 32, 3, 3)`, /parameter 'layer2\.0\.conv1\.weight' has shape \[128,32,3,3\] but resnet18_vae's 'encoder\.layer2\.0\.conv1\.weight' is \[128,64,3,3\]/],
  ["missing", `del sd["layer4.1.bn2.running_var"]`, /the encoder's 'layer4\.1\.bn2\.running_var' is not in the file/],
  ["unknown", `sd["layer5.0.conv1.weight"] = torch.zeros(1)`, /1 tensor\(s\) have no place in resnet18_vae's encoder, e\.g\. 'layer5\.0\.conv1\.weight'/],
];
torchvisionWeights([
  { file: tv18 },
  ...BROKEN.map(([name, edit]) => ({ file: join(work, `${name}.safetensors`), edit })),
  { file: join(work, "wrapped.safetensors"), edit: `sd = {"module." + k: v for k, v in sd.items()}` }, // DataParallel's prefix
  { file: join(work, "resnet34.safetensors"), arch: "resnet34" },
]);

const arr = (t: Tensor) => Array.from(t.toArray() as Float32Array);

test("torchvision resnet18 weights load into resnet18_ae's encoder by name; fc is left out; conv1 adapted to 1 and 2 channels", async () => {
  const { tensors: file } = await loadSafetensors(tv18);
  const m3 = createModel("resnet18_ae", { inChannels: 3, latentDim: 16, imageSize: [32, 32] });
  const fcBefore = arr(m3.stateDict().get("encoder.fc.weight")!);
  const r = await loadPretrained(tv18, m3);
  assert.equal(r.loaded, 122 - 2, "every backbone tensor (params, running stats, num_batches_tracked) but fc.weight/bias");
  assert.deepEqual(r.skipped.sort(), ["fc.bias", "fc.weight"]);
  const own = m3.stateDict();
  for (const k of ["conv1.weight", "bn1.running_var", "layer1.0.conv2.weight", "layer3.1.bn2.bias", "layer4.0.downsample.0.weight"])
    assert.deepEqual(arr(own.get(`encoder.${k}`)!), arr(file.get(k)!), k);
  assert.deepEqual(arr(own.get("encoder.fc.weight")!), fcBefore, "our latent head keeps its own init");

  // 1 channel: the RGB filters summed (timm's adapt_input_conv); 2 channels: repeated, cut, scaled by 3/2.
  const w = file.get("conv1.weight")!.toArray() as Float32Array; // [64, 3, 7, 7]
  for (const c of [1, 2]) {
    const m = createModel("resnet18_ae", { inChannels: c, latentDim: 16, imageSize: [32, 32] });
    const rr = await loadPretrained(tv18, m);
    assert.match(rr.adapted[0], new RegExp(`conv1.weight \\[64,3,7,7\\] → \\[64,${c},7,7\\]`));
    const got = m.stateDict().get("encoder.conv1.weight")!.toArray() as Float32Array;
    for (const [o, k] of [[0, 0], [17, 30], [63, 48]]) {
      const at = (ci: number) => w[(o * 3 + ci) * 49 + k];
      const want = c === 1 ? [at(0) + at(1) + at(2)] : [at(0) * 1.5, at(1) * 1.5];
      want.forEach((v, ci) => assert.ok(Math.abs(got[(o * c + ci) * 49 + k] - v) < 1e-6, `c=${c} [${o},${ci},${k}]`));
    }
    m.dispose();
  }
  m3.dispose();
  for (const t of file.values()) t.dispose();
});

test("a wrong weights file fails naming the parameter: shape, missing, unknown, another depth; wrapper prefixes are stripped", async () => {
  const m = createModel("resnet18_vae", { inChannels: 3, latentDim: 16, imageSize: [32, 32] });
  for (const [name, , msg] of BROKEN)
    await assert.rejects(loadPretrained(join(work, `${name}.safetensors`), m), (e: Error) => (e.name === "ConfigError" && msg.test(e.message)) || assert.fail(`${name}: ${e.message}`));
  assert.equal((await loadPretrained(join(work, "wrapped.safetensors"), m)).loaded, 120, "module.* prefixes are stripped");
  await assert.rejects(loadPretrained(join(work, "resnet34.safetensors"), m), /no place in resnet18_vae's encoder, e\.g\. 'layer1\.2\./);
  m.dispose();
});

test("freeze: encoder and stages:N leave those parameters out of the optimizer and stop their gradients", () => {
  const m = createModel("resnet18_ae", { inChannels: 3, latentDim: 16, imageSize: [32, 32] });
  const cfgOf = (freeze: string) => resolveConfig({ overrides: [`finetune.freeze=${freeze}`], uniqueName: false });
  const all = m.namedParameters().length;
  const enc = m.namedParameters().filter(([n]) => n.startsWith("encoder.")).length;
  assert.equal(trainableParameters(cfgOf("none"), m).length, all);
  assert.equal(trainableParameters(cfgOf("encoder"), m).length, all - enc);
  const m2 = createModel("resnet18_ae", { inChannels: 3, latentDim: 16, imageSize: [32, 32] });
  const frozen = m2.namedParameters().filter(([n]) => /^encoder\.(conv1|bn1|layer1|layer2)\./.test(n));
  assert.equal(trainableParameters(cfgOf("stages:2"), m2).length, all - frozen.length);
  assert.ok(frozen.every(([, p]) => !p.requiresGrad) && m2.namedParameters().filter(([n]) => n.startsWith("encoder.layer3.")).every(([, p]) => p.requiresGrad));
  assert.throws(() => trainableParameters(cfgOf("stages:5"), m2), /a ResNet has 4 stages/);
  assert.throws(() => cfgOf("layers:2"), /use none, encoder or stages:N/);
  m.dispose();
  m2.dispose();
});

test("bie train pretrained=<torchvision file>, then bie finetune on other cells with stages:2 frozen: a new run that starts from the old weights", { timeout: 300_000 }, async () => {
  const lines = readFileSync(join(root, "demo-data/jurkat/manifest.csv"), "utf8").trim().split("\n");
  const abs = (l: string) => l.replace(/^([^,]+)/, (p) => join(root, "demo-data/jurkat", p));
  const half = (k: number) => { const f = join(work, `half${k}.csv`); writeFileSync(f, [lines[0], ...lines.slice(1).filter((_, i) => i % 8 === k).map(abs)].join("\n") + "\n"); return f; };
  const log: string[] = [];
  const io = { out: { write: (s: string) => (log.push(s), true) }, err: { write: (s: string) => (log.push(s), true) } };
  const base = ["model=resnet18_ae", "latent_dim=8", "data.image_size=32", "batch_size=8", "epochs=1", "data.workers=0", "engine.threads=1", `runs_dir=${work}`, "optim.warmup_epochs=0"];
  assert.equal(await run(["train", ...base, `data.path=${half(0)}`, `pretrained=${tv18}`, "name=src"], io), 0, log.join(""));
  assert.match(log.join(""), /pretrained backbone: 120 tensors from .*resnet18\.safetensors; head left out: fc\.weight, fc\.bias/);
  const src = join(work, "src");
  assert.equal(await run(["finetune", src, `data.path=${half(1)}`, "finetune.freeze=stages:2", "optim.lr=5e-4"], io), 0, log.join(""));
  const dir = join(work, "src_ft");
  assert.ok(existsSync(join(dir, "checkpoints", "last.safetensors")), log.join(""));
  const info = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
  assert.equal(info.status, "finished");
  const cfg = readFileSync(join(dir, "config.yaml"), "utf8");
  assert.match(cfg, new RegExp(`from: ${src.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  assert.match(cfg, /freeze: stages:2/);
  assert.match(cfg, /pretrained: null/);
  const w = async (f: string) => (await loadSafetensors(f)).tensors;
  const before = await w(join(src, "checkpoints", "best.safetensors")), after = await w(join(dir, "checkpoints", "last.safetensors"));
  const same = (k: string) => { const a = arr(before.get(`model.${k}`)!), b = arr(after.get(`model.${k}`)!); return a.every((v, i) => v === b[i]); };
  assert.ok(same("encoder.conv1.weight") && same("encoder.layer2.1.conv2.weight"), "frozen stages unchanged");
  const decoderWeight = [...after.keys()].find((k) => k.startsWith("model.decoder.") && k.endsWith(".weight"))!.slice("model.".length);
  assert.ok(!same("encoder.layer3.0.conv1.weight") && !same(decoderWeight), "the rest trained");
});
