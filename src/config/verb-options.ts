// A verb's own key=value options (redis=, shards=, count=, …), told apart from the config overrides that follow
// them on the same command line. Light on purpose: every CLI verb may use it without loading its neighbours.
import { BieError } from "../errors.ts";

/** string, int and bool: the last occurrence wins; list: every occurrence, in order (repeatable keys). */
export type OptionKind = "string" | "int" | "bool" | "list";
type ValueOf<K extends OptionKind> = K extends "int" ? number : K extends "bool" ? boolean : K extends "list" ? string[] : string;
export type VerbOptions<S extends Record<string, OptionKind>> = { [k in keyof S]?: ValueOf<S[k]> };

/** Split key=value args into this verb's options and the config overrides it passes on. */
export function takeOptions<S extends Record<string, OptionKind>>(args: string[], spec: S): { opts: VerbOptions<S>; rest: string[] } {
  const opts: Record<string, string | number | boolean | string[]> = {};
  const rest: string[] = [];
  for (const a of args) {
    const eq = a.indexOf("=");
    const key = a.slice(0, eq);
    if (eq <= 0 || !Object.hasOwn(spec, key)) {
      rest.push(a);
      continue;
    }
    const v = a.slice(eq + 1);
    const kind = spec[key];
    if (kind === "int") {
      if (!/^\d+$/.test(v)) throw new BieError("USAGE", `${a}: expected a whole number`);
      opts[key] = Number(v);
    } else if (kind === "bool") {
      if (!/^(true|false|1|0|yes|no)$/i.test(v)) throw new BieError("USAGE", `${a}: expected true or false`);
      opts[key] = /^(true|1|yes)$/i.test(v);
    } else if (kind === "list") ((opts[key] ??= []) as string[]).push(v);
    else opts[key] = v;
  }
  return { opts: opts as VerbOptions<S>, rest };
}
