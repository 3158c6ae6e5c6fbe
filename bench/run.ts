// `npm run bench -- NAME [args]`: runs bench/NAME.ts, whose default export measures ours beside the reference
// in the same run and writes bench/results/NAME.json.
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const [name, ...args] = process.argv.slice(2);
const dir = fileURLToPath(new URL(".", import.meta.url));
const available = readdirSync(dir).filter((f) => f.endsWith(".ts") && !["run.ts", "common.ts"].includes(f) && !f.includes("-worker")).map((f) => f.slice(0, -3));
if (!name || !existsSync(`${dir}${name}.ts`)) {
  console.error(`usage: npm run bench -- NAME [args]\navailable: ${available.join(", ")}`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { default: (args: string[]) => Promise<void> };
await mod.default(args);
