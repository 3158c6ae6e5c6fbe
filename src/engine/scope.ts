// Deterministic release of native tensors: every tensor made inside tidy() is disposed when tidy returns,
// except the ones it returns (which move to the enclosing scope). Like tfjs's tidy, synchronous only.
export interface Disposable {
  dispose(): void;
  readonly disposed: boolean;
}

const scopes: Set<Disposable>[] = [];

export function track<T extends Disposable>(t: T): T {
  const top = scopes[scopes.length - 1];
  if (top) top.add(t);
  return t;
}

/** Remove a tensor from scope tracking so it survives every enclosing tidy (parameters, optimizer state). */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Disposable>, depth = 0): void {
  if (value == null || depth > 4) return;
  if (typeof value === "object" && "dispose" in (value as object) && "disposed" in (value as object)) {
    out.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, depth + 1);
  else if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value as object)) collect(v, out, depth + 1);
}

export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) throw new Error("tidy() takes a synchronous function; await outside it");
  const kept = new Set<Disposable>();
  collect(result, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Dispose everything in a value (tensor, array, plain object of tensors). */
export function dispose(value: unknown): void {
  const all = new Set<Disposable>();
  collect(value, all);
  for (const t of all) t.dispose();
}
