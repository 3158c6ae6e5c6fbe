// The training loop: seeded, resumable to the step, with per-term loss logs, validation, early stopping,
// a NaN/Inf guard, reconstructions and atomic checkpoints in the run folder.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { resolve } from "node:path";
import { tensor, tidy, noGrad, autocast, manualSeed, setThreads, Optimizer, clipGradNorm, type Tensor } from "../engine/index.ts";
import { createModel, type EmbeddingModel } from "../models/index.ts";
import { resolveConfig, type Config } from "../config/index.ts";
import { EngineError, BieError } from "../errors.ts";
import { learningRateAt } from "./schedule.ts";
import { RunFolder, type RunInfo } from "./run-folder.ts";
import { saveCheckpoint, loadCheckpoint, type TrainerPosition } from "./checkpoint.ts";
import { writeReconGrid } from "./recon-grid.ts";
import { sourceForConfig, type BatchSource } from "./source.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { matrixPenalties } from "./matrix-penalties.ts";

/** The model's own loss, plus the distance-matrix validity penalties for task=shapes. */
export function lossWithTask(cfg: Config, model: EmbeddingModel, x: Tensor): { total: Tensor; terms: Record<string, Tensor>; recon: Tensor } {
  const out = model.lossTerms(x);
  if (cfg.task !== "shapes") return out;
  const w = cfg.shapes.penalties;
  const p = matrixPenalties(out.recon.to("float32"));
  let total = out.total;
  for (const [k, t] of Object.entries(p)) {
    const weight = w[k as keyof typeof w];
    if (weight > 0) total = total.add(t.mul(weight));
  }
  return { total, terms: { ...out.terms, ...Object.fromEntries(Object.entries(p).map(([k, t]) => [`pen_${k}`, t])) }, recon: out.recon };
}

export interface Progress {
  phase: "train" | "val";
  epoch: number;
  epochs: number;
  step: number; // step within the epoch
  steps: number;
  loss: number;
  imgPerSec: number;
}

export interface TrainOptions {
  /** Continue the run in this folder from its last checkpoint. */
  resume?: string;
  onProgress?: (p: Progress) => void;
  onLog?: (line: string) => void;
}

export interface TrainResult {
  runDir: string;
  info: RunInfo;
}

export function modelForConfig(cfg: Config, src: { inputChannels: number; imageSize: [number, number] }): EmbeddingModel {
  return createModel(cfg.model, {
    inChannels: src.inputChannels,
    latentDim: cfg.latent_dim,
    imageSize: src.imageSize,
    beta: cfg.loss.beta,
    vqCodebookSize: cfg.loss.vq_codebook_size,
    vqCommitment: cfg.loss.vq_commitment,
    vqDecay: cfg.loss.vq_decay,
  });
}

/** Batch tensor in the configured memory format. */
export function batchTensor(x: Float32Array, shape: number[], cfg: Config): Tensor {
  const t = tensor(x, shape);
  return cfg.engine.memory_format === "channels_last" && shape.length === 4 ? t.contiguous("channels_last") : t;
}

export function configureEngine(cfg: Config): void {
  setThreads(cfg.engine.threads > 0 ? cfg.engine.threads : availableParallelism());
}

export async function trainFromConfig(cfgIn: Config, opts: TrainOptions = {}): Promise<TrainResult> {
  const t0 = performance.now();
  const log = opts.onLog ?? (() => {});
  const resuming = !!opts.resume;
  const cfg = resuming ? await resolveConfig({ file: resolve(opts.resume!, "config.yaml"), overrides: [] }) : cfgIn;
  const run = resuming ? new RunFolder(resolve(opts.resume!)) : RunFolder.forConfig(cfg);
  if (!resuming && existsSync(run.path("run.json")))
    throw new BieError("RUN_EXISTS", `run folder ${run.dir} already holds a run; choose another name=... or resume it with --resume ${run.dir}`);

  configureEngine(cfg);
  manualSeed(cfg.seed);
  const src = await sourceForConfig(cfg);
  try {
    return await trainLoop(cfg, run, src, resuming, opts, log, t0);
  } finally {
    await src.close();
  }
}

