// One process at a time per trial folder (and per sweep summary). A queue can hand the same trial to two workers
// (a lock that expired while Redis was away, a stalled check racing a slow worker); two trainers appending to one
// metrics.jsonl would corrupt it. The lock is a file created with O_EXCL holding host and pid; a holder that died is detected by pid on the
// same host and by a stale heartbeat (mtime) from another host.
import { open, readFile, stat, unlink, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { BieError } from "../errors.ts";

const HEARTBEAT_MS = 20_000;
const STALE_MS = 120_000;

export class TrialBusyError extends BieError {
  constructor(file: string, holder: string) {
    super("TRIAL_BUSY", `${file}: trial is being run by ${holder}`);
    this.name = "TrialBusyError";
  }
}

interface Holder {
  host: string;
  pid: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function tryCreate(file: string, me: Holder): Promise<boolean> {
  try {
    const fh = await open(file, "wx");
    await fh.writeFile(JSON.stringify({ ...me, started: new Date().toISOString() }));
    await fh.close();
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

export async function withTrialLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const me = { host: hostname(), pid: process.pid };
  if (!(await tryCreate(file, me))) {
    const holder = (JSON.parse(await readFile(file, "utf8").catch(() => "{}")) as Partial<Holder>) ?? {};
    const age = Date.now() - (await stat(file).then((s) => s.mtimeMs).catch(() => 0));
    const dead = holder.host === me.host ? !(holder.pid && alive(holder.pid)) : age > STALE_MS;
    if (!dead) throw new TrialBusyError(file, `${holder.host}:${holder.pid}`);
    await unlink(file).catch(() => {});
    if (!(await tryCreate(file, me))) throw new TrialBusyError(file, "another process (it took over the stale lock first)");
  }
  const beat = setInterval(() => void utimes(file, new Date(), new Date()).catch(() => {}), HEARTBEAT_MS);
  beat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(beat);
    const still = (JSON.parse(await readFile(file, "utf8").catch(() => "{}")) as Partial<Holder>) ?? {};
    if (still.host === me.host && still.pid === me.pid) await unlink(file).catch(() => {});
  }
}

/** The same lock, waiting (bounded) for a live holder instead of failing: for short critical sections. */
export async function withLockWaiting<T>(file: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await withTrialLock(file, fn);
    } catch (e) {
      if (!(e instanceof TrialBusyError) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
