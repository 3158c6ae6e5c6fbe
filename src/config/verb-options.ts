// A verb's own key=value options (redis=, shards=, count=, …), told apart from the config overrides that follow
// them on the same command line. Light on purpose: every CLI verb may use it without loading its neighbours.
import { BieError } from "../errors.ts";

type Kind = "string" | "int" | "bool";
/** Split key=value args into this verb's options and the config overrides it passes on. */
export function takeOptions<K extends string>(args: string[], spec: Record<K, Kind>): { opts: Partial<Record<K, string | number | boolean>>; rest: string[] } {
  const opts: Partial<Record<K, string | number | boolean>> = {};
  const rest: string[] = [];
  for (const a of args) {
    const eq = a.indexOf("=");
    const key = a.slice(0, eq) as K;
    if (eq <= 0 || !(key in spec)) {
      rest.push(a);
      continue;
    }
    const v = a.slice(eq + 1);
    if (spec[key] === "int") {
      if (!/^\d+$/.test(v)) throw new BieError("USAGE", `${a}: expected a whole number`);
      opts[key] = Number(v);
    } else if (spec[key] === "bool") {
      if (!/^(true|false|1|0|yes|no)$/i.test(v)) throw new BieError("USAGE", `${a}: expected true or false`);
      opts[key] = /^(true|1|yes)$/i.test(v);
    } else opts[key] = v;
  }
  return { opts, rest };
}
