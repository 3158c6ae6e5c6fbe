// The training loop: seeded, resumable to the step, with per-term loss logs, validation, early stopping,
// a NaN/Inf guard, reconstructions and atomic checkpoints in the run folder.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { join, resolve } from "node:path";
import { tensor, tidy, noGrad, autocast, manualSeed, setThreads, Optimizer, clipGradNorm, type Tensor } from "../engine/index.ts";
import { createModel, type EmbeddingModel, type LossTerms } from "../models/index.ts";
import { resolveConfig, type Config } from "../config/index.ts";
import { EngineError, BieError } from "../errors.ts";
import { learningRateAt } from "./schedule.ts";
import { RunFolder, type RunInfo } from "./run-folder.ts";
import { saveBestWeights, saveCheckpoint, loadCheckpoint, type TrainerPosition } from "./checkpoint.ts";
import { writeReconGrid } from "./recon-grid.ts";
import { sourceForConfig, type BatchSource } from "./source.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { matrixPenalties } from "./matrix-penalties.ts";
import { hash32 } from "../data/index.ts";
import { ddpSettings, perRankBatch, type DdpSettings } from "../distributed/ddp-settings.ts";
import { DataParallel } from "../distributed/ddp.ts";
import { launchLocalRanks, freePortOr } from "../distributed/ddp-launch.ts";
import { syncBatchNorm } from "../distributed/ddp-syncbn.ts";
import { relatedViews, withContrastive } from "./related.ts";
import { loadInitialWeights, trainableParameters } from "./finetune.ts";

/**
 * The model's own loss, plus the distance-matrix validity penalties for task=shapes, plus the group contrastive
 * term on the latent when `groups` (one group number per batch row) is given.
 */
export function lossWithTask(cfg: Config, model: EmbeddingModel, x: Tensor, groups?: Int32Array | null): LossTerms {
  const out = model.lossTerms(x);
  const res = withTaskPenalties(cfg, out);
  return groups ? withContrastive(cfg, res, out.latent ?? model.embed(x), groups) : res;
}

