// The `bie` shell: exit codes and messages (through the real launcher), config printing, the runs table,
// and the progress display in both modes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { run, splitArgs } from "../src/cli/program.ts";
import { ProgressBar, trainProgress, countProgress, formatDuration } from "../src/cli/progress.ts";
import { configToYaml, resolveConfig } from "../src/config/index.ts";
import { tempDir } from "./temp-dir.ts";

const BIE = fileURLToPath(new URL("../bin/bie.js", import.meta.url));
const capture = () => {
  const s = { text: "", write: (t: string) => void (s.text += t) };
  return s;
};
async function bie(...argv: string[]) {
  const out = capture(), err = capture();
  const code = await run(argv, { out, err });
  return { code, out: out.text, err: err.text };
}

test("the real launcher: a mistyped key exits 2 with one clear line; a good command exits 0", () => {
  const bad = spawnSync(process.execPath, [BIE, "config", "--print", "latent_dims=32"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), "error: config field 'latent_dims': unknown key in overrides; did you mean 'latent_dim'?");
  assert.equal(bad.stdout, "");
  const ok = spawnSync(process.execPath, [BIE, "config", "--print", "epochs=3", "data.image_size=[32,32]"], { encoding: "utf8" });
  assert.equal(ok.status, 0, ok.stderr);
  const cfg = YAML.parse(ok.stdout);
  assert.equal(cfg.epochs, 3);
  assert.deepEqual(cfg.data.image_size, [32, 32]);
});

test("exit codes: bad values, usage errors and missing run folders are 2; help is 0", async () => {
  let r = await bie("config", "epochs=zero");
  assert.equal(r.code, 2);
  assert.match(r.err, /^error: config field 'epochs'/);
  r = await bie("config", "epochs");
  assert.equal(r.code, 2);
  r = await bie("trian");
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command 'trian'.*Did you mean train\?/s);
  r = await bie("embed", join(tmpdir(), "no-such-run"));
  assert.equal(r.code, 2);
  assert.match(r.err, /no-such-run: not a run folder/);
  r = await bie("train", "--resume", "runs/x", "epochs=3");
  assert.equal(r.code, 2);
  assert.match(r.err, /--resume takes no key=value overrides/);
  r = await bie("config", "--config", join(tmpdir(), "missing.yaml"));
  assert.equal(r.code, 2);
  assert.match(r.err, /missing\.yaml: cannot read config file/);
  r = await bie("train", "--help");
  assert.equal(r.code, 0);
  assert.match(r.out, /data\.augment\.rotate_deg +number +\[default 0\]/); // help lists the schema's keys
});

test("config --print shows the resolved config with descriptions; a file and overrides combine", async () => {
  const dir = tempDir("cli");
  const file = join(dir, "c.yaml");
  writeFileSync(file, "epochs: 9\noptim:\n  lr: 0.01\n");
  const r = await bie("config", "--config", file, "optim.lr=0.005");
  assert.equal(r.code, 0);
  assert.match(r.out, /lr: 0\.005 # peak learning rate/);
  const cfg = YAML.parse(r.out);
  assert.equal(cfg.epochs, 9);
  assert.equal(cfg.optim.lr, 0.005);
  assert.doesNotMatch((await bie("config", "--no-comments")).out, /#/);
});

test("runs: a table of run folders, --compare adds the differing config keys", async () => {
  const runs = tempDir("runs");
  const runsDir = `runs_dir=${runs}`;
  assert.match((await bie("runs", runsDir)).out, /no runs in/);
  const mk = (name: string, ov: string[], info: Record<string, unknown>) => {
    mkdirSync(join(runs, name));
    writeFileSync(join(runs, name, "config.yaml"), configToYaml(resolveConfig({ overrides: [`name=${name}`, ...ov] })));
    writeFileSync(join(runs, name, "run.json"), JSON.stringify({ name, ...info }));
  };
  mk("a", ["latent_dim=16"], { model: "resnet18_ae", data: "demo-data/jurkat", epochs: 10, epochs_done: 10, status: "finished", best_val_loss: 0.01234, wall_time_s: 95, started: "2024-01-01T00:00:00Z" });
  mk("b", ["latent_dim=64", "optim.lr=0.0003"], { model: "resnet18_vae", data: "demo-data/jurkat", epochs: 10, epochs_done: 4, status: "running", best_val_loss: null, wall_time_s: 40, started: "2024-01-02T00:00:00Z" });
  mkdirSync(join(runs, "not-a-run"));
  const r = await bie("runs", runsDir);
  assert.equal(r.code, 0);
  const lines = r.out.trim().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^name +model +data +epochs +best val loss +wall time +status$/);
  assert.match(lines[1], /^a +resnet18_ae +demo-data\/jurkat +10 +0\.01234 +1m35s +finished$/);
  assert.match(lines[2], /^b +resnet18_vae +demo-data\/jurkat +4\/10 +- +40s +running$/);
  const cmp = (await bie("runs", runsDir, "--compare")).out.trim().split("\n");
  assert.match(cmp[0], /status +latent_dim +optim\.lr$/);
  assert.match(cmp[1], /finished +16 +0\.001$/);
  assert.match(cmp[2], /running +64 +0\.0003$/);
});

test("progress: plain lines off a terminal (periodic + end of epoch), a redrawn bar with ETA on one", () => {
  let t = 0;
  const lines = capture();
  const onProgress = trainProgress(new ProgressBar({ out: lines, tty: false, everyMs: 10_000, now: () => t }));
  for (let epoch = 1; epoch <= 2; epoch++)
    for (let step = 1; step <= 10; step++) {
      t += 1000; // one step per second of the injected clock
      onProgress({ epoch, epochs: 2, step, steps: 10, loss: 0.5 / step, imgPerSec: 16 });
    }
  const printed = lines.text.trim().split("\n");
  // First step, end of epoch 1 (also the 10 s mark), then end of epoch 2.
  assert.deepEqual(printed.map((l) => l.split(" ").slice(0, 3).join(" ")), ["epoch 1/2 1/10", "epoch 1/2 10/10", "epoch 2/2 10/10"]);
  assert.match(printed[1], /loss 0\.05000 · 16 img\/s · ETA 10s$/);
  assert.match(printed[2], /ETA 0s$/);

  t = 0;
  const tty = capture();
  const bar = new ProgressBar({ out: { ...tty, write: tty.write, isTTY: true, columns: 100 }, now: () => t });
  const embed = countProgress(bar, "embed");
  t = 1000;
  embed(0, 100);
  t = 3000;
  embed(50, 100, 250);
  bar.log("a message");
  bar.done();
  assert.match(tty.text, /\r\x1b\[Kembed ░+ 0\/100 ETA --/);
  assert.match(tty.text, /\r\x1b\[Kembed █{20}░{20} 50\/100 250 img\/s · ETA 2s/);
  assert.match(tty.text, /a message\n/);
  assert.ok(tty.text.endsWith("\n"));
  // After done() a new task starts its own ETA: 10 of 100 in 1 s leaves 9 s.
  t = 100_000;
  embed(0, 100);
  t = 101_000;
  embed(10, 100);
  assert.match(tty.text, /10\/100 ETA 9s/);
  assert.equal(formatDuration(3725), "1h02m");
});

test("evaluate-style arguments: key=value pairs are overrides, the rest inputs", () => {
  assert.deepEqual(splitArgs(["runs/a", "runs/b", "labels=label", "data.path=x=y"]), { inputs: ["runs/a", "runs/b"], overrides: ["labels=label", "data.path=x=y"] });
});
