// `bie slurm embed|sweep`: the same shards and trials as a Slurm job array — task i runs shard i (or trial i) via
// SLURM_ARRAY_TASK_ID — plus a follow-up job that depends on the array: `bie merge` after an embedding,
// `bie sweep` (which finishes any ASHA promotions and writes the summary) after a sweep.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BieError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";

export interface SbatchSettings {
  partition?: string;
  time?: string;
  cpus?: number;
  mem?: string;
  account?: string;
  qos?: string;
  gres?: string;
}

export interface SlurmPlan {
  kind: "embed" | "sweep";
  /** Array size N: tasks 0..N-1. */
  tasks: number;
  /** At most this many tasks at once (the %K of --array); default: no limit. */
  parallel?: number;
  /** Folder for the scripts and the logs/ they write. */
  dir: string;
  cwd: string;
  /** `bie` arguments of every task; "{task}" is replaced by the task id. */
  taskArgs: string[];
  /** `bie` arguments of the follow-up job. */
  finishArgs: string[];
  settings: SbatchSettings;
  label: string;
}

const bieJs = fileURLToPath(new URL("../../bin/bie.js", import.meta.url));
/** Placeholders in task arguments that bash expands when the task runs. */
const VARS: Record<string, string> = { "{task}": '"${SLURM_ARRAY_TASK_ID}"', "{cpus}": '"${SLURM_CPUS_PER_TASK:-1}"' };

/** Single-quote for bash, except the placeholders, which become variable expansions. */
function shellArg(a: string): string {
  const quote = (s: string) => (s === "" ? "" : /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const out = a.split(/(\{task\}|\{cpus\})/).map((part) => VARS[part] ?? quote(part)).join("");
  return out === "" ? "''" : out;
}

function header(p: SlurmPlan, name: string, array: boolean): string[] {
  const s = p.settings;
  const lines = [
    "#!/bin/bash",
    `# Written by \`bie slurm ${p.kind}\` (${p.label}) on ${new Date().toISOString()}.`,
    `#SBATCH --job-name=${name}`,
    array ? `#SBATCH --array=0-${p.tasks - 1}${p.parallel ? `%${p.parallel}` : ""}` : "",
    `#SBATCH --output=${join(p.dir, "logs", array ? "%x_%A_%a.out" : "%x_%j.out")}`,
    `#SBATCH --cpus-per-task=${s.cpus ?? 1}`,
    s.mem ? `#SBATCH --mem=${s.mem}` : "",
    s.time ? `#SBATCH --time=${s.time}` : "",
    s.partition ? `#SBATCH --partition=${s.partition}` : "",
    s.account ? `#SBATCH --account=${s.account}` : "",
    s.qos ? `#SBATCH --qos=${s.qos}` : "",
    s.gres ? `#SBATCH --gres=${s.gres}` : "",
    "set -euo pipefail",
  ];
  return lines.filter(Boolean);
}

export function arrayScript(p: SlurmPlan): string {
  return [
    ...header(p, `bie-${p.kind}`, true),
    `: "\${SLURM_ARRAY_TASK_ID:?is not set: submit this script with sbatch, or set it (0..${p.tasks - 1}) to run one task by hand}"`,
    `cd ${shellArg(p.cwd)}`,
    `export OMP_NUM_THREADS="\${SLURM_CPUS_PER_TASK:-1}"`,
    `exec ${shellArg(process.execPath)} ${shellArg(bieJs)} ${p.taskArgs.map(shellArg).join(" ")}`,
    "",
  ].join("\n");
}

export function finishScript(p: SlurmPlan): string {
  return [...header(p, `bie-${p.kind}-finish`, false), `cd ${shellArg(p.cwd)}`, `exec ${shellArg(process.execPath)} ${shellArg(bieJs)} ${p.finishArgs.map(shellArg).join(" ")}`, ""].join("\n");
}

export async function writeSlurmScripts(p: SlurmPlan): Promise<{ array: string; finish: string }> {
  if (!(Number.isInteger(p.tasks) && p.tasks >= 1)) throw new BieError("USAGE", `need at least one array task, got ${p.tasks}`);
  const array = join(p.dir, `${p.kind}_array.sbatch`);
  const finish = join(p.dir, `${p.kind}_finish.sbatch`);
  await writeFileAtomic(join(p.dir, "logs", ".keep"), "");
  await writeFileAtomic(array, arrayScript(p));
  await writeFileAtomic(finish, finishScript(p));
  return { array, finish };
}

/** sbatch the array, then the follow-up with a dependency on it (afterok for merge, afterany for a sweep). */
export function submitSlurm(scripts: { array: string; finish: string }, kind: "embed" | "sweep"): { arrayJob: string; finishJob: string } {
  const sbatch = (args: string[]) => {
    try {
      return execFileSync("sbatch", ["--parsable", ...args], { encoding: "utf8" }).trim().split(";")[0];
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === "ENOENT") throw new BieError("NO_SLURM", `sbatch is not installed here; the scripts are written (${scripts.array}, ${scripts.finish}): submit them on the cluster`);
      throw new BieError("SBATCH", `sbatch ${args.join(" ")} failed: ${String(err.stderr ?? err.message).trim()}`);
    }
  };
  if (!existsSync(scripts.array)) throw new BieError("USAGE", `${scripts.array}: no such script`);
  const arrayJob = sbatch([scripts.array]);
  const finishJob = sbatch([`--dependency=${kind === "embed" ? "afterok" : "afterany"}:${arrayJob}`, scripts.finish]);
  return { arrayJob, finishJob };
}

export const TASK_PLACEHOLDER = "{task}";
export const CPUS_PLACEHOLDER = "{cpus}";