function withTaskPenalties(cfg: Config, out: LossTerms): LossTerms {
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

/** threads: a data-parallel rank's share of the machine (set by the local launcher). */
export function configureEngine(cfg: Config, threads?: number): void {
  setThreads(threads ?? (cfg.engine.threads > 0 ? cfg.engine.threads : availableParallelism()));
}

export async function trainFromConfig(cfgIn: Config, opts: TrainOptions = {}): Promise<TrainResult> {
  const t0 = performance.now();
  const log = opts.onLog ?? (() => {});
  const resuming = !!opts.resume;
  const cfg = resuming ? await resolveConfig({ file: resolve(opts.resume!, "config.yaml"), overrides: [] }) : cfgIn;
  const dist = ddpSettings(cfg.distributed);
  if (dist.mode === "launch") return launchRanks(cfg, opts, dist);
  if (dist.mode === "rank") perRankBatch(cfg.batch_size, dist.worldSize);
  const ddp = dist.mode === "rank" ? DataParallel.join(dist) : null;
  const main = !ddp || ddp.isMain;
  const dir = resuming ? resolve(opts.resume!) : RunFolder.forConfig(cfg).dir;
  // Only rank 0 writes the run folder; the other ranks read it (to resume) and report nothing.
  const run = main ? new RunFolder(dir) : new ReadOnlyRunFolder(dir);
  const quiet = main ? opts : { resume: opts.resume };
  try {
    if (main && !resuming && existsSync(run.path("run.json")))
      throw new BieError("RUN_EXISTS", `run folder ${run.dir} already holds a run; choose another name=... or resume it with --resume ${run.dir}`);
    configureEngine(cfg, dist.threads);
    manualSeed(cfg.seed);
    const src = await sourceForConfig(cfg);
    try {
      const result = await trainLoop(cfg, run, src, resuming, quiet, main ? log : () => {}, t0, ddp);
      ddp?.close();
      return result;
    } finally {
      await src.close();
    }
  } catch (e) {
    ddp?.pg.destroy();
    throw e;
  }
}

async function trainLoop(cfg: Config, run: RunFolder, src: BatchSource, resuming: boolean, opts: TrainOptions, log: (l: string) => void, t0: number, ddp: DataParallel | null): Promise<TrainResult> {
  if (src.split.train.length === 0) throw new BieError("NO_DATA", `no training items in ${cfg.data.path ?? cfg.data.manifest}`);
  if (ddp && src.split.train.length < ddp.worldSize)
    throw new BieError("NO_DATA", `${src.split.train.length} training items cannot be shared by ${ddp.worldSize} ranks`);
  const main = !ddp || ddp.isMain;
  const shard = ddp ? { rank: ddp.rank, count: ddp.worldSize } : undefined;
  const model = modelForConfig(cfg, src);
  if (cfg.engine.memory_format === "channels_last") model.toMemoryFormat("channels_last");
  if (ddp && cfg.distributed.sync_bn) syncBatchNorm(model, ddp.pg);
  if (!resuming) await loadInitialWeights(cfg, model, log); // finetune.from / pretrained
  const related = relatedViews(cfg, src.items, src.channelsPerItem);
  const optim = new Optimizer(cfg.optim.name, trainableParameters(cfg, model), {
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
  if (ddp) {
    ddp.agree(pos.step, "the step to resume from");
    ddp.broadcastModel(model); // one set of weights, whatever each rank initialised or loaded
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
  let lastTerms: Record<string, number> = {};
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
      // Ranks draw different noise (VAE sampling, dropout), reproducibly per epoch.
      if (ddp) manualSeed(hash32(cfg.seed, epoch, ddp.rank, 0xdd9));
      const loader = src.loader("train", { epoch, shard });
      const tEpoch = performance.now();
      let seen = 0;
      let b = 0;
      const sums: Record<string, number> = {};
      let count = 0;
      let epochLoss = 0;
      for await (const batch of loader) {
        const lr = learningRateAt(pos.step, schedule);
        optim.lr = lr;
        ddp?.broadcastBuffers(model);
        const terms = tidy(() => {
          const x = batchTensor(batch.x, batch.shape, cfg);
          const out = autocast(bf16, () => lossWithTask(cfg, model, x, related?.rowGroups(batch.indices, batch.itemRows ?? src.channelsPerItem)));
          const vals: Record<string, number> = { loss: NAN_FAILPOINT === pos.step + 1 ? NaN : out.total.item() };
          for (const [k, t] of Object.entries(out.terms)) vals[k] = t.item();
          // Data-parallel: means over the global batch, so every rank logs and decides on the same numbers.
          const g = ddp ? ddp.globalMeans(vals, batch.shape[0], batch.batch) : { values: vals, weight: 1 };
          const total = g.values.loss;
          if (!Number.isFinite(total))
            throw new EngineError(`loss became ${total} at epoch ${epoch + 1}, step ${pos.step + 1} (lr ${lr.toExponential(2)}); stopped. The last good checkpoint is kept in ${run.path("checkpoints")}. Try a lower optim.lr or optim.grad_clip.`);
          optim.zeroGrad();
          if (ddp) ddp.backward(out.total, optim.params, g.weight);
          else out.total.backward();
          if (cfg.optim.grad_clip != null) clipGradNorm(optim.params, cfg.optim.grad_clip);
          optim.step();
          return g.values;
        });
        lastTerms = terms;
        pos.step++;
        b++;
        seen += batch.indices.length * (ddp?.worldSize ?? 1);
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

      const val = await validate(cfg, model, src, run, epoch, ddp, Object.keys(lastTerms));
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
      if (improved && main) await saveBestWeights(run.path("checkpoints", "best.safetensors"), model, pos);
      if ((pos.epoch % cfg.checkpoint_every === 0 || pos.epoch === cfg.epochs) && main) await saveCheckpoint(run.path("checkpoints", "last.safetensors"), model, optim, pos);
      info.epochs_done = pos.epoch;
      info.best_val_loss = pos.bestVal;
      info.wall_time_s = pos.wallTimeS;
      await run.writeInfo(info);
      log(`epoch ${epoch + 1}/${cfg.epochs}: train ${(epochLoss / Math.max(1, b)).toFixed(5)} val ${val.loss?.toFixed(5) ?? "n/a"}  ${Math.round(seen / epochS)} img/s, data wait ${(dataWait * 100).toFixed(1)}%`);
      if (cfg.early_stopping.patience > 0 && pos.badEpochs >= cfg.early_stopping.patience) {
        if (main) await saveCheckpoint(run.path("checkpoints", "last.safetensors"), model, optim, pos);
        if (main) await writeSkipped(run, src);
        await finish("stopped_early", `no val-loss improvement for ${pos.badEpochs} epochs`);
        return { runDir: run.dir, info };
      }
      // Time budget: stop when the next epoch (taking as long as this one did) would overrun it.
      const budgetS = cfg.max_minutes * 60;
      const epochWallS = (performance.now() - tEpoch) / 1000;
      if (budgetS > 0 && pos.epoch < cfg.epochs && pos.wallTimeS + epochWallS > budgetS) {
        if (main && pos.epoch % cfg.checkpoint_every !== 0) await saveCheckpoint(run.path("checkpoints", "last.safetensors"), model, optim, pos);
        if (main) await writeSkipped(run, src);
        const msg = `time budget of ${cfg.max_minutes} min: stopped after epoch ${pos.epoch}/${cfg.epochs} (${(pos.wallTimeS / 60).toFixed(1)} min; another epoch takes ~${(epochWallS / 60).toFixed(1)} min)`;
        log(msg);
        await finish("stopped_time", msg);
        return { runDir: run.dir, info };
      }
    }
    if (main) await writeSkipped(run, src);
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

/** keys: the loss terms, known on every rank even when its share of the validation set is empty. */
async function validate(cfg: Config, model: EmbeddingModel, src: BatchSource, run: RunFolder, epoch: number, ddp: DataParallel | null, keys: string[]): Promise<{ loss: number | null; terms: Record<string, number> }> {
  const part = src.split.val.length ? "val" : "train";
  model.eval();
  const sums: Record<string, number> = {};
  let n = 0;
  let first = true;
  const wantRecon = ((epoch + 1) % cfg.recon_every === 0 || epoch + 1 === cfg.epochs) && (!ddp || ddp.isMain);
  const bf16 = cfg.engine.precision === "bf16";
  const related = relatedViews(cfg, src.items, src.channelsPerItem);
  for await (const batch of src.loader(part, { epoch, shard: ddp ? { rank: ddp.rank, count: ddp.worldSize } : undefined })) {
    const rows = batch.shape[0];
    const out = noGrad(() =>
      tidy(() => {
        const x = batchTensor(batch.x, batch.shape, cfg);
        const r = autocast(bf16, () => lossWithTask(cfg, model, x, related?.rowGroups(batch.indices, batch.itemRows ?? src.channelsPerItem)));
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
  if (ddp) {
    // Each rank validated its slices: sum over ranks so all take the same early-stopping decision.
    const all = ddp.sumOverRanks({ ...Object.fromEntries(keys.map((k) => [k, sums[k] ?? 0])), "#rows": n });
    n = all["#rows"];
    for (const k of keys) sums[k] = all[k];
  }
  if (n === 0) return { loss: null, terms: {} };
  const terms = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
  const loss = terms.loss;
  delete terms.loss;
  const prefixed = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, round(v, 6)]));
  return { loss, terms: prefixed };
}

/** What ranks other than 0 see of the run folder: they read it (to resume) and never write to it. */
class ReadOnlyRunFolder extends RunFolder {
  override async init(): Promise<void> {}
  override async writeInfo(): Promise<void> {}
  override async appendMetrics(): Promise<void> {}
  override async truncateMetricsAfter(): Promise<void> {}
}

/** distributed.procs=N: start N local ranks running this same function and wait for them. */
async function launchRanks(cfg: Config, opts: TrainOptions, s: DdpSettings): Promise<TrainResult> {
  const dir = opts.resume ? resolve(opts.resume) : RunFolder.forConfig(cfg).dir;
  perRankBatch(cfg.batch_size, s.worldSize);
  if (!opts.resume && existsSync(join(dir, "run.json")))
    throw new BieError("RUN_EXISTS", `run folder ${dir} already holds a run; choose another name=... or resume it with --resume ${dir}`);
  const total = cfg.engine.threads > 0 ? cfg.engine.threads : availableParallelism();
  const threadsPerRank = Math.max(1, Math.floor(total / s.worldSize));
  const port = await freePortOr(s.host, s.port);
  opts.onLog?.(`starting ${s.worldSize} local ranks × ${threadsPerRank} thread${threadsPerRank > 1 ? "s" : ""} (global batch ${cfg.batch_size}, ${cfg.batch_size / s.worldSize} per rank)`);
  const callbacks = { onProgress: (p: Progress) => opts.onProgress?.(p), onLog: (l: string) => opts.onLog?.(l) };
  try {
    const args = [cfg, { resume: opts.resume }];
    return (await launchLocalRanks({ procs: s.worldSize, host: s.host, port, timeoutMs: s.timeoutMs, threadsPerRank, module: import.meta.url, fn: "trainFromConfig", args, callbacks })) as TrainResult;
  } catch (e) {
    const run = new RunFolder(dir);
    const info = await run.readInfo().catch(() => null);
    if (!info) throw e;
    // Rank 0 may have been the one killed: then nobody marked the run as failed.
    if (info.status === "running") await run.writeInfo({ ...info, status: "failed", message: (e as Error).message }).catch(() => {});
    (e as Error).message += `. Restart the whole group from the last checkpoint with: bie train --resume ${dir}`;
    throw e;
  }
}

async function writeSkipped(run: RunFolder, src: BatchSource): Promise<void> {
  const bad = src.skipped();
  if (bad.length) await writeFileAtomic(run.path("bad_inputs.txt"), bad.map((b) => `${b.path}\t${b.reason}`).join("\n") + "\n");
}

// Failpoint for testing the NaN guard end to end: BIE_FAILPOINT_NAN_STEP=N makes step N's loss NaN.
const NAN_FAILPOINT = Number(process.env.BIE_FAILPOINT_NAN_STEP ?? 0) || -1;

const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;
