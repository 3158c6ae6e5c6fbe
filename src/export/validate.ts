// Validation of a bioimage.io model package: the rdf.yaml against the published JSON Schema (ajv, vendored in
// schema/), the spec's semantic rules that the schema cannot state, and reproduction of every test output from its
// test input (preprocessing → onnxruntime → postprocessing) within the spec's tolerance.
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import { BadInputError } from "../errors.ts";
import { decodeNpy } from "../io/npy.ts";
import { axisId, shapeProblems, tensorId, type TensorDescr } from "./axes.ts";
import { describeOnnx } from "./onnx-graph.ts";
import { onnxRunner } from "./ort.ts";
import { packageFile, readPackage, sha256, type ModelPackage } from "./package-read.ts";
import { applyProcessing, type NamedTensor } from "./processing.ts";

export interface ValidationReport {
  ok: boolean;
  errors: string[];
  warnings: string[];
  /** Per output: worst differences between the reproduced and the packaged test output. */
  reproduced: { output: string; maxAbs: number; maxRel: number; mismatchedPerMillion: number }[];
}

interface Compiled {
  ajv: InstanceType<typeof Ajv2020.default>;
  validate: ValidateFunction;
}
let compiled: Compiled | null = null;
function schemaValidator(): Compiled {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(new URL("./schema/bioimageio_schema_model_0.5.json", import.meta.url), "utf8"));
  // verbose: errors carry their schema and data, so a failed discriminated oneOf can be re-checked on its one branch
  const ajv = new Ajv2020.default({ strict: false, allErrors: true, logger: false, verbose: true });
  ajv.addFormat("uri", /^[a-z][a-z0-9+.-]*:\S+$/i);
  ajv.addFormat("email", /^[^\s@]+@[^\s@]+$/);
  ajv.addFormat("date", /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/);
  ajv.addFormat("path", true);
  ajv.addFormat("file-path", true);
  ajv.addSchema(schema, "model");
  return (compiled = { ajv, validate: ajv.getSchema("model")! });
}

/**
 * Readable schema errors. A oneOf with a discriminator (axis `type`, processing `id`) reports every branch's
 * failure; re-check the data on the branch its discriminator names and report only that. Elsewhere keep the
 * deepest error per place.
 */
function schemaMessages(errors: ErrorObject[], ajv: Compiled["ajv"]): string[] {
  const out: string[] = [];
  const covered: string[] = [];
  for (const e of errors) {
    const disc = (e.parentSchema as { discriminator?: { propertyName: string; mapping: Record<string, unknown> } } | undefined)?.discriminator;
    if (e.keyword !== "oneOf" || !disc) continue;
    const value = (e.data as Record<string, unknown> | null)?.[disc.propertyName];
    const ref = disc.mapping[String(value)];
    covered.push(e.instancePath);
    if (typeof ref !== "string") {
      out.push(`${e.instancePath}/${disc.propertyName}: '${String(value)}' is not one of ${Object.keys(disc.mapping).join(", ")}`);
      continue;
    }
    const branch = ajv.getSchema(`model${ref}`)!;
    if (!branch(e.data)) out.push(...schemaMessages(branch.errors ?? [], ajv).map((m) => `${e.instancePath}${m === "/" ? "" : m.startsWith("/:") ? m.slice(1) : m}`));
  }
  const rest = errors.filter((e) => !covered.some((c) => e.instancePath === c || e.instancePath.startsWith(`${c}/`)));
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of rest) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  // a place's own structural error (required, additionalProperties) always shows; branch noise only at the leaves
  const structural = (e: ErrorObject) => ["required", "additionalProperties", "minItems", "maxItems"].includes(e.keyword);
  const paths = [...byPath.keys()].filter((p) => byPath.get(p)!.some(structural) || ![...byPath.keys()].some((q) => q !== p && q.startsWith(`${p}/`)));
  for (const p of paths) {
    const e = byPath.get(p)!.find(structural) ?? byPath.get(p)!.find((x) => !["anyOf", "oneOf"].includes(x.keyword)) ?? byPath.get(p)![0];
    const extra = e.keyword === "additionalProperties" ? ` ('${(e.params as { additionalProperty: string }).additionalProperty}')` : e.keyword === "const" ? ` (${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)})` : "";
    out.push(`${p || "/"}: ${e.message}${extra}`);
  }
  return out.slice(0, 10);
}

