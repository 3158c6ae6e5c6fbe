// Contrastive terms agree with PyTorch (scripts/fixtures/torch_contrastive.py) in value and gradient.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tensor, tidy } from "../src/engine/index.ts";
import { ntXent, groupPull } from "../src/train/contrastive.ts";

const ref = JSON.parse(readFileSync(new URL("./fixtures/train/contrastive.json", import.meta.url), "utf8"));

function close(a: ArrayLike<number>, b: number[], tol: number, what: string) {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test("supervised NT-Xent matches PyTorch (value and gradient, 1e-5)", () => {
  tidy(() => {
    const z = tensor(new Float32Array(ref.z), ref.shape).requireGrad();
    const loss = ntXent(z, ref.groups, ref.tau);
    assert.ok(Math.abs(loss.item() - ref.ntxent) < 1e-5, `${loss.item()} vs ${ref.ntxent}`);
    loss.backward();
    close(z.grad!.toArray() as Float32Array, ref.grad, 1e-5, "grad");
  });
});

test("group pull matches PyTorch, and NT-Xent is zero-gradient when no row has a positive", () => {
  tidy(() => {
    const z = tensor(new Float32Array(ref.z), ref.shape).requireGrad();
    const loss = groupPull(z, ref.groups);
    assert.ok(Math.abs(loss.item() - ref.pull) < 1e-6);
    loss.backward();
    close(z.grad!.toArray() as Float32Array, ref.pull_grad, 1e-6, "pull grad");
    const solo = ntXent(z, ref.groups.map((_: number, i: number) => i), 0.1);
    assert.equal(solo.item(), 0);
  });
});
