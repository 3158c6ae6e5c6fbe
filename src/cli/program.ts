// The `bie` command line: a thin shell over library calls. Each verb loads its implementation only when run,
// so a module still being written breaks its own verb and no other.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { configHelp, configToYaml, resolveConfig } from "../config/index.ts";
import { BadInputError, BieError } from "../errors.ts";
import { countProgress, ProgressBar, trainProgress, type Sink } from "./progress.ts";
import { formatRunsTable, readRuns } from "./runs.ts";

export interface CliIO {
  out: Sink;
  err: Sink;
}

/** A verb whose implementation is not in this checkout (yet): said plainly, exit code 1, no stack. */
class NotAvailableError extends Error {}

/** Import `rel` (relative to this file) and check it exports `fn`; a missing module becomes NotAvailableError. */
async function load<T>(rel: string, fn: string, verb: string): Promise<T> {
  const url = new URL(rel, import.meta.url);
  const file = fileURLToPath(url);
  let mod: Record<string, unknown>;
  try {
    mod = await import(url.href);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ERR_MODULE_NOT_FOUND" && err.message.includes(file))
      throw new NotAvailableError(`\`bie ${verb}\` is not available in this checkout yet (${rel.replace(/^(\.\.\/)+/, "src/")} is missing)`);
    throw e;
  }
  if (typeof mod[fn] !== "function") throw new NotAvailableError(`\`bie ${verb}\` is not available yet (${rel} has no ${fn}())`);
  return mod as T;
}

/** `a=b` arguments are config overrides; the rest are inputs (paths). */
export function splitArgs(args: string[]): { inputs: string[]; overrides: string[] } {
  const overrides = args.filter((a) => /^[A-Za-z_][\w.]*=/.test(a));
  return { inputs: args.filter((a) => !overrides.includes(a)), overrides };
}

function requireRun(dir: string): string {
  if (!existsSync(join(dir, "config.yaml"))) throw new BadInputError(dir, "not a run folder (no config.yaml in it)");
  return dir;
}