function checkSemantics(pkg: ModelPackage, errors: string[], warnings: string[]): void {
  const rdf = pkg.rdf as Record<string, any>;
  // weights: exactly one entry without parent, parents must exist
  const weights = Object.entries((rdf.weights ?? {}) as Record<string, any>).filter(([, w]) => w);
  const roots = weights.filter(([, w]) => !w.parent);
  if (roots.length !== 1) errors.push(`weights: exactly one entry must have no parent, found ${roots.length} (${roots.map(([k]) => k).join(", ") || "none"})`);
  for (const [k, w] of weights) if (w.parent && (w.parent === k || !weights.some(([n]) => n === w.parent))) errors.push(`weights.${k}.parent '${w.parent}' is not another weights entry`);
  // every referenced file is in the package, flat, and its sha256 (when given) matches
  const refs: [string, { source?: string; sha256?: string | null } | null | undefined][] = [
    ...weights.map(([k, w]): [string, any] => [`weights.${k}`, w]),
    ...weights.filter(([, w]) => w.external_data).map(([k, w]): [string, any] => [`weights.${k}.external_data`, w.external_data]),
    ...["inputs", "outputs"].flatMap((kind) => ((rdf[kind] ?? []) as TensorDescr[]).flatMap((t, i): [string, any][] => [[`${kind}[${i}].test_tensor`, t.test_tensor], [`${kind}[${i}].sample_tensor`, t.sample_tensor]])),
    ...((rdf.attachments ?? []) as any[]).map((a, i): [string, any] => [`attachments[${i}]`, a]),
  ];
  for (const [where, ref] of refs) {
    if (!ref?.source || /^https?:\/\//.test(ref.source)) continue;
    if (ref.source.includes("/")) errors.push(`${where}: '${ref.source}' is not flat beside rdf.yaml`);
    const f = pkg.files.get(ref.source);
    if (!f) errors.push(`${where}: file '${ref.source}' is not in the package`);
    else if (ref.sha256 && sha256(f) !== ref.sha256) errors.push(`${where}: sha256 mismatch for '${ref.source}': rdf.yaml says ${ref.sha256}, the file hashes to ${sha256(f)}`);
    else if (!ref.sha256 && where.startsWith("weights")) warnings.push(`${where}: no sha256 given`);
  }
  for (const f of [rdf.documentation, ...((rdf.covers ?? []) as string[])]) if (typeof f === "string" && !/^https?:/.test(f) && !pkg.files.has(f)) errors.push(`file '${f}' referenced by rdf.yaml is not in the package`);
  if (typeof rdf.documentation === "string" && !rdf.documentation.endsWith(".md")) errors.push("documentation must be a .md file");
  for (const [i, c] of ((rdf.cite ?? []) as any[]).entries()) if (!c?.doi && !c?.url) errors.push(`cite[${i}] ('${c?.text}'): give a doi or a url`);
  // tensor and axis ids unique
  const tensors = [...((rdf.inputs ?? []) as TensorDescr[]).map((t) => tensorId(t, "input")), ...((rdf.outputs ?? []) as TensorDescr[]).map((t) => tensorId(t, "output"))];
  if (new Set(tensors).size !== tensors.length) errors.push(`tensor ids repeat: [${tensors.join(", ")}]`);
  for (const t of [...(rdf.inputs ?? []), ...(rdf.outputs ?? [])] as TensorDescr[]) {
    const ids = (t.axes ?? []).map(axisId);
    if (new Set(ids).size !== ids.length) errors.push(`tensor '${t.id}': axis ids repeat: [${ids.join(", ")}]`);
  }
}

interface TestCase {
  tensors: Map<string, { descr: TensorDescr; data: Float32Array; shape: number[] }>;
}

function loadTests(pkg: ModelPackage, errors: string[]): TestCase {
  const rdf = pkg.rdf as Record<string, any>;
  const tensors: TestCase["tensors"] = new Map();
  for (const [kind, fallback] of [["inputs", "input"], ["outputs", "output"]] as const)
    for (const t of (rdf[kind] ?? []) as TensorDescr[]) {
      const id = tensorId(t, fallback);
      if (!t.test_tensor?.source) {
        errors.push(`${kind} '${id}': no test_tensor`);
        continue;
      }
      const bytes = pkg.files.get(t.test_tensor.source);
      if (!bytes) continue; // reported by the file checks
      try {
        const { data, shape } = decodeNpy(bytes, t.test_tensor.source);
        tensors.set(id, { descr: t, data: Float32Array.from(data as ArrayLike<number>, Number), shape });
      } catch (e) {
        errors.push(`${kind} '${id}': ${(e as Error).message}`);
      }
    }
  for (const [id, t] of tensors) {
    const sizeOf = (tid: string, aid: string) => {
      const ref = tensors.get(tid);
      const k = ref?.descr.axes.findIndex((a) => axisId(a) === aid) ?? -1;
      return ref && k >= 0 ? { size: ref.shape[k], scale: ref.descr.axes[k].scale ?? 1 } : null;
    };
    for (const p of shapeProblems(t.descr.axes, t.shape, sizeOf)) errors.push(`test tensor of '${id}' [${t.shape}]: ${p}`);
  }
  return { tensors };
}

function tolerance(rdf: Record<string, any>, output: string): { rel: number; abs: number; perMillion: number } {
  const list = (rdf.config?.bioimageio?.reproducibility_tolerance ?? []) as any[];
  const t = list.find((e) => (!e.output_ids?.length || e.output_ids.includes(output)) && (!e.weights_formats?.length || e.weights_formats.includes("onnx")));
  return { rel: t?.relative_tolerance ?? 1e-3, abs: t?.absolute_tolerance ?? 1e-3, perMillion: t?.mismatched_elements_per_million ?? 100 };
}

async function reproduce(pkg: ModelPackage, tests: TestCase, report: ValidationReport): Promise<void> {
  const rdf = pkg.rdf as Record<string, any>;
  const onnxW = rdf.weights?.onnx;
  if (!onnxW) return void report.warnings.push("no onnx weights: test outputs not reproduced (bioimage-embed runs ONNX only)");
  const bytes = packageFile(pkg, onnxW.source, "weights.onnx");
  const info = describeOnnx(bytes);
  if (onnxW.opset_version !== info.opset) report.errors.push(`weights.onnx.opset_version is ${onnxW.opset_version} but the ONNX file imports opset ${info.opset}`);
  const inputs = (rdf.inputs ?? []) as TensorDescr[], outputs = (rdf.outputs ?? []) as TensorDescr[];
  if (inputs.length !== 1 || info.inputs.length !== 1) return void report.warnings.push(`reproduction covers single-input models; this one has ${inputs.length} described and ${info.inputs.length} ONNX inputs`);
  const inId = tensorId(inputs[0], "input");
  const test = tests.tensors.get(inId);
  if (!test) return;
  const x: NamedTensor = applyProcessing({ data: test.data.slice(), shape: test.shape, axes: inputs[0].axes.map(axisId) }, inputs[0].preprocessing);
  const runner = await onnxRunner(bytes, { source: `${pkg.source}:${onnxW.source}` });
  try {
    const y = await runner.run(x.data, x.shape);
    const out = outputs[0], outId = tensorId(out, "output");
    const got = applyProcessing({ data: y.data, shape: y.shape, axes: out.axes.map(axisId) }, out.postprocessing);
    const want = tests.tensors.get(outId);
    if (!want) return;
    if (got.shape.join() !== want.shape.join()) return void report.errors.push(`reproduced '${outId}' has shape [${got.shape}], the test tensor [${want.shape}]`);
    const tol = tolerance(rdf, outId);
    let maxAbs = 0, maxRel = 0, bad = 0;
    for (let i = 0; i < want.data.length; i++) {
      const d = Math.abs(got.data[i] - want.data[i]);
      maxAbs = Math.max(maxAbs, d);
      maxRel = Math.max(maxRel, d / Math.max(Math.abs(want.data[i]), 1e-12));
      if (!(d <= tol.abs + tol.rel * Math.abs(want.data[i]))) bad++;
    }
    const perMillion = (bad / want.data.length) * 1e6;
    report.reproduced.push({ output: outId, maxAbs, maxRel, mismatchedPerMillion: perMillion });
    if (perMillion > tol.perMillion)
      report.errors.push(`test output '${outId}' not reproduced: ${bad} of ${want.data.length} values differ by more than abs ${tol.abs} + rel ${tol.rel} (max |Δ| ${maxAbs.toExponential(2)})`);
  } finally {
    await runner.release();
  }
}

/**
 * Validate a package (zip/folder path or an opened package). schema: "error" (default) or "warn" (importing
 * packages written for another 0.5.x micro version). reproduce: run the test input through the model (default on).
 */
export async function validatePackage(p: ModelPackage | string, opts: { schema?: "error" | "warn"; reproduce?: boolean } = {}): Promise<ValidationReport> {
  const pkg = typeof p === "string" ? readPackage(p) : p;
  const report: ValidationReport = { ok: false, errors: [], warnings: [], reproduced: [] };
  const { ajv, validate } = schemaValidator();
  if (!validate(pkg.rdf)) {
    const msgs = schemaMessages(validate.errors ?? [], ajv).map((m) => `rdf.yaml ${m}`);
    (opts.schema === "warn" ? report.warnings : report.errors).push(...msgs);
  }
  checkSemantics(pkg, report.errors, report.warnings);
  const tests = loadTests(pkg, report.errors);
  if (opts.reproduce !== false && report.errors.length === 0) await reproduce(pkg, tests, report);
  report.ok = report.errors.length === 0;
  return report;
}

/** Throw a BadInputError listing the problems when the report has errors. */
export function assertValid(report: ValidationReport, source: string): void {
  if (!report.ok) throw new BadInputError(source, `not a valid bioimage.io model package:\n  - ${report.errors.join("\n  - ")}`);
}
