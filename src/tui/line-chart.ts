import type {Painter} from './paint.js'

/**
 * The history charts of the dashboard: a line in braille dots (each cell 2 x 4 dots), the
 * newest point at the right edge and one point per refresh, so the time scale stays fixed
 * while the history fills; a value axis at the left labelled with the top of the scale, its
 * middle and 0. Drawn straight into a painted element's cells (see paint.ts). blessed-contrib's
 * line chart drew the same thing through a canvas library, a matrix library and lodash, and
 * then had blessed parse the result as text every second: that was a fifth of what the
 * whole dashboard cost.
 */
export class LineChart {
  private values: readonly number[] = []
  private scale = 1
  private key = ''
  /** What the dots were computed for: key, width, height. */
  private drawnFor = ''
  private dots = new Uint8Array(0)
  private columns = 0
  private plotLeft = 0
  private labels: string[] = []
  private labelRows: number[] = []

  /** `capacity`: the number of points across the full width. */
  constructor(private readonly capacity: number) {}

  /**
   * The values to draw (oldest first), each multiplied by `scale`. `key` names them (the
   * dashboard's: the refresh and the cgroup) and changes whenever they do: the dots are
   * computed again only then, or when the size changes.
   */
  set(values: readonly number[], key: string, scale = 1): void {
    this.values = values
    this.key = key
    this.scale = scale
  }

  paint(p: Painter, lineAttr: number, axisAttr: number): void {
    const key = `${p.width} ${p.height} ${this.key}`
    if (key !== this.drawnFor) {
      this.drawnFor = key
      this.layout(p.width, p.height)
    }
    for (let i = 0; i < this.labels.length; i++) {
      const text = this.labels[i]
      p.text(this.plotLeft - 1 - text.length, this.labelRows[i], text, axisAttr)
    }
    for (let y = 0; y < p.height; y++) {
      p.cell(this.plotLeft - 1, y, AXIS, axisAttr)
      for (let x = 0; x < this.columns; x++) {
        const d = this.dots[y * this.columns + x]
        p.cell(this.plotLeft + x, y, d === 0 ? ' ' : BRAILLE[d], d === 0 ? p.base : lineAttr)
      }
    }
  }

  /** Labels, axis position and the line's dots for a chart of width x height cells. */
  private layout(width: number, height: number): void {
    let max = 0
    for (let i = 0; i < this.values.length; i++) max = Math.max(max, this.values[i] * this.scale)
    // Headroom above the highest point, as blessed-contrib's charts have; 1 when all is 0.
    const top = max > 0 ? max * 1.2 : 1
    this.labels = [axisLabel(top), axisLabel(top / 2), '0']
    this.labelRows = [0, Math.floor((height - 1) / 2), height - 1]
    const labelWidth = Math.max(...this.labels.map((l) => l.length))
    this.plotLeft = Math.min(width, labelWidth + 1)
    this.columns = Math.max(0, width - this.plotLeft)
    const cells = this.columns * height
    if (this.dots.length < cells) this.dots = new Uint8Array(cells)
    this.dots.fill(0, 0, cells)
    const dotsWide = this.columns * 2
    const dotsHigh = height * 4
    if (dotsWide === 0 || dotsHigh === 0) return
    const n = Math.min(this.values.length, this.capacity)
    const first = this.values.length - n
    // The newest point at the right edge; capacity points span the width.
    const step = this.capacity > 1 ? (dotsWide - 1) / (this.capacity - 1) : 0
    const xAt = (i: number) => Math.round(dotsWide - 1 - (n - 1 - i) * step)
    const yAt = (i: number) => Math.round((1 - Math.min(1, Math.max(0, (this.values[first + i] * this.scale) / top))) * (dotsHigh - 1))
    if (n === 1) this.dot(xAt(0), yAt(0))
    for (let i = 1; i < n; i++) this.segment(xAt(i - 1), yAt(i - 1), xAt(i), yAt(i))
  }

  private dot(x: number, y: number): void {
    if (x < 0 || y < 0 || x >= this.columns * 2) return
    const i = (y >> 2) * this.columns + (x >> 1)
    if (i < this.dots.length) this.dots[i] |= DOT_BITS[y & 3][x & 1]
  }

  /** Bresenham's line between two dots, both ends included. */
  private segment(x0: number, y0: number, x1: number, y1: number): void {
    const dx = Math.abs(x1 - x0)
    const dy = -Math.abs(y1 - y0)
    const sx = x0 < x1 ? 1 : -1
    const sy = y0 < y1 ? 1 : -1
    let err = dx + dy
    for (;;) {
      this.dot(x0, y0)
      if (x0 === x1 && y0 === y1) return
      const e2 = 2 * err
      if (e2 >= dy) {
        err += dy
        x0 += sx
      }
      if (e2 <= dx) {
        err += dx
        y0 += sy
      }
    }
  }
}

/** The bit of each dot of a braille cell, by row (0-3) and column (0-1). */
const DOT_BITS = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
]

/** The 256 braille patterns, made once rather than a string per dot cell per frame. */
const BRAILLE = Array.from({length: 256}, (_, i) => String.fromCharCode(0x2800 + i))

/** A full left column of dots: the value axis, as blessed-contrib drew it. */
const AXIS = BRAILLE[0x47]

export function axisLabel(v: number): string {
  if (v === 0) return '0'
  if (v < 10) return v.toFixed(1)
  return String(Math.round(v))
}
