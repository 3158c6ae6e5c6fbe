// Drawing the points. WebGL when the browser has it (one draw call; panning only changes two uniforms), else a
// CPU rasteriser into an ImageData (one pass over the points, then one putImageData). Both take the same
// inputs: positions in data units and RGBA bytes per point; a point with alpha < 255 is drawn faded.
import type { View } from "./view.ts";

export interface PointRenderer {
  readonly kind: "webgl" | "canvas";
  setPositions(xy: Float32Array): void;
  setColours(rgba: Uint8Array): void;
  /** Point diameter in CSS pixels. */
  pointSize: number;
  draw(view: View): void;
  /** Canvas backing size in device pixels for the given CSS size. */
  resize(cssW: number, cssH: number, dpr: number): void;
}

/**
 * WebGL when the GPU does the work; the CPU rasteriser when WebGL itself is software (SwiftShader, llvmpipe),
 * where it measured 4-6x faster for 100k points (bench/explorer.ts). `prefer` forces one.
 */
export function createRenderer(canvas: HTMLCanvasElement, prefer: "auto" | "webgl" | "canvas" = "auto"): PointRenderer {
  if (prefer === "webgl" || (prefer === "auto" && hardwareWebGl())) {
    const gl = canvas.getContext("webgl", { antialias: false, alpha: false });
    if (gl) return new GlRenderer(canvas, gl);
  }
  return new CanvasRenderer(canvas);
}

/** Probed on a throwaway canvas: a canvas that once had a WebGL context cannot give a 2-D one. */
function hardwareWebGl(): boolean {
  const gl = document.createElement("canvas").getContext("webgl");
  if (!gl) return false;
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  return !/swiftshader|llvmpipe|softpipe|software/i.test(name);
}

const VERTEX = `
attribute vec2 a_pos;
attribute vec4 a_col;
uniform vec2 u_center;
uniform vec2 u_scale;
uniform float u_size;
varying vec4 v_col;
void main() {
  gl_Position = vec4((a_pos - u_center) * u_scale, 0.0, 1.0);
  gl_PointSize = u_size;
  v_col = a_col;
}`;
const FRAGMENT = `
precision mediump float;
varying vec4 v_col;
void main() {
  vec2 c = gl_PointCoord - 0.5;
  if (dot(c, c) > 0.25) discard;
  gl_FragColor = v_col;
}`;

class GlRenderer implements PointRenderer {
  readonly kind = "webgl";
  pointSize = 3;
  private n = 0;
  private dpr = 1;
  private readonly prog: WebGLProgram;
  private readonly posBuf: WebGLBuffer;
  private readonly colBuf: WebGLBuffer;
  private readonly u: Record<"center" | "scale" | "size", WebGLUniformLocation | null>;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly gl: WebGLRenderingContext) {
    const prog = gl.createProgram()!;
    for (const [type, src] of [[gl.VERTEX_SHADER, VERTEX], [gl.FRAGMENT_SHADER, FRAGMENT]] as const) {
      const s = gl.createShader(type)!;
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`shader: ${gl.getShaderInfoLog(s)}`);
      gl.attachShader(prog, s);
    }
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(`shader link: ${gl.getProgramInfoLog(prog)}`);
    this.prog = prog;
    this.posBuf = gl.createBuffer()!;
    this.colBuf = gl.createBuffer()!;
    this.u = { center: gl.getUniformLocation(prog, "u_center"), scale: gl.getUniformLocation(prog, "u_scale"), size: gl.getUniformLocation(prog, "u_size") };
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
  }

  setPositions(xy: Float32Array): void {
    const gl = this.gl;
    this.n = xy.length / 2;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.posBuf);
    gl.bufferData(gl.ARRAY_BUFFER, xy, gl.STATIC_DRAW);
  }

  setColours(rgba: Uint8Array): void {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colBuf);
    gl.bufferData(gl.ARRAY_BUFFER, rgba, gl.STATIC_DRAW);
  }

  resize(cssW: number, cssH: number, dpr: number): void {
    this.dpr = dpr;
    this.canvas.width = Math.max(1, Math.round(cssW * dpr));
    this.canvas.height = Math.max(1, Math.round(cssH * dpr));
  }

  draw(view: View): void {
    const gl = this.gl;
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (this.n === 0) return;
    gl.useProgram(this.prog);
    const pos = gl.getAttribLocation(this.prog, "a_pos"), col = gl.getAttribLocation(this.prog, "a_col");
    gl.bindBuffer(gl.ARRAY_BUFFER, this.posBuf);
    gl.enableVertexAttribArray(pos);
    gl.vertexAttribPointer(pos, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colBuf);
    gl.enableVertexAttribArray(col);
    gl.vertexAttribPointer(col, 4, gl.UNSIGNED_BYTE, true, 0, 0);
    gl.uniform2f(this.u.center, view.cx, view.cy);
    gl.uniform2f(this.u.scale, (2 * view.scale) / view.width, (2 * view.scale) / view.height);
    gl.uniform1f(this.u.size, this.pointSize * this.dpr);
    gl.drawArrays(gl.POINTS, 0, this.n);
  }
}

