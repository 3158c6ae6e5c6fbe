// A uniform grid over the map's points, so hover and click find the nearest point without scanning all of them.

export class PointGrid {
  private readonly x0: number;
  private readonly y0: number;
  private readonly cell: number;
  private readonly cols: number;
  private readonly rows: number;
  private readonly start: Int32Array; // cell → first slot in `order`
  private readonly order: Int32Array; // point indices grouped by cell

  constructor(private readonly xy: Float32Array) {
    const n = xy.length / 2;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, xy[2 * i]); x1 = Math.max(x1, xy[2 * i]);
      y0 = Math.min(y0, xy[2 * i + 1]); y1 = Math.max(y1, xy[2 * i + 1]);
    }
    if (n === 0) (x0 = y0 = 0), (x1 = y1 = 1);
    const side = Math.max(1, Math.ceil(Math.sqrt(n / 4))); // about 4 points per cell
    this.cell = Math.max((x1 - x0) / side, (y1 - y0) / side, 1e-9);
    this.x0 = x0;
    this.y0 = y0;
    this.cols = Math.floor((x1 - x0) / this.cell) + 1;
    this.rows = Math.floor((y1 - y0) / this.cell) + 1;
    const cellOf = new Int32Array(n);
    const count = new Int32Array(this.cols * this.rows + 1);
    for (let i = 0; i < n; i++) count[(cellOf[i] = this.cellAt(xy[2 * i], xy[2 * i + 1])) + 1]++;
    for (let c = 1; c < count.length; c++) count[c] += count[c - 1];
    this.start = count.slice();
    this.order = new Int32Array(n);
    const fill = count;
    for (let i = 0; i < n; i++) this.order[fill[cellOf[i]]++] = i;
  }

  private cellAt(x: number, y: number): number {
    const cx = Math.min(this.cols - 1, Math.max(0, Math.floor((x - this.x0) / this.cell)));
    const cy = Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.y0) / this.cell)));
    return cy * this.cols + cx;
  }

  /** The point nearest (x, y) within `radius` data units, or -1. Equal distances go to the lower index. */
  nearest(x: number, y: number, radius: number): number {
    let best = -1, bestD = radius * radius;
    this.visit(x - radius, y - radius, x + radius, y + radius, (i) => {
      const dx = this.xy[2 * i] - x, dy = this.xy[2 * i + 1] - y, d = dx * dx + dy * dy;
      if (d < bestD || (d === bestD && i < best)) (bestD = d), (best = i);
    });
    return best;
  }

  /** Indices of the points inside the rectangle, ascending. */
  inRect(xa: number, ya: number, xb: number, yb: number): number[] {
    const [x0, x1] = xa < xb ? [xa, xb] : [xb, xa], [y0, y1] = ya < yb ? [ya, yb] : [yb, ya];
    const out: number[] = [];
    this.visit(x0, y0, x1, y1, (i) => {
      const x = this.xy[2 * i], y = this.xy[2 * i + 1];
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) out.push(i);
    });
    return out.sort((a, b) => a - b);
  }

  private visit(x0: number, y0: number, x1: number, y1: number, f: (i: number) => void): void {
    const c0 = Math.max(0, Math.floor((x0 - this.x0) / this.cell)), c1 = Math.min(this.cols - 1, Math.floor((x1 - this.x0) / this.cell));
    const r0 = Math.max(0, Math.floor((y0 - this.y0) / this.cell)), r1 = Math.min(this.rows - 1, Math.floor((y1 - this.y0) / this.cell));
    for (let r = r0; r <= r1; r++)
      for (let c = c0; c <= c1; c++) {
        const cell = r * this.cols + c;
        for (let s = this.start[cell]; s < this.start[cell + 1]; s++) f(this.order[s]);
      }
  }
}
