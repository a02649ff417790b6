import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {PassThrough} from 'node:stream'
import type {Widgets} from 'blessed'
import {BrailleCanvas, paintCanvas, paintWith} from '../../src/tui/paint.js'
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

interface LineChart extends Widgets.BoxElement {
  setData(series: {title: string; x: string[]; y: number[]; style?: {line: string}}[]): void
  ctx: {_canvas: BrailleCanvas}
}

const lineChart = require('blessed-contrib/lib/widget/charts/line.js') as (o: object) => LineChart

function chartOn(screen: Screen, width: number, height: number): LineChart {
  const chart = lineChart({
    screen,
    left: 0,
    top: 0,
    width,
    height,
    label: ' CPU % /a/b ',
    border: 'line',
    showLegend: false,
    minY: 0,
    xLabelPadding: 2,
    xPadding: 2,
    numYLabels: 4,
    wholeNumbersOnly: false,
    style: {line: 'yellow', text: 'white', baseline: 'white'},
  })
  screen.append(chart)
  return chart
}

const SERIES: number[][] = [
  [0, 0, 0, 0],
  [3, 97.5, 100, 12, 0, 55, 55, 55, 200, 1],
  Array.from({length: 60}, (_, i) => Math.abs(Math.sin(i / 5)) * 100),
  [1048576, 1048576, 2097152],
]

test('a painted line chart has every cell, character and attribute blessed gives the chart\'s own frame', (t) => {
  for (const [width, height] of [
    [66, 16],
    [40, 9],
    [100, 12],
  ]) {
    for (const ys of SERIES) {
      const parsed = screenOf(t, 120, 20)
      const painted = screenOf(t, 120, 20)
      const a = chartOn(parsed, width, height)
      const b = chartOn(painted, width, height)
      paintWith(b, (p) => paintCanvas(p, b.ctx._canvas))
      for (const chart of [a, b]) chart.setData([{title: 'cpu', x: ys.map((_, i) => String(i - ys.length + 1)), y: ys, style: {line: 'yellow'}}])
      parsed.render()
      painted.render()
      assert.deepEqual(region(painted, 0, 0, width, height), region(parsed, 0, 0, width, height), `${width}x${height} ${ys.length} points`)
      // Drawn again with other data, the painted chart changes with it.
      for (const chart of [a, b]) chart.setData([{title: 'cpu', x: ['0', '1'], y: [5, 1], style: {line: 'cyan'}}])
      parsed.render()
      painted.render()
      assert.deepEqual(region(painted, 0, 0, width, height), region(parsed, 0, 0, width, height), `${width}x${height} redrawn`)
    }
  }
})

test('painted text has the cells blessed gives the same lines as tagged content, wide and combining characters included', (t) => {
  const lines = [
    'CGROUP            TASKS   CPU%',
    '▾ /                  69    0.9',
    '  ▸ system.slice      3  100.0',
    '    漢字.service      1    0.0',
    '    cafe\u0301 …long name cut',
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
