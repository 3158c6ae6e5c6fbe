// Helpers for the explorer tests: a tiny real run (train + embed through the CLI), `bie explore` as a child
// process, raw HTTP requests (paths sent exactly as written, no client-side normalisation), PNG pixel counts.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { decode } from "fast-png";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const OUT = `${ROOT}.test-out/`;
export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"];

function bie(args: string[]): void {
  const r = spawnSync(process.execPath, ["bin/bie.js", ...args], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bie ${args.join(" ")} exited ${r.status}:\n${r.stderr.slice(-3000)}`);
}

/** A real run folder: one epoch of resnet18_ae on 64 Jurkat cells at 32 px, then `bie embed`. */
export function makeRun(runsDir: string, name = "explore"): string {
  bie(["train", "data.path=demo-data/jurkat/manifest.csv", "model=resnet18_ae", "latent_dim=16", "data.image_size=32", "epochs=1", "batch_size=8",
    "data.workers=0", "data.limit=64", `runs_dir=${runsDir}`, `name=${name}`]);
  const dir = `${runsDir}/${name}`;
  bie(["embed", dir]);
  return dir;
}

export interface Served { url: string; child: ChildProcess; stderr: () => string; exited: Promise<number | null> }

/** `bie explore RUN --port 0`, resolved once it prints its URL. */
export function serve(run: string, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, ["bin/bie.js", "explore", run, "--port", "0", ...extra], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      const m = out.match(/explorer: (http:\/\/\S+)/);
      if (m) resolve({ url: m[1], child, stderr: () => err, exited });
    });
    child.stderr!.on("data", (d) => (err += d));
    exited.then((code) => reject(new Error(`bie explore exited ${code} before printing its URL:\n${err}`)));
  });
}

export interface Raw { status: number; body: string; headers: Record<string, string | string[] | undefined> }

/** One HTTP request with the path sent verbatim (fetch would resolve `..` segments before sending). */
export function raw(url: string, path: string, opts: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Raw> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Pixels of a PNG that are not (near) white. */
export function inkPixels(png: Uint8Array): number {
  const im = decode(png);
  const c = im.channels, d = im.data;
  let ink = 0;
  for (let i = 0; i < im.width * im.height; i++) if (d[i * c] < 235 || d[i * c + 1] < 235 || d[i * c + 2] < 235) ink++;
  return ink;
}

/** Pixels that differ between two same-size PNGs. */
export function changedPixels(a: Uint8Array, b: Uint8Array): number {
  const x = decode(a), y = decode(b);
  if (x.width !== y.width || x.height !== y.height) return x.width * x.height;
  let n = 0;
  for (let i = 0; i < x.width * x.height; i++) for (let k = 0; k < 3; k++) if (x.data[i * x.channels + k] !== y.data[i * y.channels + k]) { n++; break; }
  return n;
}

/** Cosine similarity of every row to row q (float64), for checking the server's k-NN independently. */
export function cosineTo(X: Float32Array, n: number, d: number, q: ArrayLike<number>): Float64Array {
  const norm = (o: number, v: ArrayLike<number>) => { let s = 0; for (let f = 0; f < d; f++) s += v[o + f] * v[o + f]; return Math.sqrt(s); };
  const qn = norm(0, q);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let f = 0; f < d; f++) s += X[i * d + f] * q[f];
    out[i] = s / (norm(i * d, X) * qn || 1);
  }
  return out;
}
