// Config: defaults, file + override precedence, validation messages, unknown-key suggestions, YAML round trip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { resolveConfig, configToYaml, configHelp, parseConfigObject, imageSizeHW, uniqueRunName } from "../src/config/index.ts";
import { allKeys } from "../src/config/keys.ts";
import { BadInputError, ConfigError } from "../src/errors.ts";
import { tempDir } from "./temp-dir.ts";

const tmp = () => tempDir("config");

/** The ConfigError thrown by fn, checked to name `field`. */
function configError(fn: () => unknown, field: string): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert.equal(e.field, field);
    return e;
  }
  assert.fail(`expected a ConfigError for ${field}`);
}

test("defaults are the documented ones", () => {
  const c = resolveConfig({ uniqueName: false });
  assert.equal(c.task, "image");
  assert.equal(c.model, "resnet18_ae");
  assert.equal(c.latent_dim, 64);
  assert.equal(c.seed, 42);
  assert.equal(c.epochs, 20);
  assert.equal(c.batch_size, 16);
  assert.equal(c.data.image_size, 64);
  assert.deepEqual(c.data.split, { train: 0.8, val: 0.1, test: 0.1, seed: 42 });
  assert.equal(c.data.normalise, "percentile");
  assert.equal(c.data.percentile_high, 99.8);
  assert.equal(c.data.augment.hflip, true);
  assert.equal(c.data.augment.crop_scale, null);
  assert.equal(c.optim.name, "adamw");
  assert.equal(c.optim.weight_decay, 1e-4);
  assert.deepEqual(c.optim.betas, [0.9, 0.999]);
  assert.equal(c.optim.grad_clip, 1);
  assert.equal(c.loss.vq_codebook_size, 512);
  assert.equal(c.shapes.n_points, 128);
  assert.equal(c.shapes.penalties.triangle, 1e-3);
  assert.equal(c.engine.threads, 0);
  assert.equal(c.name, "run_resnet18_ae");
});

test("weight decay default follows the optimizer unless set", () => {
  assert.equal(resolveConfig({ overrides: ["optim.name=adam"] }).optim.weight_decay, 0);
  assert.equal(resolveConfig({ overrides: ["optim.name=lamb"] }).optim.weight_decay, 1e-4);
  assert.equal(resolveConfig({ overrides: ["optim.name=sgd", "optim.weight_decay=0.05"] }).optim.weight_decay, 0.05);
});

test("overrides: dotted keys, YAML scalars and flow lists, strings kept as text", () => {
  const c = resolveConfig({
    overrides: ["model=resnet18_vae", "latent_dim=32", "data.image_size=[48,64]", "data.augment.crop_scale=[0.5, 1]", "optim.grad_clip=null", "name=001", "data.skip_bad=true", "optim.lr=3e-4"],
  });
  assert.equal(c.model, "resnet18_vae");
  assert.equal(c.latent_dim, 32);
  assert.deepEqual(imageSizeHW(c.data.image_size), [48, 64]);
  assert.deepEqual(c.data.augment.crop_scale, [0.5, 1]);
  assert.equal(c.optim.grad_clip, null);
  assert.equal(c.name, "001"); // not the number 1
  assert.equal(c.data.skip_bad, true);
  assert.equal(c.optim.lr, 3e-4);
  assert.equal(resolveConfig({ overrides: ["data.label_column=null"] }).data.label_column, null);
});

test("a YAML file is overridden by key=value, and untouched keys keep their defaults", () => {
  const dir = tmp();
  const file = join(dir, "c.yaml");
  writeFileSync(file, "epochs: 7\ndata:\n  path: imgs\n  augment:\n    rotate_deg: 15\noptim:\n  lr: 0.01\n");
  const c = resolveConfig({ file, overrides: ["optim.lr=0.002"] });
  assert.equal(c.epochs, 7);
  assert.equal(c.data.path, "imgs");
  assert.equal(c.data.augment.rotate_deg, 15);
  assert.equal(c.data.augment.hflip, true);
  assert.equal(c.optim.lr, 0.002);
});

