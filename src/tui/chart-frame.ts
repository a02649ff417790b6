/** The drawing context of drawille-canvas-blessed-contrib, as far as clearRect needs it. */
interface DrawContext {
  _canvas: {width: number; height: number; content: unknown; colors: unknown[]; chars: unknown[]}
  /** mat2d: [a, b, c, d, tx, ty]. */
  _matrix: ArrayLike<number>
  clearRect(x: number, y: number, w: number, h: number): void
}

/**
 * A cheaper clearRect for the whole canvas. The original rasterises the rectangle as two
 * triangles (Bresenham edges, sorted, each pixel unset through a bound call): every chart
 * redraw (line.js clears before drawing) went through that for each of ~6,000 pixels. With the
 * identity transform and the rectangle being the canvas, every cell ends with no dots, no colour
 * and no character: the same state, set in three fills. Anything else goes to the original.
 */
export function useFastClear(ctx: object): void {
  const proto = Object.getPrototypeOf(ctx) as {clearRect?: DrawContext['clearRect']; nsxFastClear?: boolean}
  if (proto.nsxFastClear || typeof proto.clearRect !== 'function') return
  const original = proto.clearRect
  proto.clearRect = function clearRect(this: DrawContext, x: number, y: number, w: number, h: number) {
    const c = this._canvas
    const m = this._matrix
    // The gauge shares this prototype with another canvas class (no braille cells): not for it.
    const braille = c.content instanceof Uint8Array && Array.isArray(c.colors) && Array.isArray(c.chars)
    if (braille && x === 0 && y === 0 && w === c.width && h === c.height && m[0] === 1 && m[1] === 0 && m[2] === 0 && m[3] === 1 && m[4] === 0 && m[5] === 0) {
      // Only the canvas's cells: fillText may have written past the end, which unset never reaches.
      const n = (c.content as Uint8Array).length
      ;(c.content as Uint8Array).fill(0)
      c.colors.fill(null, 0, n)
      c.chars.fill(null, 0, n)
      return
    }
    original.call(this, x, y, w, h)
  }
  proto.nsxFastClear = true
}
