// Entry point of `bie` (bin/bie.js loads this through tsx).
import { run } from "./program.ts";

process.exitCode = await run(process.argv.slice(2));
