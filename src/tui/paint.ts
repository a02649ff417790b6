import type {Widgets} from 'blessed'
import {narrow} from './narrow.js'

/**
 * Painting a blessed element's inside cell by cell, instead of giving it content to parse.
 * blessed turns an element's content into cells on every render: it cleans the string with
 * several regular expressions, parses its tags and escapes, wraps it, and scans every line
 * again for attributes even when the content has not changed. For the dashboard's table,
 * process list and charts, redrawn every second, that was most of what drawing cost. A
 * painted element keeps no content; after blessed has drawn its border, label and blank
 * inside, the paint function writes each cell's character and attribute into the screen's
 * cell buffer, as blessed's own render loop would (marking changed lines dirty, so that
 * Screen.draw still sends only what changed to the terminal).
 */
export interface Painter {
  /** Columns and rows inside the border. */
  readonly width: number
  readonly height: number
  /** The element's own attribute (its style), what blessed fills the inside with. */
  readonly base: number
  /** `cur` with an SGR sequence ("\x1b[1m") applied, as blessed's parser applies it. */
  sgr(code: string, cur?: number): number
  /** Write one cell (column x, row y, inside the border); outside the inside is ignored. */
  cell(x: number, y: number, ch: string, attr: number): void
  /**
   * Write `text` from column x of row y, clipped at the inside's right edge; returns the
   * column after it. Wide characters become "??" and combining ones are dropped, as
   * blessed does without fullUnicode, so that columns stay where they are.
   */
  text(x: number, y: number, text: string, attr: number): number
  /** Fill `n` cells from column x of row y with blanks in `attr`. */
  fill(x: number, y: number, n: number, attr: number): void
}

type Cell = [number, string]
type Line = Cell[] & {dirty?: boolean}

interface RenderCoords {
  xi: number
  xl: number
  yi: number
  yl: number
}

/** What of a blessed element painting needs (its typings do not list all of it). */
interface PaintableElement {
  screen: Widgets.Screen & {lines: Line[]; attrCode(code: string, cur: number, def: number): number}
  style: unknown
  content: string
  border?: unknown
  ileft: number
  itop: number
  iright: number
  ibottom: number
  sattr(style: unknown): number
  /** blessed's Element render, whatever the element's class puts in front of it. */
  _render(): RenderCoords | undefined
  render(): RenderCoords | undefined
}

class CellPainter implements Painter {
  width = 0
  height = 0
  base = 0
  private lines: Line[] = []
  private x0 = 0
  private y0 = 0
  /** attrCode results by code, then by the attribute it was applied to. */
  private readonly codes = new Map<string, Map<number, number>>()

  constructor(private readonly el: PaintableElement) {}

  frame(coords: RenderCoords): void {
    const el = this.el
    this.lines = el.screen.lines
    this.x0 = coords.xi + el.ileft
    this.y0 = coords.yi + el.itop
    this.width = Math.max(0, coords.xl - el.iright - this.x0)
    this.height = Math.max(0, coords.yl - el.ibottom - this.y0)
    const base = el.sattr(el.style)
    if (base !== this.base) this.codes.clear()
    this.base = base
  }

  sgr(code: string, cur = this.base): number {
    let byCur = this.codes.get(code)
    if (byCur === undefined) this.codes.set(code, (byCur = new Map()))
    let attr = byCur.get(cur)
    if (attr === undefined) byCur.set(cur, (attr = this.el.screen.attrCode(code, cur, this.base)))
    return attr
  }

  cell(x: number, y: number, ch: string, attr: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return
    const line = this.lines[this.y0 + y]
    const cell = line?.[this.x0 + x]
    if (cell === undefined) return
    if (cell[0] !== attr || cell[1] !== ch) {
      cell[0] = attr
      cell[1] = ch
      line.dirty = true
    }
  }

  text(x: number, y: number, text: string, attr: number): number {
    const s = narrow(text)
    const end = Math.min(this.width, x + s.length)
    for (let i = 0; x + i < end; i++) this.cell(x + i, y, s[i], attr)
    return x + s.length
  }

  fill(x: number, y: number, n: number, attr: number): void {
    for (let i = 0; i < n; i++) this.cell(x + i, y, ' ', attr)
  }
}

/**
 * Make `el` painted: its render draws the border, label and blank inside as usual, then
 * calls `paint`. The element's content is emptied and must not be set again.
 */
export function paintWith<E extends object>(element: E, paint: (p: Painter) => void): E {
  const el = element as unknown as PaintableElement
  // blessed's own Element render (a subclass may put work of its own in front of it).
  const render = el._render
  const painter = new CellPainter(el)
  el.content = ''
  el.render = function paintedRender(this: PaintableElement) {
    const coords = render.call(this)
    if (!coords) return coords
    painter.frame(coords)
    if (painter.width > 0 && painter.height > 0) paint(painter)
    return coords
  }
  return element
}
