// A PNG grid: inputs on the top row, their reconstructions below, so a person sees what the model learned.
import { encode } from "fast-png";
import { writeFileAtomic } from "../io/atomic.ts";

/** x, y: [B, C, H, W] in [0,1]. Shows up to `max` items; 1 channel as grey, 2 as red/green, 3+ as the first three. */
export function reconGridPng(x: Float32Array, y: Float32Array, shape: [number, number, number, number], max = 8): Uint8Array {
  const [B, C, H, W] = shape;
  const n = Math.min(B, max);
  const pad = 2;
  const gw = n * (W + pad) + pad, gh = 2 * (H + pad) + pad;
  const out = new Uint8Array(gw * gh * 3).fill(255);
  const put = (src: Float32Array, item: number, row: number) => {
    const x0 = pad + item * (W + pad), y0 = pad + row * (H + pad);
    for (let yy = 0; yy < H; yy++)
      for (let xx = 0; xx < W; xx++) {
        const o = ((y0 + yy) * gw + x0 + xx) * 3;
        for (let c = 0; c < 3; c++) {
          const ch = C === 1 ? 0 : c;
          const v = ch < C ? src[((item * C + ch) * H + yy) * W + xx] : 0;
          out[o + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
        }
      }
  };
  for (let i = 0; i < n; i++) {
    put(x, i, 0);
    put(y, i, 1);
  }
  return encode({ width: gw, height: gh, data: out, channels: 3, depth: 8 });
}

export async function writeReconGrid(path: string, x: Float32Array, y: Float32Array, shape: [number, number, number, number]): Promise<void> {
  await writeFileAtomic(path, reconGridPng(x, y, shape));
}
