// The map's camera: data coordinates → CSS pixels of the canvas. y grows upward in data, downward on screen.

export class View {
  cx = 0;
  cy = 0;
  /** CSS pixels per data unit. */
  scale = 1;
  width = 1;
  height = 1;

  /** Frame the bounding box of all points with a margin. */
  fit(xy: Float32Array): void {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < xy.length; i += 2) {
      const x = xy[i], y = xy[i + 1];
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    if (!Number.isFinite(x0)) (x0 = -1), (x1 = 1), (y0 = -1), (y1 = 1);
    this.cx = (x0 + x1) / 2;
    this.cy = (y0 + y1) / 2;
    const spanX = Math.max(x1 - x0, 1e-9), spanY = Math.max(y1 - y0, 1e-9);
    this.scale = 0.9 * Math.min(this.width / spanX, this.height / spanY);
  }

  toScreen(x: number, y: number): [number, number] {
    return [(x - this.cx) * this.scale + this.width / 2, this.height / 2 - (y - this.cy) * this.scale];
  }

  toData(sx: number, sy: number): [number, number] {
    return [(sx - this.width / 2) / this.scale + this.cx, (this.height / 2 - sy) / this.scale + this.cy];
  }

  /** Move the map by a drag of (dx, dy) CSS pixels. */
  panBy(dx: number, dy: number): void {
    this.cx -= dx / this.scale;
    this.cy += dy / this.scale;
  }

  /** Zoom by `factor` keeping the data point under (sx, sy) where it is. */
  zoomAt(sx: number, sy: number, factor: number): void {
    const [x, y] = this.toData(sx, sy);
    this.scale = Math.min(Math.max(this.scale * factor, 1e-6), 1e9);
    const [x2, y2] = this.toData(sx, sy);
    this.cx += x - x2;
    this.cy += y - y2;
  }
}
