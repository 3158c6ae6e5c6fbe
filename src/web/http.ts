// Small helpers for answering requests: JSON, bytes, errors, bounded request bodies.
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "./http-errors.ts";

/** Headers on every answer: no sniffing, no framing by other sites, and the page may only talk to us. */
const COMMON = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:",
};

export function send(res: ServerResponse, status: number, body: Uint8Array | string, type: string, cache = "no-store"): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { ...COMMON, "Content-Type": type, "Content-Length": bytes.length, "Cache-Control": cache });
  res.end(res.req.method === "HEAD" ? undefined : bytes);
}

export const sendJson = (res: ServerResponse, value: unknown, status = 200) => send(res, status, JSON.stringify(value), "application/json");

export function sendError(res: ServerResponse, e: unknown): number {
  const status = e instanceof HttpError ? e.status : 500;
  const message = e instanceof Error ? e.message : String(e);
  if (!res.headersSent) sendJson(res, { error: message }, status);
  else res.destroy();
  return status;
}

/** The request body, refused (413) beyond `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= limit) return void chunks.push(c);
      // Answer 413 and drop the rest unread rather than cutting the connection before the answer.
      req.off("data", onData);
      req.resume();
      reject(new HttpError(413, `request body over ${limit} bytes`));
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