async function trainLoop(cfg: Config, run: RunFolder, src: BatchSource, resuming: boolean, opts: TrainOptions, log: (l: string) => void, t0: number): Promise<TrainResult> {
  if (src.split.train.length === 0) throw new BieError("NO_DATA", `no training items in ${cfg.data.path ?? cfg.data.manifest}`);
  const model = modelForConfig(cfg, src);
  if (cfg.engine.memory_format === "channels_last") model.toMemoryFormat("channels_last");
  const optim = new Optimizer(cfg.optim.name, model.parameters(), {
    lr: cfg.optim.lr,
    weightDecay: cfg.optim.weight_decay,
    betas: cfg.optim.betas as [number, number],
    momentum: cfg.optim.momentum,
  });
  const stepsPerEpoch = src.loader("train", { epoch: 0 }).length;
  const schedule = {
    lr: cfg.optim.lr,
    minLr: cfg.optim.min_lr,
    warmupSteps: Math.round(cfg.optim.warmup_epochs * stepsPerEpoch),
    totalSteps: cfg.epochs * stepsPerEpoch,
    schedule: cfg.optim.schedule,
  };

  let pos: TrainerPosition = { epoch: 0, step: 0, bestVal: null, badEpochs: 0, wallTimeS: 0 };
  const started = new Date().toISOString();
  if (resuming) {
    const last = run.path("checkpoints", "last.safetensors");
    if (existsSync(last)) {
      pos = await loadCheckpoint(last, model, optim);
      log(`resuming ${run.dir} at epoch ${pos.epoch + 1}/${cfg.epochs} (step ${pos.step})`);
    } else log(`no checkpoint in ${run.dir} yet; starting it from the beginning`);
    await run.truncateMetricsAfter(pos.step);
  } else {
    await run.init(cfg);
  }
  const info: RunInfo = {
    name: cfg.name,
    model: cfg.model,
    task: cfg.task,
    data: cfg.data.path ?? cfg.data.manifest ?? "",
    epochs: cfg.epochs,
    epochs_done: pos.epoch,
    status: "running",
    best_val_loss: pos.bestVal,
    wall_time_s: pos.wallTimeS,
    started: (await run.readInfo())?.started ?? started,
    latent_dim: cfg.latent_dim,
  };
  await run.writeInfo(info);
  const wallBase = pos.wallTimeS;
  const bf16 = cfg.engine.precision === "bf16";
  const finish = async (status: RunInfo["status"], message?: string) => {
    info.status = status;
    info.message = message;
    info.wall_time_s = wallBase + (performance.now() - t0) / 1000;
    info.finished = new Date().toISOString();
    await run.writeInfo(info);
  };

  try {
    for (let epoch = pos.epoch; epoch < cfg.epochs; epoch++) {
      model.train();
      const loader = src.loader("train", { epoch });
      const tEpoch = performance.now();
      let seen = 0;
      let b = 0;
      const sums: Record<string, number> = {};
      let count = 0;
      let epochLoss = 0;
      for await (const batch of loader) {
        const lr = learningRateAt(pos.step, schedule);
        optim.lr = lr;
        const terms = tidy(() => {
          const x = batchTensor(batch.x, batch.shape, cfg);
          const out = autocast(bf16, () => lossWithTask(cfg, model, x));
          const total = NAN_FAILPOINT === pos.step + 1 ? NaN : out.total.item();
          if (!Number.isFinite(total))
            throw new EngineError(`loss became ${total} at epoch ${epoch + 1}, step ${pos.step + 1} (lr ${lr.toExponential(2)}); stopped. The last good checkpoint is kept in ${run.path("checkpoints")}. Try a lower optim.lr or optim.grad_clip.`);
          optim.zeroGrad();
          out.total.backward();
          if (cfg.optim.grad_clip != null) clipGradNorm(optim.params, cfg.optim.grad_clip);
          optim.step();
          const vals: Record<string, number> = { loss: total };
          for (const [k, t] of Object.entries(out.terms)) vals[k] = t.item();
          return vals;
        });
        pos.step++;
        b++;
        seen += batch.indices.length;
        count++;
        epochLoss += terms.loss;
        for (const [k, v] of Object.entries(terms)) sums[k] = (sums[k] ?? 0) + v;
        const imgPerSec = seen / ((performance.now() - tEpoch) / 1000);
        if (pos.step % cfg.log_every === 0 || b === loader.length) {
          const row: Record<string, unknown> = { epoch: epoch + 1, step: pos.step, split: "train", lr, time_s: round((performance.now() - t0) / 1000 + wallBase) };
          for (const [k, v] of Object.entries(sums)) row[k] = v / count;
          await run.appendMetrics(row);
          for (const k of Object.keys(sums)) delete sums[k];
          count = 0;
        }
        opts.onProgress?.({ phase: "train", epoch: epoch + 1, epochs: cfg.epochs, step: b, steps: loader.length, loss: terms.loss, imgPerSec });
      }
      const epochS = (performance.now() - tEpoch) / 1000;
      const dataWait = loader.stats.waitMs / 1000 / epochS;

      const val = await validate(cfg, model, src, run, epoch);
      const improved = val.loss !== null && (pos.bestVal === null || val.loss < pos.bestVal - cfg.early_stopping.min_delta);
      if (improved) {
        pos.bestVal = val.loss;
        pos.badEpochs = 0;
      } else pos.badEpochs++;
      await run.appendMetrics({
        epoch: epoch + 1,
        step: pos.step,
        split: "val",
        ...val.terms,
        loss: val.loss,
        img_per_s: round(seen / epochS),
        data_wait_share: round(dataWait),
        time_s: round((performance.now() - t0) / 1000 + wallBase),
      });
      pos.epoch = epoch + 1;
      pos.wallTimeS = wallBase + (performance.now() - t0) / 1000;
      if (improved) await saveCheckpoint(run.path("checkpoints", "best.safetensors"), model, optim, pos);
      if (pos.epoch % cfg.checkpoint_every === 0 || pos.epoch === cfg.epochs) await saveCheckpoint(run.path("checkpoints", "last.safetensors"), model, optim, pos);
      info.epochs_done = pos.epoch;
      info.best_val_loss = pos.bestVal;
      info.wall_time_s = pos.wallTimeS;
      await run.writeInfo(info);
      log(`epoch ${epoch + 1}/${cfg.epochs}: train ${(epochLoss / Math.max(1, b)).toFixed(5)} val ${val.loss?.toFixed(5) ?? "n/a"}  ${Math.round(seen / epochS)} img/s, data wait ${(dataWait * 100).toFixed(1)}%`);
      if (cfg.early_stopping.patience > 0 && pos.badEpochs >= cfg.early_stopping.patience) {
        await saveCheckpoint(run.path("checkpoints", "last.safetensors"), model, optim, pos);
        await writeSkipped(run, src);
        await finish("stopped_early", `no val-loss improvement for ${pos.badEpochs} epochs`);
        return { runDir: run.dir, info };
      }
    }
    await writeSkipped(run, src);
    await finish("finished");
    return { runDir: run.dir, info };
  } catch (e) {
    await finish("failed", (e as Error).message).catch(() => {});
    throw e;
  } finally {
    optim.dispose();
    model.dispose();
  }
}

