// CLI glue for `bie export RUN [k=v]` and the export-layer forms of `bie embed` (runtime=onnx, model=<zip|onnx>).
// Options that are not config keys are taken out here; the rest go to the run's config as overrides.
import { join, resolve, basename } from "node:path";
import { takeOptions } from "../config/verb-options.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { BieError } from "../errors.ts";
import { loadRunModel, type EmbedResult } from "../train/index.ts";
import { exportModel, type ExportPath } from "./onnx-export.ts";
import { writePackage } from "./package-write.ts";
import { validatePackage } from "./validate.ts";
import { embedImported, embedRunOnnx } from "./onnx-embed.ts";

const EXPORT_OPTIONS = {
  format: "string", out: "string", path: "string", name: "string", description: "string", authors: "list", license: "string", channel_names: "list", cite_data: "list",
} as const;

const list = (v?: string[]) => v?.flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);

export interface ExportSummary {
  path: string;
  format: "onnx" | "bioimageio";
  warnings: string[];
}

export async function exportRun(runDir: string, args: string[] = [], say: (s: string) => void = () => {}): Promise<ExportSummary> {
  const { opts: o, rest } = takeOptions(args, EXPORT_OPTIONS);
  const format = (o.format ?? "bioimageio") as "onnx" | "bioimageio";
  if (!["onnx", "bioimageio"].includes(format)) throw new BieError("USAGE", `format must be onnx or bioimageio, got '${format}'`);
  const { cfg, model, src } = await loadRunModel(runDir, rest);
  try {
    const run = basename(resolve(runDir));
    if (format === "onnx") {
      const path = (o.path ?? "embed") as ExportPath;
      if (!["embed", "reconstruct"].includes(path)) throw new BieError("USAGE", `path must be embed or reconstruct, got '${path}'`);
      const e = exportModel(model, { path });
      const out = resolve(o.out ?? join(runDir, `${run}.${path}.onnx`));
      await writeFileAtomic(out, e.bytes);
      say(`onnx: ${out} (opset ${e.opset}, input [${e.input.dims.join(", ")}] → ${e.output.name} [${e.output.dims.join(", ")}], ${Object.values(e.onnxOps).reduce((a, b) => a + b, 0)} nodes)`);
      return { path: out, format, warnings: [] };
    }
    const r = await writePackage(runDir, cfg, model, {
      out: o.out, name: o.name, description: o.description, authors: o.authors?.flatMap((s) => s.split(";")).map((s) => s.trim()).filter(Boolean),
      license: o.license, channelNames: list(o.channel_names), citeData: o.cite_data,
    });
    for (const w of r.warnings) say(`warning: ${w}`);
    const report = await validatePackage(r.path);
    for (const w of report.warnings) say(`warning: ${w}`);
    if (!report.ok) throw new BieError("EXPORT", `the written package does not validate:\n  - ${report.errors.join("\n  - ")}`);
    const rep = report.reproduced.map((x) => `test output reproduced to ${x.maxAbs.toExponential(1)}`).join("; ");
    say(`bioimage.io package: ${r.path} (valid; ${rep}; onnxruntime vs native ${r.nativeMaxAbs.toExponential(1)})`);
    return { path: r.path, format, warnings: [...r.warnings, ...report.warnings] };
  } finally {
    model.dispose();
    await src.close();
  }
}

/** `bie export RUN [k=v]` as the CLI calls it. */
export async function exportCommand(run: string, overrides: string[]): Promise<ExportSummary> {
  return exportRun(run, overrides, (s) => void process.stdout.write(`${s}\n`));
}

/** CLI shorthands: runtime= → embed.runtime=, model=<file.zip|.onnx> → embed.model=. */
export function normaliseEmbedArgs(overrides: string[]): string[] {
  return overrides.map((a) => (a.startsWith("runtime=") ? `embed.${a}` : /^model=.*\.(zip|onnx)$/i.test(a) ? `embed.${a}` : a));
}

/** True when `bie embed` needs this layer (an ONNX runtime or an imported model). */
export const wantsExportEmbed = (overrides: string[]) => normaliseEmbedArgs(overrides).some((a) => /^embed\.(runtime=onnx|model=)/.test(a));

export interface EmbedIO {
  onProgress?: (done: number, total: number, imgPerSec: number) => void;
  onLog?: (line: string) => void;
}

/** `bie embed [RUN] runtime=onnx | model=<zip|onnx> ... [out=DIR]`. */
export async function embedCommand(run: string | undefined, args: string[], io: EmbedIO = {}): Promise<EmbedResult> {
  const { opts, rest } = takeOptions(normaliseEmbedArgs(args), { out: "string" });
  const outDir = opts.out;
  const model = rest.find((a) => a.startsWith("embed.model="))?.slice("embed.model=".length);
  if (model) {
    if (run) throw new BieError("USAGE", `give either a run folder (${run}) or model=${model}, not both`);
    return embedImported(model, rest.filter((a) => !a.startsWith("embed.")), { ...io, outDir });
  }
  if (!run) throw new BieError("USAGE", "bie embed needs a run folder, or model=<package.zip | model.onnx> with data.path=...");
  return embedRunOnnx(run, rest, { ...io, outDir });
}
