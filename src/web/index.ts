// Public API of the explorer: `bie explore RUN` and the library call behind it.
import { checkPort, startExplorer } from "./explorer.ts";
import { parseExploreArgs } from "./options.ts";

export { startExplorer, type Explorer, type StartOptions } from "./explorer.ts";
export { parseExploreArgs, DEFAULT_OPTIONS, type ExploreOptions } from "./options.ts";
export { cosineKnn, unitRows, type Neighbour } from "./knn.ts";
export { fileInside } from "./safe-path.ts";
export { loadRunData, type RunData, type ColumnInfo, type ModelInput } from "./run-data.ts";

/** Serve the explorer until Ctrl-C (or SIGTERM); prints the URL and opens nothing. */
export async function exploreCommand(run: string, overrides: string[], cli: { port?: number; host?: string }, say: (s: string) => void = (s) => void process.stdout.write(`${s}\n`)): Promise<void> {
  const opts = parseExploreArgs(overrides);
  checkPort(cli.port);
  const ex = await startExplorer(run, { ...opts, port: cli.port, host: cli.host, log: (l) => process.stderr.write(`${l}\n`) });
  say(`explorer: ${ex.url}  (serving ${ex.run.name}, ${ex.run.table.n} items; Ctrl-C to stop)`);
  if (cli.host && !["127.0.0.1", "::1", "localhost"].includes(cli.host))
    process.stderr.write(`note: bound to ${cli.host}, so other machines that can reach it can browse this run (read-only, no login)
`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await ex.close();
}