test("unknown keys name the key and suggest the nearest valid one", () => {
  const cases: [string, string][] = [
    ["lr=0.1", "optim.lr"],
    ["latent_dims=32", "latent_dim"],
    ["data.imagesize=64", "data.image_size"],
    ["data.augment.hflipp=false", "data.augment.hflip"],
    ["epoch=3", "epochs"],
    ["batchsize=8", "batch_size"],
    ["optim.weightdecay=0.1", "optim.weight_decay"],
  ];
  for (const [ov, hint] of cases) {
    const key = ov.split("=")[0];
    const e = configError(() => resolveConfig({ overrides: [ov] }), key);
    assert.match(e.message, new RegExp(`unknown key.*did you mean '${hint.replace(/\./g, "\\.")}'`), ov);
  }
  // Far from everything: no misleading suggestion.
  const e = configError(() => resolveConfig({ overrides: ["zzzzzzzz=1"] }), "zzzzzzzz");
  assert.doesNotMatch(e.message, /did you mean/);
});

test("unknown keys in a file name the file and the nested path", () => {
  const dir = tmp();
  const file = join(dir, "c.yaml");
  writeFileSync(file, "data:\n  augment:\n    roate_deg: 10\n");
  const e = configError(() => resolveConfig({ file }), "data.augment.roate_deg");
  assert.match(e.message, /c\.yaml/);
  assert.match(e.message, /data\.augment\.rotate_deg/);
});

test("bad values name the field and what was expected", () => {
  assert.match(configError(() => resolveConfig({ overrides: ["epochs=0"] }), "epochs").message, /got 0/);
  assert.match(configError(() => resolveConfig({ overrides: ["optim.name=adm"] }), "optim.name").message, /adamw/);
  assert.match(configError(() => resolveConfig({ overrides: ["data.image_size=abc"] }), "data.image_size").message, /expected/);
  assert.match(configError(() => resolveConfig({ overrides: ["data.split.train=0.9"] }), "data.split").message, /sum to 1/);
  configError(() => resolveConfig({ overrides: ["data.percentile_low=99.9"] }), "data.percentile_low");
  configError(() => resolveConfig({ overrides: ["epochs"] }), "epochs");
});

test("an unreadable or malformed config file is a BadInputError naming it", () => {
  const dir = tmp();
  assert.throws(() => resolveConfig({ file: join(dir, "missing.yaml") }), (e: unknown) => e instanceof BadInputError && /missing\.yaml/.test(e.message));
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "epochs: [1, 2\n");
  assert.throws(() => resolveConfig({ file: bad }), (e: unknown) => e instanceof BadInputError && e.file === bad && /invalid YAML/.test(e.message));
  writeFileSync(bad, "- 1\n- 2\n");
  assert.throws(() => resolveConfig({ file: bad }), (e: unknown) => e instanceof BadInputError && /mapping/.test(e.message));
});

test("the printed YAML reads back as the same config", () => {
  const c = resolveConfig({ overrides: ["data.path=x/y", "data.image_size=[32,48]", "optim.name=adam", "name=r1", "data.augment.crop_scale=[0.3,0.9]"] });
  for (const comments of [false, true]) {
    const text = configToYaml(c, { comments });
    assert.deepEqual(parseConfigObject(YAML.parse(text)), c);
    const dir = tmp();
    writeFileSync(join(dir, "config.yaml"), text);
    assert.deepEqual(resolveConfig({ file: join(dir, "config.yaml") }), c);
  }
});

test("every key has a description, and the help lists each with its default", () => {
  const help = configHelp();
  for (const { path, node } of allKeys()) {
    assert.ok(node.description && node.description.length > 5, `${path} has no description`);
    if (!node.properties) assert.match(help, new RegExp(`^  ${path.replace(/\./g, "\\.")} `, "m"), `${path} missing from help`);
  }
  assert.match(help, /data\.image_size +int or \[int,int\] +\[default 64\]/);
});

test("derived run names are made unique within runs_dir", () => {
  const runs = tmp();
  const c = resolveConfig({ overrides: [`runs_dir=${runs}`, "data.path=/some/where/jurkat"] });
  assert.equal(c.name, "jurkat_resnet18_ae");
  mkdirSync(join(runs, "jurkat_resnet18_ae"));
  assert.equal(resolveConfig({ overrides: [`runs_dir=${runs}`, "data.path=/some/where/jurkat"] }).name, "jurkat_resnet18_ae-2");
  assert.equal(resolveConfig({ overrides: [`runs_dir=${runs}`, "data.path=/d/jurkat/manifest.csv"] }).name, "jurkat_resnet18_ae-2");
  assert.equal(uniqueRunName(runs, "demo"), "demo");
});
