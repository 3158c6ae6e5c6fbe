// Messages between the loader and its worker threads, and how errors cross the thread boundary intact
// (structured clone drops an error's class and fields such as BadInputError.file).
import { BadInputError, BieError } from "../errors.ts";
import type { AugmentSeed, BatchResult, TaskItem } from "./prepare.ts";

export interface TaskMessage {
  id: number;
  items: TaskItem[];
  aug: AugmentSeed | null;
}

export interface SerialisedError {
  name: string;
  message: string;
  stack?: string;
  file?: string;
  code?: string;
}

export type ResultMessage = ({ id: number; ok: true } & BatchResult) | { id: number; ok: false; error: SerialisedError };

export function serialiseError(e: unknown): SerialisedError {
  if (e instanceof Error) {
    const out: SerialisedError = { name: e.name, message: e.message, stack: e.stack };
    if (e instanceof BadInputError) out.file = e.file;
    if (e instanceof BieError) out.code = e.code;
    return out;
  }
  return { name: "Error", message: String(e) };
}

export function reviveError(s: SerialisedError): Error {
  if (s.name === "BadInputError" && s.file !== undefined) return new BadInputError(s.file, s.message.slice(s.file.length + 2));
  if (s.code) return new BieError(s.code, s.message);
  const e = new Error(s.message);
  e.name = s.name;
  if (s.stack) e.stack = s.stack;
  return e;
}
