import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {PassThrough} from 'node:stream'
import type {Widgets} from 'blessed'
import {LineChart, axisLabel} from '../../src/tui/line-chart.js'
import {Painter, paintWith} from '../../src/tui/paint.js'
import {chooseTerminal} from '../../src/tui/terminal.js'

const require = createRequire(import.meta.url)
const blessed = require('blessed') as typeof import('blessed')

type Screen = Widgets.Screen & {lines: [number, string][][]}

/** A blessed screen of `cols` x `rows` writing into a stream nobody reads. */
function screenOf(t: {after(fn: () => void): void}, cols: number, rows: number): Screen {
  const terminal = chooseTerminal('xterm-256color')
  if ('error' in terminal) throw new Error(terminal.error)
  const output = Object.assign(new PassThrough(), {columns: cols, rows, isTTY: true})
  output.resume()
  const input = Object.assign(new PassThrough(), {isTTY: true, setRawMode: () => input})
  const screen = blessed.screen({terminal: terminal.file, input, output, warnings: false, fullUnicode: false, autoPadding: false}) as Screen
  t.after(() => screen.destroy())
  return screen
}

/** The cells of a screen region as "attr:char" strings, row by row. */
function region(screen: Screen, x0: number, y0: number, w: number, h: number): string[] {
  const out: string[] = []
  for (let y = y0; y < y0 + h; y++) out.push(screen.lines[y].slice(x0, x0 + w).map(([a, c]) => `${a}:${c}`).join(' '))
  return out
}

test('painted text has the cells blessed gives the same lines as tagged content, wide and combining characters included', (t) => {
  const lines = [
    'CGROUP            TASKS   CPU%',
    '▾ /                  69    0.9',
    '  ▸ system.slice      3  100.0',
    '    漢字.service      1    0.0',
    '    cafe\u0301 …long name cut',
    '    x\u202eecivres\u2060.slice 2',
    'short',
  ]
  const selected = 2
  const width = 40
  const parsed = screenOf(t, 60, 10)
  const painted = screenOf(t, 60, 10)
  const tagged = lines.map((l, i) => (i === 0 ? `{bold}${blessed.escape(l)}{/bold}` : i === selected ? `{inverse}${blessed.escape(l)}{/inverse}` : blessed.escape(l)))
  blessed.box({parent: parsed, top: 1, left: 2, width, height: 8, tags: true, wrap: false, content: tagged.join('\n')})
  const box = blessed.box({parent: painted, top: 1, left: 2, width, height: 8, tags: true, wrap: false})
  paintWith(box, (p) => {
    const bold = p.sgr('\u001b[1m')
    const inverse = p.sgr('\u001b[7m')
    lines.forEach((l, y) => p.text(0, y, l, y === 0 ? bold : y === selected ? inverse : p.base))
  })
  parsed.render()
  painted.render()
  assert.deepEqual(region(painted, 0, 0, 60, 10), region(parsed, 0, 0, 60, 10))
  // And with a border and a label, text is clipped at the inside's right edge as blessed clips it.
  const long = 'x'.repeat(80)
  const parsed2 = screenOf(t, 60, 10)
  const painted2 = screenOf(t, 60, 10)
  blessed.box({parent: parsed2, top: 0, left: 0, width: 30, height: 5, border: 'line', label: ' P ', tags: true, wrap: false, content: `{yellow-fg}${long}{/yellow-fg}`})
  const box2 = blessed.box({parent: painted2, top: 0, left: 0, width: 30, height: 5, border: 'line', label: ' P ', tags: true, wrap: false})
  paintWith(box2, (p) => p.text(0, 0, long, p.sgr('\u001b[33m')))
  parsed2.render()
  painted2.render()
  assert.deepEqual(region(painted2, 0, 0, 60, 10), region(parsed2, 0, 0, 60, 10))
})

/** A painter over a plain grid, for what a chart draws where. */
function gridPainter(width: number, height: number): Painter & {chars: string[][]; attrs: number[][]} {
  const chars = Array.from({length: height}, () => Array.from({length: width}, () => ' '))
  const attrs = Array.from({length: height}, () => Array.from({length: width}, () => 0))
  const cell = (x: number, y: number, ch: string, attr: number) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return
    chars[y][x] = ch
    attrs[y][x] = attr
  }
  return {
    width,
    height,
    base: 0,
    chars,
    attrs,
    sgr: () => 1,
    cell,
    text: (x, y, text, attr) => {
      ;[...text].forEach((ch, i) => cell(x + i, y, ch, attr))
      return x + text.length
    },
    fill: (x, y, n, attr) => {
      for (let i = 0; i < n; i++) cell(x + i, y, ' ', attr)
    },
  }
}

