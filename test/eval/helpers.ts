// Shared by the eval tests: where the real data and the fixtures are.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DATA = fileURLToPath(new URL("../../../shared/data/", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("../fixtures/eval/", import.meta.url));

export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(FIXTURES + name, "utf8")) as T;
}

export function close(actual: number, expected: number, tol: number, what = ""): void {
  if (!(Math.abs(actual - expected) <= tol)) throw new Error(`${what}: ${actual} differs from ${expected} by more than ${tol}`);
}
