import {createRequire} from 'node:module'
import type {Widgets} from 'blessed'
import {NsxError} from '../cli/errors.js'
import {ArrangedRow} from '../cgroup/arrange.js'
import {SortKey} from '../cgroup/snapshot.js'
import {ProcessSampler, CgroupProcess} from '../cgroup/processes.js'
import {formatBytes} from '../cgroup/report.js'
import {Collector} from '../cgroup/sample.js'
import {glyphsFor, UNICODE_GLYPHS} from '../render/tree.js'
import {colourEnabled} from '../render/colour.js'
import {printable} from '../render/printable.js'
import {HELP_TEXT, wrapHelp} from './help.js'
import {ASCII_MARKS, TUI_COLUMNS, UNICODE_MARKS, fitColumns, headerLine, rowCells, ellipsizeLeft} from './rows.js'
import {DashboardState} from './state.js'
import {LineChart} from './line-chart.js'
import {narrow} from './narrow.js'
import {Painter, paintWith} from './paint.js'
import {ProcessLine, processLines as listProcesses} from './process-list.js'
import {DashboardData, HISTORY} from './refresh.js'
import {chooseTerminal} from './terminal.js'

export interface DashboardOptions {
  delaySeconds: number
  sort: SortKey
  flat: boolean
}

export const MIN_WIDTH = 70
export const MIN_HEIGHT = 18

/** blessed-contrib's gauge, loaded after the first screen is drawn. */
interface Gauge extends Widgets.BoxElement {
  setPercent(p: number): void
  setLabel(s: string): void
}