const LINE = 7
const AXIS = 9
/** Dot rows (0 = top) that have a dot in column `x` of the grid. */
function dotRows(p: {chars: string[][]}, x: number): number[] {
  const rows: number[] = []
  p.chars.forEach((row, y) => {
    const code = row[x].charCodeAt(0) - 0x2800
    if (code <= 0 || code > 0xff) return
    const bits = [
      [0x01, 0x08],
      [0x02, 0x10],
      [0x04, 0x20],
      [0x40, 0x80],
    ]
    for (let r = 0; r < 4; r++) if (code & (bits[r][0] | bits[r][1])) rows.push(y * 4 + r)
  })
  return rows
}

test('a line chart labels its scale, draws its axis, and puts the newest point at the right edge', () => {
  const chart = new LineChart(60)
  const p = gridPainter(40, 10)
  const values = Array.from({length: 60}, (_, i) => i)
  chart.set(values, '1')
  chart.paint(p, LINE, AXIS)
  // The top of the scale is the highest point plus a fifth: 59 * 1.2 = 70.8.
  assert.equal(p.chars[0].slice(0, 2).join(''), '71')
  assert.equal(p.chars[4].slice(0, 2).join(''), '35')
  assert.equal(p.chars[9].slice(0, 2).join(''), ' 0')
  assert.equal(p.attrs[0][0], AXIS)
  for (let y = 0; y < 10; y++) assert.equal(p.chars[y][2], '⡇', `axis on row ${y}`)
  // A rising line: low at the left, high (but below the top, the headroom) at the right.
  const left = dotRows(p, 3)
  const right = dotRows(p, 39)
  assert.ok(left.length > 0 && right.length > 0)
  assert.equal(Math.max(...left), 39, 'the first point, 0, is on the bottom dot row')
  assert.equal(Math.min(...right), Math.round((1 - 59 / 70.8) * 39), 'the last point at its height')
  assert.equal(p.attrs[9][3], LINE)
})

test('a short history fills from the right at one point per refresh; an idle one lies on the bottom; nothing is drawn without points', () => {
  const chart = new LineChart(60)
  const p = gridPainter(40, 8)
  chart.set([0, 0, 0], '1')
  chart.paint(p, LINE, AXIS)
  assert.deepEqual([p.chars[0].slice(0, 3).join(''), p.chars[7].slice(0, 3).join('')], ['1.0', '  0'], 'an all-zero scale still has a top')
  // 36 columns right of the axis, 72 dots: 60 points are 71/59 dots apart, so three points
  // take dots 69-71, the last two cells.
  const drawn = p.chars[7].map((c, x) => (c !== ' ' && x > 3 ? x : -1)).filter((x) => x >= 0)
  assert.deepEqual(drawn, [38, 39])
  assert.deepEqual(dotRows(p, 39), [31])
  const empty = gridPainter(40, 8)
  chart.set([], '2')
  chart.paint(empty, LINE, AXIS)
  assert.equal(empty.chars.flat().filter((c) => c >= '⠁' && c <= '⣿' && c !== '⡇').length, 0)
  assert.equal(axisLabel(0.25), '0.3')
  assert.equal(axisLabel(1234.4), '1234')
})

test('a line chart computes its dots again only for new figures (another refresh or cgroup) or size', () => {
  const chart = new LineChart(10)
  const values = [1, 2, 3]
  chart.set(values, '5 /a')
  const a = gridPainter(20, 6)
  chart.paint(a, LINE, AXIS)
  values[2] = 0
  const b = gridPainter(20, 6)
  chart.paint(b, LINE, AXIS)
  assert.deepEqual(b.chars, a.chars, 'same key, same size: the dots drawn before')
  const c = gridPainter(20, 6)
  chart.set(values, '5 /b')
  chart.paint(c, LINE, AXIS)
  assert.notDeepEqual(c.chars, a.chars, 'another cgroup in the same refresh is drawn anew')
  const d = gridPainter(24, 6)
  chart.paint(d, LINE, AXIS)
  assert.equal(d.chars[0].length, 24)
  assert.ok(dotRows(d, 23).length > 0, 'a new size is drawn anew, to its new right edge')
})
