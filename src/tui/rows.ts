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
  width: number
  /** 1 = always shown; higher numbers are dropped first when space runs out. */
  priority: number
  value(s: CgroupStats): string
}

const limitText = (v: number | null | undefined, fmt: (n: number) => string) => (v === undefined ? '-' : v === null ? 'max' : fmt(v))
const psi = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1))

export const TUI_COLUMNS: TuiColumn[] = [
  {header: 'TASKS', width: 5, priority: 1, value: (s) => (s.tasks === undefined ? '-' : String(s.tasks))},
  {header: 'CPU%', width: 6, priority: 1, value: (s) => formatPercent(s.cpuPercent)},
  {header: 'CPU-LIM', width: 7, priority: 4, value: (s) => (s.cpuQuotaUsec === undefined ? '-' : s.cpuLimitPercent === null ? 'max' : `${Math.round(s.cpuLimitPercent)}%`)},
  {header: 'MEMORY', width: 7, priority: 1, value: (s) => formatBytes(s.memoryBytes)},
  {header: 'WSET', width: 7, priority: 2, value: (s) => formatBytes(s.workingSetBytes)},
  {header: 'MEM-LIM', width: 7, priority: 2, value: (s) => limitText(s.memoryLimitBytes, formatBytes)},
  {header: 'PIDS', width: 11, priority: 3, value: (s) => (s.pidsCurrent === undefined ? '-' : `${s.pidsCurrent}/${limitText(s.pidsMax, String)}`)},
  {header: 'READ/s', width: 7, priority: 2, value: (s) => formatBytes(s.ioReadBytesPerSec === null ? null : Math.round(s.ioReadBytesPerSec))},
  {header: 'WRITE/s', width: 7, priority: 2, value: (s) => formatBytes(s.ioWriteBytesPerSec === null ? null : Math.round(s.ioWriteBytesPerSec))},
  {header: 'PSI-CPU', width: 7, priority: 3, value: (s) => psi(s.pressure?.cpu)},
  {header: 'PSI-MEM', width: 7, priority: 3, value: (s) => psi(s.pressure?.memory)},
  {header: 'PSI-IO', width: 6, priority: 3, value: (s) => psi(s.pressure?.io)},
]

export const MIN_NAME_WIDTH = 20

export interface TableLayout {
  columns: TuiColumn[]
  nameWidth: number
}

export function fitColumns(total: number, all: TuiColumn[] = TUI_COLUMNS): TableLayout {
  let columns = all
  const need = (cols: TuiColumn[]) => cols.reduce((n, c) => n + c.width + 1, 0)
  for (let p = Math.max(...all.map((c) => c.priority)); p > 1 && total - need(columns) < MIN_NAME_WIDTH; p--) {
    columns = columns.filter((c) => c.priority < p)
  }
  return {columns, nameWidth: Math.max(MIN_NAME_WIDTH, total - need(columns))}
}

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

export function rowName(row: ArrangedRow, flat: boolean, marks: TreeMarks): string {
  // Whoever may make a cgroup (a delegated user) chooses its name: no control characters
  // reach the terminal, and its length is the columns it takes (narrow).
  if (flat) return narrow(printable(row.stats.path))
  const last = row.stats.path === '/' ? '/' : narrow(printable(row.stats.path.slice(row.stats.path.lastIndexOf('/') + 1)))
  const mark = row.hasChildren ? (row.collapsed ? marks.closed : marks.open) : marks.leaf
  return `${'  '.repeat(row.depth)}${mark} ${last}`
}

/**
 * The pieces of rowLine, each with its column: the name from column 0, then each value
 * right-aligned in its column. For painting a row without building its padded line.
 */
export function rowCells(row: ArrangedRow, layout: TableLayout, flat: boolean, marks: TreeMarks, put: (x: number, text: string) => void): void {
  put(0, ellipsizeLeft(rowName(row, flat, marks), layout.nameWidth))
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
  const name = padRight(ellipsizeLeft(rowName(row, flat, marks), layout.nameWidth), layout.nameWidth)
  return name + layout.columns.map((c) => ` ${padLeft(c.value(row.stats), c.width)}`).join('')
}