export function buildProgram(io: CliIO): Command {
  const say = (s: string) => void io.out.write(s.endsWith("\n") ? s : `${s}\n`);
  const program = new Command("bie")
    .description("bioimage-embed: self-supervised embeddings of microscopy images and cell shapes")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.out.write(s), writeErr: (s) => void io.err.write(s) })
    .showHelpAfterError("(run `bie --help` or `bie <command> --help`)");
  const keysHelp = () => `\n${configHelp()}`;

  program
    .command("train")
    .description("train a model; settings are config keys (listed below) given as key=value or in --config FILE")
    .argument("[overrides...]", "key=value config overrides, e.g. model=resnet18_vae data.path=imgs/ epochs=20")
    .option("-c, --config <file>", "YAML config file (overrides win over it)")
    .option("--resume <run>", "continue the run in this folder from its last checkpoint, with its saved config")
    .addHelpText("after", keysHelp)
    .action(async (overrides: string[], opts: { config?: string; resume?: string }) => {
      if (opts.resume && (overrides.length || opts.config))
        throw new BieError("USAGE", "--resume takes no key=value overrides or --config: a resumed run continues with its saved config.yaml");
      const cfg = opts.resume ? resolveConfig({ file: join(requireRun(opts.resume), "config.yaml") }) : resolveConfig({ file: opts.config, overrides });
      const { trainFromConfig } = await import("../train/index.ts");
      const bar = new ProgressBar({ out: io.err });
      const r = await trainFromConfig(cfg, { resume: opts.resume, onProgress: trainProgress(bar), onLog: (l) => bar.log(l) });
      bar.done();
      say(`run: ${r.runDir} (${r.info.status}, best val loss ${r.info.best_val_loss ?? "-"})`);
    });

  program
    .command("embed")
    .description("embed a dataset with a trained run (runtime=native|onnx), or with a model made elsewhere (model=<package.zip | model.onnx> data.path=...): embeddings.parquet, embeddings.npy + index.csv")
    .argument("[args...]", "run folder (e.g. runs/jurkat_resnet18_ae), then key=value overrides, e.g. data.path=other/images runtime=onnx")
    .action(async (args: string[]) => {
      const { inputs, overrides } = splitArgs(args);
      if (inputs.length > 1) throw new BieError("USAGE", `bie embed takes one run folder, got ${inputs.join(", ")}`);
      const run = inputs[0];
      // ONNX runtime or an imported model: the export layer (src/export/) does those
      if (overrides.some((o) => /^(embed\.)?runtime=onnx$|^embed\.model=|^model=.*\.(zip|onnx)$/i.test(o))) {
        type M = { embedCommand(run: string | undefined, args: string[], io: object): Promise<{ outDir: string; rows: number; dim: number; imgPerSec: number }> };
        const bar = new ProgressBar({ out: io.err });
        const r = await (await load<M>("../export/commands.ts", "embedCommand", "embed")).embedCommand(run && requireRun(run), overrides, { onProgress: countProgress(bar, "embed"), onLog: (l: string) => bar.log(l) });
        bar.done();
        return say(`embeddings: ${r.outDir} (${r.rows} rows × ${r.dim} dims, ${Math.round(r.imgPerSec)} img/s)`);
      }
      if (!run) throw new BieError("USAGE", "bie embed needs a run folder (or model=<package.zip | model.onnx> data.path=...)");
      requireRun(run);
      if (overrides.some((o) => /^(shard|out|part_size)=/.test(o))) return (await import("../distributed/commands.ts")).embedCommand(run, overrides, scaleIO("embed"));
      const { embedRun } = await import("../train/index.ts");
      const bar = new ProgressBar({ out: io.err });
      const r = await embedRun(run, overrides, { onProgress: countProgress(bar, "embed"), onLog: (l) => bar.log(l) });
      bar.done();
      say(`embeddings: ${r.outDir} (${r.rows} rows × ${r.dim} dims, ${Math.round(r.imgPerSec)} img/s)`);
    });

  program
    .command("finetune")
    .description("continue from a trained run on new data, in a new run folder (config keys as for train, e.g. finetune.freeze=encoder optim.lr=1e-4)")
    .argument("<run>", "run folder whose weights to start from")
    .argument("[overrides...]", "key=value overrides of that run's config, e.g. data.path=new/images epochs=10")
    .action(async (run: string, overrides: string[]) => {
      const { finetuneConfig } = await import("../train/finetune.ts");
      const cfg = finetuneConfig(requireRun(run), overrides);
      const { trainFromConfig } = await import("../train/index.ts");
      const bar = new ProgressBar({ out: io.err });
      const r = await trainFromConfig(cfg, { onProgress: trainProgress(bar), onLog: (l) => bar.log(l) });
      bar.done();
      say(`run: ${r.runDir} (${r.info.status}, best val loss ${r.info.best_val_loss ?? "-"}; fine-tuned from ${resolve(run)})`);
    });

  program
    .command("search")
    .description("find the tiles of a large image (or the images of a dataset) most similar to a query crop: hits.csv + hits.png")
    .argument("<run>", "run folder whose model embeds the tiles")
    .argument("[options...]", "query=<image> [box=x,y,w,h] in=<image|folder|manifest.csv> [k=10 tile= stride= level= channels= normalise=tile|image overlap=0.25 out=]")
    .action(async (run: string, args: string[]) => {
      type M = { searchCommand(run: string, args: string[], io: { say: (s: string) => void; onProgress: (d: number, t: number) => void }): Promise<unknown> };
      const bar = new ProgressBar({ out: io.err });
      await (await load<M>("../search/index.ts", "searchCommand", "search")).searchCommand(requireRun(run), args, { say: (l) => (bar.done(), say(l)), onProgress: countProgress(bar, "tiles") });
    });

  program
    .command("evaluate")
    .description("random-forest evaluation of embeddings or features (run folder, .parquet or .csv)")
    .argument("<inputs...>", "run folders / embeddings files, then key=value overrides (e.g. labels=label)")
    .action(async (args: string[]) => {
      const { inputs, overrides } = splitArgs(args);
      type M = { evaluateCommand(inputs: string[], overrides: string[]): Promise<unknown> };
      await (await load<M>("../eval/index.ts", "evaluateCommand", "evaluate")).evaluateCommand(inputs, overrides);
    });

  program
    .command("runs")
    .description("list runs (name, model, data, epochs, best val loss, wall time, status)")
    .argument("[overrides...]", "e.g. runs_dir=sweeps")
    .option("-c, --config <file>", "YAML config file (for runs_dir)")
    .option("--compare", "add the config keys that differ between runs as columns")
    .action((overrides: string[], opts: { config?: string; compare?: boolean }) => {
      const cfg = resolveConfig({ file: opts.config, overrides, uniqueName: false });
      const rows = readRuns(cfg.runs_dir);
      if (rows.length === 0) return say(`no runs in ${resolve(cfg.runs_dir)}`);
      io.out.write(formatRunsTable(rows, { compare: opts.compare }));
    });

  program
    .command("config")
    .description("print the resolved config (defaults ← --config FILE ← key=value overrides) as YAML")
    .argument("[overrides...]", "key=value overrides")
    .option("-c, --config <file>", "YAML config file")
    .option("--print", "print the resolved config (the default)")
    .option("--no-comments", "leave out the per-key descriptions")
    .addHelpText("after", keysHelp)
    .action((overrides: string[], opts: { config?: string; comments: boolean }) => {
      io.out.write(configToYaml(resolveConfig({ file: opts.config, overrides }), { comments: opts.comments }));
    });

  program
    .command("demo")
    .description("train a small model on the bundled Jurkat sample, embed it and say where the outputs are")
    .argument("[overrides...]", "key=value overrides of the demo config")
    .action(async (overrides: string[]) => {
      const { runDemo } = await import("./demo.ts");
      const bar = new ProgressBar({ out: io.err });
      await runDemo({ overrides, bar, say });
    });

  program
    .command("export")
    .description("export a run's model: a bioimage.io package (zip, validated) or just the ONNX graph")
    .argument("<run>", "run folder")
    .argument("[overrides...]", "format=bioimageio|onnx out=FILE path=embed|reconstruct (onnx) name= description= authors='A; B' license=SPDX channel_names=a,b,c cite_data='text|doi-or-url', and config overrides")
    .action(async (run: string, overrides: string[]) => {
      type M = { exportCommand(run: string, overrides: string[]): Promise<unknown> };
      await (await load<M>("../export/index.ts", "exportCommand", "export")).exportCommand(requireRun(run), overrides);
    });

  const shapes = program.command("shapes").description("shape (mask outline) tools");
  // Each verb: a module in src/cli/ exporting fn(inputs, overrides), loaded when used.
  const shapesVerb = (name: string, description: string, usage: string, file: string, fn: string) =>
    shapes
      .command(name)
      .description(description)
      .argument("[args...]", usage)
      .action(async (args: string[]) => {
        const { inputs, overrides } = splitArgs(args);
        type M = Record<string, (inputs: string[], overrides: string[]) => Promise<unknown>>;
        await (await load<M>(file, fn, `shapes ${name}`))[fn](inputs, overrides);
      });
  shapesVerb("evaluate", "classical and learned shape features, random-forest evaluation", "inputs, then key=value overrides", "./shapes-evaluate.ts", "shapesEvaluateCommand");
  shapesVerb("reconstruct", "decode a shape run's outlines (MDS + Procrustes): input-vs-reconstruction figure and IoU", "run folder, then part=test count=24 out=<prefix>", "./shapes-reconstruct.ts", "shapesReconstructCommand");

  program
    .command("explore")
    .description("serve the embedding explorer for a run on a local port")
    .argument("<run>", "run folder")
    .argument("[overrides...]", "key=value options")
    .option("--port <n>", "port to listen on", (v) => Number(v))
    .option("--host <addr>", "address to bind (default loopback)")
    .action(async (run: string, overrides: string[], opts: { port?: number; host?: string }) => {
      type M = { exploreCommand(run: string, overrides: string[], opts: { port?: number; host?: string }): Promise<unknown> };
      await (await load<M>("../web/index.ts", "exploreCommand", "explore")).exploreCommand(requireRun(run), overrides, opts);
    });

  // Scale-out (src/distributed/): shards, merge, sweeps, Redis/BullMQ queue and workers, Slurm arrays.
  const scale = () => import("../distributed/commands.ts");
  program.command("merge").description("join the shards of a sharded embedding (checks each is there exactly once)").argument("<out>", "output folder holding shards/").action(async (out: string) => (await scale()).mergeCommand(out, scaleIO("merge")));
  program
    .command("sweep")
    .description("hyperparameter sweep (grid/random, ASHA early stopping) from a spec file; trial=K runs one trial")
    .argument("<spec>", "sweep.yaml")
    .argument("[options...]", "trial=K, out=DIR")
    .action(async (spec: string, args: string[]) => (await scale()).sweepCommand(spec, args, scaleIO("sweep")));
  const queue = program.command("queue").description("Redis + BullMQ job queue: enqueue shards/trials, show progress");
  queue.command("embed").description("enqueue the shards of an embedding").argument("<run>").argument("[options...]", "redis=URL shards=N out=DIR, config overrides").action(async (run: string, args: string[]) => (await scale()).queueEmbedCommand(requireRun(run), args, scaleIO("queue")));
  queue.command("sweep").description("enqueue the trials of a sweep").argument("<spec>").argument("[options...]", "redis=URL out=DIR").action(async (spec: string, args: string[]) => (await scale()).queueSweepCommand(spec, args, scaleIO("queue")));
  queue.command("status").description("progress of queued embeddings and sweeps").argument("[options...]", "redis=URL queue=NAME json=true").action(async (args: string[]) => (await scale()).queueStatusCommand(args, scaleIO("status")));
  program.command("worker").description("run queued shards and trials (sandboxed child process per slot) until stopped").argument("[options...]", "redis=URL concurrency=1 threads=N idle_exit=true").action(async (args: string[]) => (await scale()).workerCommand(args, scaleIO("worker")));
  const slurm = program.command("slurm").description("write (and with submit=true, submit) a Slurm job array: one shard or trial per task");
  slurm.command("embed").description("one embedding shard per array task, then bie merge").argument("<run>").argument("[options...]", "shards=N parallel=K out=DIR time= partition= cpus= mem= submit=true, config overrides").action(async (run: string, args: string[]) => (await scale()).slurmEmbedCommand(requireRun(run), args, scaleIO("slurm")));
  slurm.command("sweep").description("one sweep trial per array task, then bie sweep to finish").argument("<spec>").argument("[options...]", "parallel=K out=DIR time= partition= cpus= mem= submit=true").action(async (spec: string, args: string[]) => (await scale()).slurmSweepCommand(spec, args, scaleIO("slurm")));

  return program;

  function scaleIO(label: string) {
    const bar = new ProgressBar({ out: io.err });
    return { say: (l: string) => (bar.done(), say(l)), log: (l: string) => bar.log(l), progress: countProgress(bar, label) };
  }
}

/** Run the CLI; resolves to the exit code: 0 ok, 2 bad input/config/usage, 1 anything else. */
export async function run(argv: string[], io: CliIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander has printed the message
    if (isBieError(e)) {
      io.err.write(`error: ${(e as Error).message}\n`);
      return 2;
    }
    if (e instanceof NotAvailableError) {
      io.err.write(`error: ${e.message}\n`);
      return 1;
    }
    io.err.write(`${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

// Also recognise tagged errors from another copy of errors.ts (e.g. revived from a worker thread).
const isBieError = (e: unknown) =>
  e instanceof BieError || (e instanceof Error && ["BieError", "BadInputError", "ConfigError", "EngineError"].includes(e.name) && "code" in e);