async function validate(cfg: Config, model: EmbeddingModel, src: BatchSource, run: RunFolder, epoch: number): Promise<{ loss: number | null; terms: Record<string, number> }> {
  const part = src.split.val.length ? "val" : "train";
  model.eval();
  const sums: Record<string, number> = {};
  let n = 0;
  let first = true;
  const wantRecon = (epoch + 1) % cfg.recon_every === 0 || epoch + 1 === cfg.epochs;
  const bf16 = cfg.engine.precision === "bf16";
  for await (const batch of src.loader(part, { epoch })) {
    const rows = batch.shape[0];
    const out = noGrad(() =>
      tidy(() => {
        const x = batchTensor(batch.x, batch.shape, cfg);
        const r = autocast(bf16, () => lossWithTask(cfg, model, x));
        const vals: Record<string, number> = { loss: r.total.item() };
        for (const [k, t] of Object.entries(r.terms)) vals[k] = t.item();
        const recon = first && wantRecon ? r.recon.toFloat32() : null;
        return { vals, recon };
      }),
    );
    for (const [k, v] of Object.entries(out.vals)) sums[k] = (sums[k] ?? 0) + v * rows;
    n += rows;
    if (out.recon && cfg.task === "image") await writeReconGrid(run.path("recon", `epoch_${String(epoch + 1).padStart(3, "0")}.png`), batch.x, out.recon, batch.shape);
    first = false;
  }
  model.train();
  if (n === 0) return { loss: null, terms: {} };
  const terms = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
  const loss = terms.loss;
  delete terms.loss;
  const prefixed = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, round(v, 6)]));
  return { loss, terms: prefixed };
}

async function writeSkipped(run: RunFolder, src: BatchSource): Promise<void> {
  const bad = src.skipped();
  if (bad.length) await writeFileAtomic(run.path("bad_inputs.txt"), bad.map((b) => `${b.path}\t${b.reason}`).join("\n") + "\n");
}

// Failpoint for testing the NaN guard end to end: BIE_FAILPOINT_NAN_STEP=N makes step N's loss NaN.
const NAN_FAILPOINT = Number(process.env.BIE_FAILPOINT_NAN_STEP ?? 0) || -1;

const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;
