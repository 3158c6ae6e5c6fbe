// Starting the explorer for a run: read the embedding, make (or reuse) the UMAP map and thumbnails, then serve.
import type { Server } from "node:http";
import { BieError } from "../errors.ts";
import type { ExplorerContext } from "./api.ts";
import { encoderFor } from "./encoder.ts";
import { closeItemSources } from "./item-pixels.ts";
import { DEFAULT_OPTIONS, type ExploreOptions } from "./options.ts";
import { pcaProjection, umapProjection, type Projection, type ProjectionKind } from "./projection.ts";
import { loadRunData, type RunData } from "./run-data.ts";
import { DEFAULT_HOST, DEFAULT_PORT, listen } from "./server.ts";
import { openThumbs } from "./thumbs.ts";

export interface StartOptions extends Partial<ExploreOptions> {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8765; 0 picks a free port. */
  port?: number;
  /** Progress lines (UMAP, thumbnails); default silent. */
  log?: (line: string) => void;
}

export interface Explorer {
  url: string;
  host: string;
  port: number;
  run: RunData;
  server: Server;
  close(): Promise<void>;
}

export async function startExplorer(runDir: string, start: StartOptions = {}): Promise<Explorer> {
  const log = start.log ?? (() => {});
  const opts: ExploreOptions = { ...DEFAULT_OPTIONS, ...definedOnly(start) };
  const run = await loadRunData(runDir);
  log(`run ${run.name}: ${run.table.n} items × ${run.table.d} dims from ${run.table.source}`);
  const maps = new Map<ProjectionKind, Promise<Projection>>();
  maps.set("umap", Promise.resolve(await umapProjection(run, opts.umapMaxFit, opts.rebuild, log)));
  const thumbs = await openThumbs(run.dir, run.table, opts.thumbSize, opts.rebuild, log);
  const ctx: ExplorerContext = {
    run, opts, thumbs, encoder: encoderFor(run.dir, log),
    projection(kind) {
      let p = maps.get(kind);
      if (!p) {
        p = pcaProjection(run, opts.rebuild);
        p.catch(() => maps.delete(kind)); // a failed PCA is retried on the next request
        maps.set(kind, p);
      }
      return p;
    },
  };
  const onError = (e: unknown, req: { method?: string; url?: string }) => log(`error answering ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
  let l;
  try {
    l = await listen(ctx, start.host ?? DEFAULT_HOST, start.port ?? DEFAULT_PORT, onError);
  } catch (e) {
    await thumbs.close();
    throw e;
  }
  const { server } = l;
  return {
    url: l.url, host: l.host, port: l.port, run, server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
      await thumbs.close();
      closeItemSources();
    },
  };
}

function definedOnly(o: StartOptions): Partial<ExploreOptions> {
  const out: Partial<ExploreOptions> = {};
  for (const k of Object.keys(DEFAULT_OPTIONS) as (keyof ExploreOptions)[]) if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
  return out;
}

export function checkPort(port: number | undefined): void {
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new BieError("USAGE", `--port must be a whole number in [0, 65535], got ${port}`);
}
