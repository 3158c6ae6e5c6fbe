// Module: a tree of named parameters, buffers and child modules, with torch-compatible state-dict names
// ("layer1.0.conv1.weight") so weights move between bioimage-embed, PyTorch and timm by name.
import { Tensor, keep, noGrad, tidy } from "../../engine/index.ts";
import { ConfigError } from "../../errors.ts";

export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  protected param(name: string, t: Tensor): Tensor {
    keep(t);
    t.requireGrad(true);
    this.#params.set(name, t);
    return t;
  }
  protected buffer(name: string, t: Tensor): Tensor {
    keep(t);
    this.#buffers.set(name, t);
    return t;
  }
  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }
  /** Replace a registered parameter or buffer tensor (e.g. after folding batch norm). */
  protected replace(name: string, t: Tensor): void {
    if (this.#params.has(name)) this.#params.set(name, keep(t));
    else if (this.#buffers.has(name)) this.#buffers.set(name, keep(t));
  }

  *namedChildren(): Iterable<[string, Module]> {
    yield* this.#children;
  }
  *namedModules(prefix = ""): Iterable<[string, Module]> {
    yield [prefix, this];
    for (const [n, c] of this.#children) yield* c.namedModules(prefix ? `${prefix}.${n}` : n);
  }
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.#params) out.push([prefix ? `${prefix}.${n}` : n, t]);
    for (const [n, c] of this.#children) out.push(...c.namedParameters(prefix ? `${prefix}.${n}` : n));
    return out;
  }
  namedBuffers(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.#buffers) out.push([prefix ? `${prefix}.${n}` : n, t]);
    for (const [n, c] of this.#children) out.push(...c.namedBuffers(prefix ? `${prefix}.${n}` : n));
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }
  /** Parameters and buffers by torch-style name. */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }
  /**
   * Copy tensors into this module by name. strict: every name must match both ways.
   * A shape mismatch is an error naming the parameter.
   */
  loadStateDict(state: Map<string, Tensor>, opts: { strict?: boolean; source?: string } = {}): { missing: string[]; unexpected: string[] } {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if (opts.strict !== false && (missing.length || unexpected.length))
      throw new ConfigError(opts.source ?? "weights", `state dict does not match the model: missing [${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}], unexpected [${unexpected.slice(0, 5).join(", ")}${unexpected.length > 5 ? ", …" : ""}]`);
    noGrad(() =>
      tidy(() => {
        for (const [k, t] of own) {
          const src = state.get(k);
          if (!src) continue;
          if (src.shape.join(",") !== t.shape.join(","))
            throw new ConfigError(opts.source ?? "weights", `parameter '${k}' has shape [${src.shape}] in the file but [${t.shape}] in the model`);
          t.copyFrom(src.dtype === t.dtype ? src : src.to(t.dtype));
        }
      }),
    );
    return { missing, unexpected };
  }
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Store 4-D weights channels-last (faster convolutions with oneDNN); identity of tensors is kept. */
  toMemoryFormat(format: "contiguous" | "channels_last"): this {
    noGrad(() =>
      tidy(() => {
        for (const [, p] of this.namedParameters()) if (p.rank === 4) p.setData(p.contiguous(format));
      }),
    );
    return this;
  }
  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.dispose();
  }
}

/** Modules in order; forward feeds each output to the next. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.child(String(i), l));
  }
  forward(x: Tensor): Tensor {
    for (const l of this.layers) x = (l as unknown as { forward(x: Tensor): Tensor }).forward(x);
    return x;
  }
}
