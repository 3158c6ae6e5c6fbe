// Train/val/test split: deterministic for a seed, stratified by label, and group-safe (all items of a group,
// e.g. one well or one patient, land in the same part, so no group leaks between training and evaluation).
import type { SplitConfig } from "../config/schema.ts";
import { Rng, hash32, hashString } from "./rng.ts";

export interface Split {
  train: number[];
  val: number[];
  test: number[];
}

interface Unit {
  items: number[];
  stratum: string;
}

export function splitItems(items: { label: string | null; group: string | null }[], cfg: Pick<SplitConfig, "train" | "val" | "seed"> & { test?: number }): Split {
  // Units: one per group, one per ungrouped item. A group's stratum is its most common label.
  const byGroup = new Map<string, number[]>();
  const units: Unit[] = [];
  items.forEach((it, i) => {
    if (it.group === null) units.push({ items: [i], stratum: it.label ?? "" });
    else {
      const g = byGroup.get(it.group);
      if (g) g.push(i);
      else byGroup.set(it.group, [i]);
    }
  });
  for (const members of byGroup.values()) units.push({ items: members, stratum: majority(members.map((i) => items[i].label ?? "")) });

  const strata = new Map<string, Unit[]>();
  for (const u of units) {
    const s = strata.get(u.stratum);
    if (s) s.push(u);
    else strata.set(u.stratum, [u]);
  }
  const out: Split = { train: [], val: [], test: [] };
  for (const name of [...strata.keys()].sort()) {
    const su = strata.get(name)!.sort((a, b) => a.items[0] - b.items[0]);
    new Rng(hash32(cfg.seed, hashString(name))).shuffle(su);
    const total = su.reduce((n, u) => n + u.items.length, 0);
    const cutTrain = total * cfg.train, cutVal = total * (cfg.train + cfg.val);
    // Each unit goes where the middle of its span falls on the cumulative item count: proportional for
    // single items (same as rounding the cut points), close to proportional for groups.
    let cum = 0;
    for (const u of su) {
      const mid = cum + u.items.length / 2;
      cum += u.items.length;
      const part = mid <= cutTrain ? out.train : mid <= cutVal ? out.val : out.test;
      part.push(...u.items);
    }
  }
  for (const k of ["train", "val", "test"] as const) out[k].sort((a, b) => a - b);
  return out;
}

function majority(labels: string[]): string {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
}
