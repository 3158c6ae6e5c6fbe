// NaN/Inf pixels are a data fault (a failed acquisition or a bad conversion), not something a model
// should silently train on; readers call this on every float region they return.
import { BadInputError } from "../errors.ts";
import type { PixelArray } from "./image.ts";

export interface FiniteContext {
  /** Width and height of one plane, to report the bad pixel as (channel, y, x). */
  width?: number;
  height?: number;
  /** Offsets to add to the reported position (the region origin in the image). */
  y0?: number;
  x0?: number;
  /** Channel indices of the planes in `array`, in order. */
  channels?: readonly number[];
}

/** Throws BadInputError naming `file` and the first non-finite pixel; integer arrays pass untouched. */
export function checkFinite(array: PixelArray, file: string, ctx: FiniteContext = {}): void {
  if (!(array instanceof Float32Array || array instanceof Float64Array)) return;
  for (let i = 0; i < array.length; i++) {
    const v = array[i];
    // v - v is NaN for NaN and ±Inf, 0 otherwise: one test covers both.
    if (v - v !== 0) {
      const what = Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
      let where = `element ${i}`;
      if (ctx.width && ctx.height) {
        const plane = ctx.width * ctx.height;
        const p = Math.floor(i / plane), r = i % plane;
        const c = ctx.channels ? ctx.channels[p] : p;
        where = `channel ${c}, y=${Math.floor(r / ctx.width) + (ctx.y0 ?? 0)}, x=${(r % ctx.width) + (ctx.x0 ?? 0)}`;
      }
      throw new BadInputError(file, `non-finite pixel value ${what} at ${where} (float images must hold finite numbers)`);
    }
  }
}
