// Checkpoints: last.safetensors holds model weights ("model.*"), optimizer state ("optim.*") and the libtorch RNG
// state, plus the position (epoch, step) and trainer state in its metadata; best.safetensors holds the best epoch's
// weights only. Both written atomically.
import { existsSync } from "node:fs";
import { saveSafetensors, loadSafetensors, getRngState, setRngState, type Tensor, type Optimizer } from "../engine/index.ts";
import type { Module } from "../models/nn/module.ts";
import { BieError } from "../errors.ts";

export interface TrainerPosition {
  epoch: number; // next epoch to run
  step: number; // optimizer steps done
  bestVal: number | null;
  badEpochs: number; // epochs without improvement (early stopping)
  wallTimeS: number;
}

export async function saveCheckpoint(path: string, model: Module, optim: Optimizer, pos: TrainerPosition): Promise<void> {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) tensors.set(`model.${k}`, t);
  for (const [k, t] of optim.stateTensors()) tensors.set(`optim.${k}`, t);
  const rng = getRngState();
  tensors.set("rng.torch", rng);
  await saveSafetensors(path, tensors, { position: JSON.stringify(pos), optim_step: String(optim.stepCount), format: "bie-checkpoint-1" });
  rng.dispose();
}

/** The best epoch's weights alone (no optimizer or RNG state: resume always starts from last.safetensors),
 *  a third of a full Adam checkpoint on disk. Same "model." prefix, so loadWeights reads either. */
export async function saveBestWeights(path: string, model: Module, pos: TrainerPosition): Promise<void> {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) tensors.set(`model.${k}`, t);
  await saveSafetensors(path, tensors, { position: JSON.stringify(pos), format: "bie-weights-1" });
}

/** Load weights (and optimizer + RNG when given) and return the saved position. */
export async function loadCheckpoint(path: string, model: Module, optim?: Optimizer): Promise<TrainerPosition> {
  if (!existsSync(path)) throw new BieError("NO_CHECKPOINT", `${path}: no checkpoint to resume from`);
  const { tensors, metadata } = await loadSafetensors(path);
  const modelState = new Map<string, Tensor>();
  const optimState = new Map<string, Tensor>();
  for (const [k, t] of tensors) {
    if (k.startsWith("model.")) modelState.set(k.slice(6), t);
    else if (k.startsWith("optim.")) optimState.set(k.slice(6), t);
  }
  model.loadStateDict(modelState, { source: path });
  if (optim) {
    optim.loadStateTensors(optimState, Number(metadata.optim_step ?? 0));
    const rng = tensors.get("rng.torch");
    if (rng) setRngState(rng);
  }
  for (const t of tensors.values()) t.dispose();
  return JSON.parse(metadata.position ?? "{}") as TrainerPosition;
}

/** Weights only, for embedding and export: accepts a checkpoint or a plain weights file. */
export async function loadWeights(path: string, model: Module): Promise<void> {
  const { tensors } = await loadSafetensors(path);
  const state = new Map<string, Tensor>();
  const prefixed = [...tensors.keys()].some((k) => k.startsWith("model."));
  for (const [k, t] of tensors) {
    if (prefixed && k.startsWith("model.")) state.set(k.slice(6), t);
    else if (!prefixed) state.set(k, t);
  }
  model.loadStateDict(state, { source: path });
  for (const t of tensors.values()) t.dispose();
}
