// Helpers for tests against the PyTorch fixtures (scripts/fixtures/torch_reference.py).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadSafetensors, type Tensor } from "../src/engine/index.ts";

export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

/**
 * The agreement we require with PyTorch: max |ours − torch| ≤ TOL · max(FLOOR, max |torch|), i.e. 1e-4
 * relative to the tensor's largest value (small gradients are held to their own scale, not to 1).
 */
export const TOL = 1e-4;
const FLOOR = 1e-3;

export async function loadFixture(rel: string): Promise<{ t: (name: string) => Tensor; meta: any }> {
  const { tensors } = await loadSafetensors(FIXTURES + rel + ".safetensors");
  for (const x of tensors.values()) x.keep();
  const meta = JSON.parse(readFileSync(FIXTURES + rel + ".json", "utf8"));
  const t = (name: string) => {
    const v = tensors.get(name);
    if (!v) throw new Error(`fixture ${rel} has no tensor ${name}`);
    return v;
  };
  return { t, meta };
}

/** Largest |a − b| and the tolerance it was held to. */
export function maxDiff(actual: Tensor, expected: Tensor): { diff: number; scale: number } {
  assert.deepEqual(actual.shape, expected.shape, "shape");
  const a = actual.toFloat32();
  const b = expected.toFloat32();
  let diff = 0;
  let scale = FLOOR;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  if (Number.isNaN(a.reduce((s, v) => s + v, 0))) diff = NaN;
  return { diff, scale };
}

export function assertClose(actual: Tensor | null, expected: Tensor, label: string, tol = TOL): void {
  assert.ok(actual, `${label}: missing (no gradient?)`);
  const { diff, scale } = maxDiff(actual, expected);
  assert.ok(diff <= tol * scale, `${label}: max |diff| ${diff.toExponential(3)} > ${tol} × ${scale.toExponential(3)}`);
}
