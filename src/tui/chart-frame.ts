/**
 * A cheaper frame() for blessed-contrib's braille canvas (drawille-canvas-blessed-contrib).
 * Its own frame() wraps every dot cell in a colour escape and a reset (`ESC[33m⡀ESC[39m`),
 * and blessed then parses each of those escapes again on every redraw: for two line charts
 * that was half of what nsx top allocated per second. This one opens a colour once for a
 * run of adjacent dot cells of the same colour and closes it at the run's end, so every
 * cell gets the same character and the same colour as before, from far fewer escapes.
 */
export interface BrailleCanvas {
  width: number
  content: ArrayLike<number>
  colors: ArrayLike<string | undefined>
  chars: ArrayLike<string | null | undefined>
}

const RESET_FG = '\u001b[39m'

let buf = new Uint16Array(4096)

/** The frame as one string, written as UTF-16 code units into a reused buffer (no string per cell). */
export function coalescedFrame(c: BrailleCanvas, delimiter = '\n'): string {
  const perRow = c.width / 2
  let n = 0
  const put = (s: string) => {
    if (n + s.length > buf.length) grow(n + s.length)
    for (let k = 0; k < s.length; k++) buf[n++] = s.charCodeAt(k)
  }
  const grow = (need: number) => {
    const bigger = new Uint16Array(Math.max(need, buf.length * 2))
    bigger.set(buf.subarray(0, n))
    buf = bigger
  }
  let open: string | undefined
  for (let i = 0, j = 0; i < c.content.length; i++, j++) {
    if (j === perRow) {
      if (open !== undefined) put(RESET_FG)
      open = undefined
      put(delimiter)
      j = 0
    }
    const ch = c.chars[i]
    const dots = c.content[i]
    if (ch || dots === 0) {
      if (open !== undefined) put(RESET_FG)
      open = undefined
      if (ch) put(ch)
      else {
        if (n + 1 > buf.length) grow(n + 1)
        buf[n++] = 32
      }
      continue
    }
    const code = c.colors[i] ?? ''
    if (code !== open) {
      if (open !== undefined) put(RESET_FG)
      put(code)
      open = code
    }
    if (n + 1 > buf.length) grow(n + 1)
    buf[n++] = 0x2800 + dots
  }
  if (open !== undefined) put(RESET_FG)
  put(delimiter)
  return Buffer.from(buf.buffer, buf.byteOffset, n * 2).toString('utf16le')
}

/** Make every canvas of the class `instance` belongs to draw its frame with coalescedFrame. */
export function useCoalescedFrames(instance: object): void {
  const proto = Object.getPrototypeOf(instance) as {frame?: unknown; nsxCoalesced?: boolean}
  if (proto.nsxCoalesced || typeof proto.frame !== 'function') return
  proto.frame = function frame(this: BrailleCanvas, delimiter?: string) {
    return coalescedFrame(this, delimiter)
  }
  proto.nsxCoalesced = true
}

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