class CanvasRenderer implements PointRenderer {
  readonly kind = "canvas";
  pointSize = 3;
  private xy: Float32Array = new Float32Array(0);
  private rgba: Uint8Array = new Uint8Array(0);
  private dpr = 1;
  private image: ImageData | null = null;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext("2d")!;
  }

  setPositions(xy: Float32Array): void {
    this.xy = xy;
  }

  setColours(rgba: Uint8Array): void {
    this.rgba = rgba;
  }

  resize(cssW: number, cssH: number, dpr: number): void {
    this.dpr = dpr;
    this.canvas.width = Math.max(1, Math.round(cssW * dpr));
    this.canvas.height = Math.max(1, Math.round(cssH * dpr));
    this.image = this.ctx.createImageData(this.canvas.width, this.canvas.height);
  }

  draw(view: View): void {
    const W = this.canvas.width, H = this.canvas.height;
    if (!this.image || this.image.width !== W || this.image.height !== H) this.image = this.ctx.createImageData(W, H);
    const px = new Uint32Array(this.image.data.buffer);
    px.fill(0xffffffff);
    const { xy, rgba, dpr } = this;
    const size = Math.max(1, Math.round(this.pointSize * dpr)), half = size >> 1;
    const disc = discMask(size), round = size >= 4;
    const k = view.scale * dpr, ox = (view.width / 2) * dpr - view.cx * k, oy = (view.height / 2) * dpr + view.cy * k;
    const n = Math.min(xy.length / 2, rgba.length / 4);
    for (let i = 0; i < n; i++) {
      const x0 = Math.round(xy[2 * i] * k + ox) - half, y0 = Math.round(oy - xy[2 * i + 1] * k) - half;
      if (x0 >= W || y0 >= H || x0 + size <= 0 || y0 + size <= 0) continue;
      const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2], a = rgba[4 * i + 3];
      const solid = (0xff000000 | (b << 16) | (g << 8) | r) >>> 0; // ImageData is RGBA bytes: little-endian ABGR words
      for (let y = Math.max(y0, 0); y < Math.min(y0 + size, H); y++) {
        for (let x = Math.max(x0, 0); x < Math.min(x0 + size, W); x++) {
          if (round && !disc[(y - y0) * size + (x - x0)]) continue;
          const o = y * W + x;
          if (a === 255) px[o] = solid;
          else {
            const d = px[o], f = a / 255;
            const br = d & 255, bg = (d >> 8) & 255, bb = (d >> 16) & 255;
            px[o] = (0xff000000 | (Math.round(bb + f * (b - bb)) << 16) | (Math.round(bg + f * (g - bg)) << 8) | Math.round(br + f * (r - br))) >>> 0;
          }
        }
      }
    }
    this.ctx.putImageData(this.image, 0, 0);
  }
}

/** Which pixels of a size × size square a round point covers (all of them below 4 px, where round shows no more). */
function discMask(size: number): Uint8Array {
  const m = new Uint8Array(size * size).fill(1);
  if (size < 4) return m;
  const r = size / 2;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) m[y * size + x] = (x + 0.5 - r) ** 2 + (y + 0.5 - r) ** 2 <= r * r + 0.25 ? 1 : 0;
  return m;
}
