// One rank started by the local launcher: receives what to run over IPC, runs it, sends back the result or
// the error, then exits (a process group keeps threads alive, so the process ends explicitly).

export interface ChildRequest {
  type: "run";
  module: string;
  fn: string;
  args: unknown[];
  /** Names of callbacks to add to the last argument; calls are relayed to the launcher. */
  callbacks: string[];
}

export type ChildMessage =
  | { type: "callback"; name: string; args: unknown[] }
  | { type: "result"; value: unknown }
  | { type: "error"; error: { name: string; message: string; code?: string } };

function send(m: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

async function run(req: ChildRequest): Promise<void> {
  const args = [...req.args];
  const last = (args.length && typeof args[args.length - 1] === "object" && args[args.length - 1]) || {};
  const hooks: Record<string, (...a: unknown[]) => void> = {};
  for (const name of req.callbacks) hooks[name] = (...a: unknown[]) => void send({ type: "callback", name, args: a });
  if (args.length) args[args.length - 1] = { ...(last as object), ...hooks };
  else args.push(hooks);
  const mod = (await import(req.module)) as Record<string, (...a: unknown[]) => unknown>;
  if (typeof mod[req.fn] !== "function") throw new Error(`${req.module} has no ${req.fn}()`);
  const value = await mod[req.fn](...args);
  await send({ type: "result", value: JSON.parse(JSON.stringify(value ?? null)) });
}

// The launcher is gone (killed): stop too, rather than train on with nobody to report to.
process.once("disconnect", () => process.exit(1));

process.once("message", (req: ChildRequest) => {
  run(req).then(
    () => process.exit(0),
    async (e: Error & { code?: string }) => {
      await send({ type: "error", error: { name: e?.name ?? "Error", message: e?.message ?? String(e), code: e?.code } });
      process.exit(1);
    },
  );
});
