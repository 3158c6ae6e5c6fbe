// `bie runs`: one row per run folder (from its run.json), optionally with the config keys that differ between
// runs, so a sweep reads as a table.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import YAML from "yaml";
import { formatDuration, formatLoss } from "./progress.ts";

export interface RunRow {
  name: string;
  dir: string;
  model: string;
  data: string;
  epochs: string;
  status: string;
  best_val_loss: number | null;
  wall_time_s: number | null;
  started: string;
}

export function readRuns(runsDir: string): RunRow[] {
  if (!existsSync(runsDir)) return [];
  const rows: RunRow[] = [];
  for (const e of readdirSync(runsDir, { withFileTypes: true })) {
    const dir = join(runsDir, e.name);
    const file = join(dir, "run.json");
    if (!e.isDirectory() || !existsSync(file)) continue;
    let info: Record<string, unknown>;
    try {
      info = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      rows.push({ name: e.name, dir, model: "?", data: "?", epochs: "?", status: "unreadable run.json", best_val_loss: null, wall_time_s: null, started: "" });
      continue;
    }
    const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
    const done = num(info.epochs_done);
    rows.push({
      name: String(info.name ?? e.name),
      dir,
      model: String(info.model ?? "?"),
      data: String(info.data ?? ""),
      epochs: done !== null && done !== info.epochs ? `${done}/${info.epochs}` : String(info.epochs ?? "?"),
      status: String(info.status ?? "?"),
      best_val_loss: num(info.best_val_loss),
      wall_time_s: num(info.wall_time_s),
      started: String(info.started ?? ""),
    });
  }
  return rows.sort((a, b) => (a.started < b.started ? -1 : a.started > b.started ? 1 : a.name < b.name ? -1 : 1));
}

/** Config keys (dotted) whose values differ between the runs; name and run-specific paths left out. */
export function differingKeys(configs: Record<string, unknown>[]): string[] {
  const flat = configs.map((c) => flatten(c));
  const keys = new Set(flat.flatMap((f) => Object.keys(f)));
  return [...keys].filter((k) => k !== "name" && new Set(flat.map((f) => JSON.stringify(f[k]))).size > 1).sort();
}

function flatten(obj: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (obj && typeof obj === "object" && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = obj;
  return out;
}

const shorten = (s: string, n: number) => (s.length > n ? `…${s.slice(s.length - n + 1)}` : s);
/** Paths inside the working directory read best relative to it. */
const showPath = (p: string) => (isAbsolute(p) && p.startsWith(process.cwd() + sep) ? relative(process.cwd(), p) : p);

export function formatRunsTable(rows: RunRow[], opts: { compare?: boolean } = {}): string {
  const header = ["name", "model", "data", "epochs", "best val loss", "wall time", "status"];
  let body = rows.map((r) => [
    r.name,
    r.model,
    shorten(showPath(r.data), 40),
    r.epochs,
    r.best_val_loss === null ? "-" : formatLoss(r.best_val_loss),
    r.wall_time_s === null ? "-" : formatDuration(r.wall_time_s),
    r.status,
  ]);
  if (opts.compare && rows.length > 1) {
    const cfgs = rows.map((r) => {
      try {
        return (YAML.parse(readFileSync(join(r.dir, "config.yaml"), "utf8")) ?? {}) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
    const keys = differingKeys(cfgs).filter((k) => k !== "model");
    header.push(...keys);
    body = body.map((row, i) => [...row, ...keys.map((k) => fmtValue(flatten(cfgs[i])[k]))]);
  }
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) => r.map((v, c) => v.padEnd(widths[c])).join("  ").trimEnd()).join("\n") + "\n";
}

const fmtValue = (v: unknown) => (v === undefined ? "-" : typeof v === "string" ? shorten(v, 30) : JSON.stringify(v));
