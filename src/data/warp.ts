// One bilinear resampling pass does resize, pad, crop, flips and rotations together: each output pixel is mapped
// to a source position by a small affine map (plus an optional elastic displacement), so an augmented image is
// interpolated once, not once per operation.

export type Boundary = "zero" | "reflect";

/**
 * Output pixel (ox, oy) → source position:
 *   p = (ox + 0.5 - W/2, oy + 0.5 - H/2) + disp(ox, oy)      centred output coordinates (pixels)
 *   q = M p                                                 flips / rotations about the centre
 *   src = (cx + sx q.x, cy + sy q.y)                         continuous source coordinates, pixel i spans [i, i+1)
 */
export interface Warp {
  m: [number, number, number, number]; // row-major 2×2
  cx: number;
  cy: number;
  sx: number;
  sy: number;
  dispX?: Float32Array; // H×W, output pixels
  dispY?: Float32Array;
  boundary: Boundary;
}

export function identityWarp(srcW: number, srcH: number, outW: number, outH: number, boundary: Boundary): Warp {
  return { m: [1, 0, 0, 1], cx: srcW / 2, cy: srcH / 2, sx: srcW / outW, sy: srcH / outH, boundary };
}

/** Reflect an out-of-range index back inside [0, n) (mirror with edge repeat, like numpy "symmetric"). */
function reflect(i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  const period = 2 * n;
  i = ((i % period) + period) % period;
  return i < n ? i : period - 1 - i;
}

/** Resample C planes of srcW×srcH into out[offset..] as C planes of outW×outH. */
export function warpBilinear(
  src: Float32Array, channels: number, srcW: number, srcH: number,
  out: Float32Array, offset: number, outW: number, outH: number, w: Warp,
): void {
  const [a, b, c, d] = w.m;
  const nOut = outW * outH, nSrc = srcW * srcH;
  const zero = w.boundary === "zero";
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const o = oy * outW + ox;
      let px = ox + 0.5 - outW / 2, py = oy + 0.5 - outH / 2;
      if (w.dispX) (px += w.dispX[o]), (py += w.dispY![o]);
      const fx = w.cx + w.sx * (a * px + b * py) - 0.5;
      const fy = w.cy + w.sy * (c * px + d * py) - 0.5;
      let x0 = Math.floor(fx), y0 = Math.floor(fy);
      const tx = fx - x0, ty = fy - y0;
      let x1 = x0 + 1, y1 = y0 + 1;
      // Tap weights; with zero boundary, taps outside the image weigh nothing.
      let w00 = (1 - tx) * (1 - ty), w10 = tx * (1 - ty), w01 = (1 - tx) * ty, w11 = tx * ty;
      if (zero) {
        if (x0 < 0 || x0 >= srcW) (w00 = 0), (w01 = 0);
        if (x1 < 0 || x1 >= srcW) (w10 = 0), (w11 = 0);
        if (y0 < 0 || y0 >= srcH) (w00 = 0), (w10 = 0);
        if (y1 < 0 || y1 >= srcH) (w01 = 0), (w11 = 0);
        x0 = Math.min(Math.max(x0, 0), srcW - 1); x1 = Math.min(Math.max(x1, 0), srcW - 1);
        y0 = Math.min(Math.max(y0, 0), srcH - 1); y1 = Math.min(Math.max(y1, 0), srcH - 1);
      } else {
        x0 = reflect(x0, srcW); x1 = reflect(x1, srcW); y0 = reflect(y0, srcH); y1 = reflect(y1, srcH);
      }
      const i00 = y0 * srcW + x0, i10 = y0 * srcW + x1, i01 = y1 * srcW + x0, i11 = y1 * srcW + x1;
      for (let ch = 0; ch < channels; ch++) {
        const s = ch * nSrc;
        out[offset + ch * nOut + o] = w00 * src[s + i00] + w10 * src[s + i10] + w01 * src[s + i01] + w11 * src[s + i11];
      }
    }
  }
}

/**
 * Box-average by integer factors before a large downscale, so plain bilinear sampling does not alias
 * (e.g. a 696×520 image going to 64×64). Returns the reduced planes and their size.
 */
export function boxReduce(src: Float32Array, channels: number, w: number, h: number, fx: number, fy: number) {
  const nw = Math.ceil(w / fx), nh = Math.ceil(h / fy);
  const out = new Float32Array(nw * nh * channels);
  for (let ch = 0; ch < channels; ch++) {
    const s = ch * w * h, o = ch * nw * nh;
    for (let y = 0; y < nh; y++) {
      const ya = y * fy, yb = Math.min(ya + fy, h);
      for (let x = 0; x < nw; x++) {
        const xa = x * fx, xb = Math.min(xa + fx, w);
        let sum = 0;
        for (let yy = ya; yy < yb; yy++) for (let xx = xa; xx < xb; xx++) sum += src[s + yy * w + xx];
        out[o + y * nw + x] = sum / ((yb - ya) * (xb - xa));
      }
    }
  }
  return { data: out, width: nw, height: nh };
}
