import {ArrangedRow} from '../cgroup/arrange.js'
import {CgroupStats} from '../cgroup/rates.js'
import {formatBytes, formatPercent} from '../cgroup/report.js'
import {printable} from '../render/printable.js'
import {narrow} from './narrow.js'

/**
 * The dashboard's cgroup table as plain text lines: columns that fit the width (the least
 * useful are dropped first on a narrow terminal), the name column taking what is left.
 */
export interface TuiColumn {
  header: string
  /** The usual width; a column widens for a longer value shown rather than cut it. */
  width: number
  /**
   * 1 = always shown; higher numbers are dropped first when space runs out. What a
   * container's row needs most (usage against its limits) goes last: CPU, memory and their
   * limits, then pids, then the working set, then network rates, then throttling, OOM kills
   * and IO rates, then pressure.
   */
  priority: number
  value(s: CgroupStats): string
}

const limitText = (v: number | null | undefined, fmt: (n: number) => string) => (v === undefined ? '-' : v === null ? 'max' : fmt(v))
const netRate = (counter: number | undefined, perSec: number | null) => (counter === undefined ? '' : formatBytes(perSec === null ? null : Math.round(perSec)))
const psi = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1))

export const TUI_COLUMNS: TuiColumn[] = [
  {header: 'TASKS', width: 5, priority: 1, value: (s) => (s.tasks === undefined ? '-' : String(s.tasks))},
  {header: 'CPU%', width: 6, priority: 1, value: (s) => formatPercent(s.cpuPercent)},
  {header: 'CPU-LIM', width: 7, priority: 2, value: (s) => (s.cpuQuotaUsec === undefined ? '-' : s.cpuLimitPercent === null ? 'max' : `${Math.round(s.cpuLimitPercent)}%`)},
  {header: 'MEMORY', width: 7, priority: 1, value: (s) => formatBytes(s.memoryBytes)},
  {header: 'WSET', width: 7, priority: 4, value: (s) => formatBytes(s.workingSetBytes)},
  {header: 'MEM-LIM', width: 7, priority: 2, value: (s) => limitText(s.memoryLimitBytes, formatBytes)},
  {header: 'PIDS', width: 9, priority: 3, value: (s) => (s.pidsCurrent === undefined ? '-' : `${s.pidsCurrent}/${limitText(s.pidsMax, String)}`)},
  // A container's network bytes per second; blank where it has no network of its own (or is no container).
  {header: 'RX/s', width: 7, priority: 5, value: (s) => netRate(s.netRxBytes, s.netRxBytesPerSec)},
  {header: 'TX/s', width: 7, priority: 5, value: (s) => netRate(s.netTxBytes, s.netTxBytesPerSec)},
  {header: 'THR%', width: 4, priority: 6, value: (s) => ((s.cpuThrottledPercent ?? null) === null ? '-' : s.cpuThrottledPercent!.toFixed(0))},
  {header: 'OOMK', width: 4, priority: 6, value: (s) => (s.memoryOomKills === undefined ? '-' : String(s.memoryOomKills))},
  {header: 'READ/s', width: 7, priority: 6, value: (s) => formatBytes(s.ioReadBytesPerSec === null ? null : Math.round(s.ioReadBytesPerSec))},
  {header: 'WRITE/s', width: 7, priority: 6, value: (s) => formatBytes(s.ioWriteBytesPerSec === null ? null : Math.round(s.ioWriteBytesPerSec))},
  {header: 'PSI-CPU', width: 7, priority: 7, value: (s) => psi(s.pressure?.cpu)},
  {header: 'PSI-MEM', width: 7, priority: 7, value: (s) => psi(s.pressure?.memory)},
  {header: 'PSI-IO', width: 6, priority: 7, value: (s) => psi(s.pressure?.io)},
]

export const MIN_NAME_WIDTH = 20

export interface TableLayout {
  columns: TuiColumn[]
  nameWidth: number
}

/**
 * The columns that fit `total` cells with the name's minimum, each as wide as the longest of
 * its values in `shown` (the rows on screen), so that no value is ever cut ("0" for "0B").
 * The line never passes `total`: the name column gives way first, then whole columns go.
 */
