// `bie demo`: the first command a new user runs. Trains a small model on the bundled Jurkat sample, embeds it,
// and says where everything went.
import { fileURLToPath } from "node:url";
import { relative } from "node:path";
import { resolveConfig, uniqueRunName } from "../config/index.ts";
import { countProgress, formatDuration, formatLoss, trainProgress, type ProgressBar } from "./progress.ts";

/** The demo's settings; a user's key=value overrides come after and win. */
export function demoOverrides(): string[] {
  const manifest = fileURLToPath(new URL("../../demo-data/jurkat/manifest.csv", import.meta.url));
  return [`data.path=${manifest}`, "model=resnet18_ae", "latent_dim=64", "data.image_size=64", "epochs=10", "batch_size=16", "data.workers=1"];
}

export async function runDemo(o: { overrides: string[]; bar: ProgressBar; say: (s: string) => void }): Promise<{ runDir: string; embedDir: string }> {
  const t0 = performance.now();
  const cfg = resolveConfig({ overrides: [...demoOverrides(), ...o.overrides] });
  if (!o.overrides.some((a) => a.startsWith("name="))) cfg.name = uniqueRunName(cfg.runs_dir, "demo");
  const { trainFromConfig, embedRun } = await import("../train/index.ts");
  o.say(`demo: training ${cfg.model} on 300 Jurkat cells (demo-data/jurkat) for ${cfg.epochs} epochs`);
  const trained = await trainFromConfig(cfg, { onProgress: trainProgress(o.bar), onLog: (l) => o.bar.log(l) });
  o.bar.done();
  const emb = await embedRun(trained.runDir, [], { onProgress: countProgress(o.bar, "embed"), onLog: (l) => o.bar.log(l) });
  o.bar.done();
  const rel = (p: string) => relative(process.cwd(), p) || ".";
  o.say(
    [
      `demo finished in ${formatDuration((performance.now() - t0) / 1000)}`,
      `  run folder:       ${rel(trained.runDir)}  (config.yaml, metrics.jsonl, checkpoints/, recon/)`,
      `  embeddings:       ${rel(emb.outDir)}/embeddings.parquet (${emb.rows} × ${emb.dim}), embeddings.npy + index.csv`,
      `  best val loss:    ${trained.info.best_val_loss === null ? "-" : formatLoss(trained.info.best_val_loss)}`,
      "next:",
      `  bie runs`,
      `  bie evaluate ${rel(trained.runDir)} labels=label`,
      `  bie explore ${rel(trained.runDir)}`,
    ].join("\n"),
  );
  return { runDir: trained.runDir, embedDir: emb.outDir };
}