export async function runDashboard(collector: Collector, opts: DashboardOptions): Promise<void> {
  const terminal = chooseTerminal(process.env.TERM)
  if ('error' in terminal) throw new NsxError(terminal.error)
  const require = createRequire(import.meta.url)
  const blessed = require('blessed') as typeof import('blessed')
  const unicode = glyphsFor() === UNICODE_GLYPHS
  // NO_COLOR: attributes (bold, inverse) only; charts drawn in the terminal's own colour; the
  // memory gauge, drawn with a background colour, becomes a line of text.
  const colour = colourEnabled(process.stdout)
  const marks = unicode ? UNICODE_MARKS : ASCII_MARKS

  const screen = blessed.screen({
    terminal: terminal.file,
    smartCSR: true,
    warnings: false,
    fullUnicode: false,
    autoPadding: false,
    title: 'nsx top',
    input: process.stdin,
    output: process.stdout,
  })
  // blessed was given a file path; its feature checks (program.term('xterm')) want the name.
  ;(screen.program as unknown as {_terminal: string})._terminal = terminal.name

  const state = new DashboardState({sort: opts.sort, flat: opts.flat})
  const sampler = new ProcessSampler()
  const data = new DashboardData(collector, state)
  let processes: CgroupProcess[] = []
  let processesOf: string | undefined

  // A 256-colour grey where the terminal has them (blessed maps it down to 8 colours elsewhere).
  const header = blessed.box({parent: screen, top: 0, left: 0, width: '100%', height: 1, tags: true, style: colour ? {bg: 236, fg: 'white'} : {inverse: true}})
  const table = blessed.box({parent: screen, top: 1, left: 0, width: '100%', height: 10, tags: true, wrap: false})
  const cpuBox = blessed.box({parent: screen, left: 0, width: '33%', height: 8, border: 'line', label: ' CPU % ', tags: true})
  const memBox = blessed.box({parent: screen, left: '33%', width: '33%', height: 8, border: 'line', label: ' Memory ', tags: true})
  const procBox = blessed.box({parent: screen, left: '66%', width: '34%', height: 8, border: 'line', label: ' Processes ', tags: true})
  const footer = blessed.box({parent: screen, bottom: 0, left: 0, width: '100%', height: 1, tags: true})
  // Wrapped to its width at each render (helpLayout), with a column of padding inside the border.
  const help = blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width: 62,
    height: 19,
    border: 'line',
    label: ' help ',
    padding: {left: 1, right: 1},
    hidden: true,
    style: colour ? {border: {fg: 'cyan'}} : {},
  })
  const tooSmall = blessed.box({parent: screen, top: 0, left: 0, width: '100%', height: '100%', hidden: true, align: 'center', valign: 'middle'})

  let gauge: Gauge | undefined
  let gaugePercent = -1

  // The selected cgroup's history, as line charts painted into the CPU and memory boxes.
  const cpuChart = new LineChart(HISTORY)
  const memChart = new LineChart(HISTORY)
  const axisAttr = (p: Painter) => (colour ? p.sgr('\u001b[37m') : p.base)
  paintWith(cpuBox, (p) => cpuChart.paint(p, colour ? p.sgr('\u001b[33m') : p.base, axisAttr(p)))
  paintWith(memBox, (p) => memChart.paint(p, colour ? p.sgr('\u001b[36m') : p.base, axisAttr(p)))

  const detailHeight = () => Math.max(9, Math.min(16, Math.floor((screen.height as number) * 0.4)))

  const layout = () => {
    const h = screen.height as number
    const dh = detailHeight()
    table.height = Math.max(1, h - 2 - dh)
    // Three columns in whole cells: percentages rounded apart left a blank column between
    // the second and the third at some widths.
    const third = Math.floor((screen.width as number) / 3)
    const columns: [Widgets.BoxElement | undefined, number, number][] = [
      [cpuBox, 0, third],
      [memBox, third, third],
      [procBox, 2 * third, (screen.width as number) - 2 * third],
      [gauge, 2 * third, (screen.width as number) - 2 * third],
    ]
    for (const [b, left, width] of columns) {
      if (!b) continue
      b.left = left
      b.width = width
    }
    for (const b of [cpuBox, memBox]) {
      b.top = h - 1 - dh
      b.height = dh
    }
    // The process list sits below the gauge, when there is one. Each geometry is set once
    // per change only: a new height makes blessed render the whole screen again (the label
    // of a resized element is re-positioned through screen.render()).
    const gaugeRows = gauge ? 4 : 0
    procBox.top = h - 1 - dh + gaugeRows
    procBox.height = dh - gaugeRows
    if (gauge) gauge.top = h - 1 - dh
  }

  const esc = (s: string) => blessed.escape(s)

  /** The help box at most 72 columns wide and within the screen, its text wrapped inside the padding. */
  let helpSize = ''
  const helpLayout = (w: number, h: number) => {
    const width = Math.min(72, w - 4)
    const lines = wrapHelp(HELP_TEXT, width - 4)
    const height = Math.min(h - 2, lines.length + 2)
    if (helpSize === `${width}x${height}`) return
    helpSize = `${width}x${height}`
    help.width = width
    help.height = height
    help.setContent(lines.join('\n'))
  }

  /**
   * The table and the process list are painted (see paint.ts): render() sets what they
   * show, their paint functions draw it. Table line 0 is the header.
   */
  let tableLayout = fitColumns(MIN_WIDTH)
  let tableRows: readonly ArrangedRow[] = []
  /** Shown instead of rows when there are none. */
  let tableEmpty = ''
  paintWith(table, (p) => {
    p.text(0, 0, headerLine(tableLayout), p.sgr('\u001b[1m'))
    const inverse = p.sgr('\u001b[7m')
    const lineWidth = tableLayout.nameWidth + tableLayout.columns.reduce((n, c) => n + 1 + c.width, 0)
    for (let i = 0; i < tableRows.length && i + 1 < p.height; i++) {
      const r = tableRows[i]
      const y = i + 1
      const attr = r.stats.path === state.selectedPath ? inverse : p.base
      if (attr !== p.base) p.fill(0, y, lineWidth, attr)
      rowCells(r, tableLayout, state.flat, marks, (x, text) => p.text(x, y, text, attr))
    }
    if (tableEmpty !== '') p.text(0, 1, tableEmpty, p.base)
  })

  let processLines: ProcessLine[] = []
  paintWith(procBox, (p) => {
    const bold = p.sgr('\u001b[1m')
    const yellow = p.sgr('\u001b[33m')
    for (let y = 0; y < processLines.length && y < p.height; y++) {
      const l = processLines[y]
      const x = p.text(0, y, l.left, l.bold ? bold : p.base)
      if (l.rest !== '') p.text(x, y, l.rest, l.mark ? yellow : p.base)
    }
  })

  /** Set a label only when it changes: blessed re-parses and re-positions it on every call. */
  const labels = new WeakMap<object, string>()
  const label = (el: Widgets.BoxElement, text: string) => {
    if (labels.get(el) === text) return
    labels.set(el, text)
    el.setLabel(text)
  }
  const contents = new WeakMap<object, string>()
  const content = (el: Widgets.BoxElement, text: string) => {
    if (contents.get(el) === text) return
    contents.set(el, text)
    el.setContent(text)
  }

  const render = () => {
    const w = screen.width as number
    const h = screen.height as number
    const small = w < MIN_WIDTH || h < MIN_HEIGHT
    for (const el of [header, table, cpuBox, memBox, procBox, footer]) el.hidden = small
    if (gauge) gauge.hidden = small
    tooSmall.hidden = !small
    if (small) {
      tooSmall.setContent(`terminal too small: ${w}x${h}\nnsx top needs at least ${MIN_WIDTH}x${MIN_HEIGHT}\n(q quits)`)
      help.hidden = true
      screen.render()
      return
    }
    layout()
    const sel = state.selected()
    const flags = [
      `sort: ${state.sort}`,
      state.flat ? 'flat' : 'tree',
      state.paused ? (colour ? '{red-fg}PAUSED{/red-fg}' : '{bold}PAUSED{/bold}') : `every ${opts.delaySeconds}s`,
      state.filter ? `filter: ${esc(state.filter)}` : '',
    ].filter(Boolean)
    // On a narrow terminal the reminder of the CPU% scale (also in the help) gives way to the state.
    const head = `nsx top  cgroup ${collector.layout.mode}  ${data.stats.length} cgroups`
    const tail = `  ${flags.join('  ')}`
    const scale = head.length + 21 + tail.replace(/\{\/?[a-z-]+\}/g, '').length <= w ? '  CPU% 100 = one core' : ''
    content(header, `{bold}nsx top{/bold}${head.slice(7)}${scale}${tail}`)
    // One column short of the edge: a line filling the last column makes some terminals wrap.
    const bodyHeight = (table.height as number) - 1
    const rows = state.visibleRows(bodyHeight)
    data.onScreen = new Set(rows.map((r) => r.stats.path))
    data.readComingIntoView(rows)
    // Columns as wide as the values on screen need, so that none is cut.
    const tl = fitColumns(w - 1, TUI_COLUMNS, rows.map((r) => r.stats))
    tableLayout = tl
    tableRows = rows
    tableEmpty = state.rows.length > 0 ? '' : state.filter || state.filterDraft ? '(no cgroup matches the filter)' : '(no cgroups)'

    const path = sel?.stats.path
    const hist = path ? data.history.get(path) : undefined
    // A container's charts are labelled with its name, as its row is.
    const shown = sel?.stats.unit !== undefined ? `${sel.stats.unit.kind} ${sel.stats.unit.name}` : path
    const name = shown ? ellipsizeLeft(narrow(printable(shown)), Math.max(10, Math.floor(w / 3) - 12)) : ''
    label(cpuBox, ` CPU % ${esc(name)} `)
    label(memBox, ` Memory MiB ${esc(name)} `)
    // The history changes with each refresh and each selection: the dots are computed again only then.
    const chartKey = `${data.refreshes} ${path ?? ''}`
    cpuChart.set(hist?.cpu ?? [], chartKey)
    memChart.set(hist?.mem ?? [], chartKey, 1 / 1048576)
    const limit = sel?.stats.memoryLimitBytes
    if (gauge && sel) {
      const pct = limit && sel.stats.workingSetBytes !== null ? Math.min(100, (sel.stats.workingSetBytes / limit) * 100) : 0
      label(gauge, ` wset ${formatBytes(sel.stats.workingSetBytes)} / ${limit === undefined ? '-' : limit === null ? 'no limit' : formatBytes(limit)} `)
      if (gaugePercent !== Math.round(pct)) gauge.setPercent((gaugePercent = Math.round(pct)))
    }
    label(procBox, ` Processes (${sampler.listed}) `)
    processLines = listProcesses(sel?.stats, processes, (procBox.width as number) - 2, (procBox.height as number) - 2, {gauge: gauge !== undefined, colour})

    content(
      footer,
      state.filterDraft !== undefined
        ? `filter: ${esc(state.filterDraft)}_   (enter keeps, escape cancels)`
        : '{bold}↑↓/jk{/bold} move  {bold}enter{/bold} expand  {bold}s{/bold} sort  {bold}/{/bold} filter  {bold}f{/bold} flat  {bold}p{/bold} pause  {bold}?{/bold} help  {bold}q{/bold} quit',
    )
    help.hidden = !state.helpShown
    if (state.helpShown) {
      helpLayout(w, h)
      help.setFront()
    }
    screen.render()
  }

  const refreshProcesses = () => {
    const path = state.selectedPath
    if (path !== processesOf) {
      sampler.reset()
      processesOf = path
    }
    const file = path ? collector.procsFileOf(path) : undefined
    // As many as the list can show.
    processes = file ? sampler.sample(file, Math.max(1, (procBox.height as number) - 2)) : []
    if (!file) sampler.listed = 0
  }

  /** The rows the table can show now, and the selection: they are read in full. */
  const visiblePaths = (): Set<string> => {
    layout()
    const set = new Set(state.visibleRows(Math.max(1, (table.height as number) - 1)).map((r) => r.stats.path))
    if (state.selectedPath) set.add(state.selectedPath)
    return set
  }

  /** blessed-contrib's gauge (without colour, the memory line of the process list stands in). */
  const loadGauge = () => {
    if (!colour) return
    const gaugeW = require('blessed-contrib/lib/widget/gauge.js') as (o: object) => Gauge
    gauge = gaugeW({left: '66%', width: '34%', height: 4, label: ' memory ', stroke: 'green', fill: 'white', border: 'line'})
    screen.append(gauge)
  }

  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    let done = false
    const finish = (err?: unknown) => {
      if (done) return
      done = true
      if (timer) clearTimeout(timer)
      sampler.close()
      screen.destroy()
      process.stdin.pause()
      process.off('SIGTERM', onSignal)
      process.off('SIGHUP', onSignal)
      if (err) reject(err)
      else resolve()
    }
    // A hangup (terminal closed) or TERM: put the terminal back, then die of the signal as
    // top does, whatever else still holds the event loop.
    const onSignal = (sig: NodeJS.Signals) => {
      try {
        finish()
      } finally {
        process.kill(process.pid, sig)
      }
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGHUP', onSignal)

    const tick = (ms: number) => {
      timer = setTimeout(() => {
        try {
          if (!state.paused) {
            data.refresh()
            refreshProcesses()
            render()
          }
          tick(opts.delaySeconds * 1000)
        } catch (err) {
          finish(err)
        }
      }, ms)
    }

    screen.on('keypress', (ch: string | undefined, key: {name?: string; full?: string; ctrl?: boolean} | undefined) => {
      try {
        if (key?.ctrl && key.name === 'c') return finish()
        const before = state.selectedPath
        const pageSize = Math.max(1, (table.height as number) - 2)
        const r = state.key(key?.name, ch, pageSize)
        if (r === 'quit') return finish()
        if (r === 'none') return
        if (state.selectedPath !== before && data.sampled) refreshProcesses()
        render()
      } catch (err) {
        finish(err)
      }
    })
    screen.on('resize', () => {
      try {
        render()
      } catch (err) {
        finish(err)
      }
    })

    try {
      data.firstRefresh(visiblePaths)
      render()
      // The gauge and the process list after the first screen is up; then a quick second
      // sample so that CPU% appears soon.
      setImmediate(() => {
        if (done) return
        try {
          loadGauge()
          refreshProcesses()
          render()
          collector.watch()
        } catch (err) {
          finish(err)
        }
      })
      tick(Math.min(opts.delaySeconds * 1000, 500))
    } catch (err) {
      finish(err)
    }
  })
}