export function fitColumns(total: number, all: TuiColumn[] = TUI_COLUMNS, shown: readonly CgroupStats[] = []): TableLayout {
  let columns = all
  if (shown.length > 0) {
    columns = all.map((c) => {
      let w = c.width
      for (let i = 0; i < shown.length; i++) {
        const n = c.value(shown[i]).length
        if (n > w) w = n
      }
      return w === c.width ? c : {...c, width: w}
    })
  }
  const need = (cols: TuiColumn[]) => cols.reduce((n, c) => n + c.width + 1, 0)
  for (let p = Math.max(...all.map((c) => c.priority)); p > 1 && total - need(columns) < MIN_NAME_WIDTH; p--) {
    columns = columns.filter((c) => c.priority < p)
  }
  return {columns, nameWidth: Math.max(1, total - need(columns))}
}

/** A value in its column; rows measured by fitColumns always fit, others are cut as a last resort. */
const padLeft = (s: string, w: number) => (s.length >= w ? s.slice(0, w) : ' '.repeat(w - s.length) + s)
const padRight = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length))

/** Cut from the left, keeping the end of a path, which is the part that tells cgroups apart. */
export function ellipsizeLeft(s: string, w: number): string {
  if (s.length <= w) return s
  if (w <= 1) return s.slice(s.length - w)
  return `…${s.slice(s.length - w + 1)}`
}

export function headerLine(layout: TableLayout): string {
  return padRight('CGROUP', layout.nameWidth) + layout.columns.map((c) => ` ${padLeft(c.header, c.width)}`).join('')
}

export interface TreeMarks {
  open: string
  closed: string
  leaf: string
}

export const UNICODE_MARKS: TreeMarks = {open: '▾', closed: '▸', leaf: ' '}
export const ASCII_MARKS: TreeMarks = {open: '-', closed: '+', leaf: ' '}

/**
 * The name cell in `width` cells: a tree row keeps its indentation and mark and shortens its
 * name from the left (the end tells siblings apart); only a very deep row gives up indentation.
 */
export function fittedName(row: ArrangedRow, flat: boolean, marks: TreeMarks, width: number): string {
  const full = rowName(row, flat, marks)
  if (full.length <= width || flat) return ellipsizeLeft(full, width)
  const label = rowLabel(row)
  const prefix = full.slice(0, full.length - label.length)
  // At least a few characters of the name itself, however deep the row.
  const keep = Math.max(0, Math.min(prefix.length, width - Math.min(label.length, 6)))
  const shown = keep === prefix.length ? prefix : prefix.slice(prefix.length - keep)
  return shown + ellipsizeLeft(label, width - shown.length)
}

/** A tree row's own name: a container's name, or its cgroup directory's. */
function rowLabel(row: ArrangedRow): string {
  // A container is called by its name (its cgroup's name, nsx-NAME-ID8, says no more).
  const unit = row.stats.unit
  if (unit !== undefined) return narrow(printable(unit.kind === 'group' ? `[${unit.name}]` : unit.name))
  return row.stats.path === '/' ? '/' : narrow(printable(row.stats.path.slice(row.stats.path.lastIndexOf('/') + 1)))
}

export function rowName(row: ArrangedRow, flat: boolean, marks: TreeMarks): string {
  // Whoever may make a cgroup (a delegated user) chooses its name: no control characters
  // reach the terminal, and its length is the columns it takes (narrow).
  if (flat) return narrow(printable(row.stats.path))
  const last = rowLabel(row)
  const mark = row.hasChildren ? (row.collapsed ? marks.closed : marks.open) : marks.leaf
  return `${'  '.repeat(row.depth)}${mark} ${last}`
}

/**
 * The pieces of rowLine, each with its column: the name from column 0, then each value
 * right-aligned in its column. For painting a row without building its padded line.
 */
export function rowCells(row: ArrangedRow, layout: TableLayout, flat: boolean, marks: TreeMarks, put: (x: number, text: string) => void): void {
  put(0, fittedName(row, flat, marks, layout.nameWidth))
  let x = layout.nameWidth
  for (let i = 0; i < layout.columns.length; i++) {
    const c = layout.columns[i]
    const v = c.value(row.stats)
    const text = v.length > c.width ? v.slice(0, c.width) : v
    put(x + 1 + c.width - text.length, text)
    x += 1 + c.width
  }
}

export function rowLine(row: ArrangedRow, layout: TableLayout, flat: boolean, marks: TreeMarks = UNICODE_MARKS): string {
  const name = padRight(fittedName(row, flat, marks, layout.nameWidth), layout.nameWidth)
  return name + layout.columns.map((c) => ` ${padLeft(c.value(row.stats), c.width)}`).join('')
}
