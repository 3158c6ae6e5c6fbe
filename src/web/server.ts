// The HTTP server: loopback by default, and while bound to loopback it answers only requests addressed to a
// loopback name (a web page elsewhere cannot reach it through DNS rebinding). Every request is handled inside
// a try/catch, so a bad request costs one error answer, never the server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BieError } from "../errors.ts";
import { route, type ExplorerContext } from "./api.ts";
import { HttpError } from "./http-errors.ts";
import { sendError } from "./http.ts";

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8765;

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export interface Listening { server: Server; host: string; port: number; url: string }

export function listen(ctx: ExplorerContext, host = DEFAULT_HOST, port = DEFAULT_PORT, onError: (e: unknown, req: IncomingMessage) => void = () => {}): Promise<Listening> {
  const loopbackOnly = LOOPBACK.has(host);
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => onError(e, req));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (loopbackOnly && !isLoopbackHost(req.headers.host)) throw new HttpError(421, "this explorer only answers requests addressed to a loopback name (localhost, 127.0.0.1, [::1])");
      await route(ctx, req, res);
    } catch (e) {
      if (sendError(res, e) >= 500) onError(e, req);
    }
  }
  server.on("clientError", (_e, socket) => socket.destroy()); // malformed HTTP: drop the connection, keep serving
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(new BieError("EXPLORE_LISTEN", e.code === "EADDRINUSE" ? `port ${port} on ${host} is in use; pass --port N (0 = any free port)` : `cannot listen on ${host}:${port} (${e.message})`)),
    );
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo;
      const shown = a.family === "IPv6" ? `[${a.address}]` : a.address;
      resolve({ server, host: a.address, port: a.port, url: `http://${shown}:${a.port}/` });
    });
  });
}

function isLoopbackHost(header: string | undefined): boolean {
  if (!header) return false;
  const name = header.startsWith("[") ? header.slice(1, header.indexOf("]")) : header.replace(/:\d+$/, "");
  return LOOPBACK.has(name.toLowerCase());
}
