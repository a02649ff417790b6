import {NsxError} from '../cli/errors.js'
import {Palette} from '../render/colour.js'
import {printable} from '../render/printable.js'
import {Column, renderTable} from '../render/table.js'
import {ListedNamespace, describeHolders, isGhost} from './listing.js'

/** The columns of `nsx ls`: lsns's, by the same names, plus HOLDERS and ADDRESSES (a net namespace's). */
export const COLUMN_NAMES = ['NS', 'TYPE', 'PATH', 'NPROCS', 'PID', 'PPID', 'COMMAND', 'UID', 'USER', 'NETNSID', 'NSFS', 'PNS', 'ONS', 'HOLDERS', 'ADDRESSES'] as const
export type ColumnName = (typeof COLUMN_NAMES)[number]

/** lsns's default columns, with HOLDERS before the (long) command line. */
export const DEFAULT_COLUMNS: readonly ColumnName[] = ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'HOLDERS', 'COMMAND']
/** With -t net among the types, lsns adds NETNSID and NSFS to its defaults. */
export const DEFAULT_NET_COLUMNS: readonly ColumnName[] = ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'NETNSID', 'NSFS', 'HOLDERS', 'COMMAND']

/** Columns whose values are numbers (JSON numbers, numeric comparisons in -Q), as lsns types them. */
export const NUMBER_COLUMNS: ReadonlySet<ColumnName> = new Set(['NS', 'NPROCS', 'PID', 'PPID', 'UID', 'NETNSID', 'PNS', 'ONS'])

export const COLUMN_HELP: Record<ColumnName, string> = {
  NS: 'namespace identifier (inode number)',
  TYPE: 'kind of namespace',
  PATH: 'path to the namespace',
  NPROCS: 'number of processes in the namespace',
  PID: 'lowest PID in the namespace',
  PPID: 'PPID of the PID',
  COMMAND: 'command line of the PID',
  UID: 'UID of the PID',
  USER: 'username of the PID',
  NETNSID: 'namespace ID as used by network subsystem',
  NSFS: 'nsfs mountpoint (bind mounts that hold it)',
  PNS: 'parent namespace identifier (inode number)',
  ONS: 'owner namespace identifier (inode number)',
  HOLDERS: 'what keeps it alive: processes, threads, fds, bind mounts, or being a parent/owner',
  ADDRESSES: 'addresses of a net namespace (IPv4, global IPv6; no loopback)',
}

const RIGHT: ReadonlySet<ColumnName> = new Set(['NS', 'NPROCS', 'PID', 'PPID', 'UID', 'NETNSID', 'PNS', 'ONS'])
/** Long free-text columns, cut to the terminal width unless --notruncate. */
const TRUNCATABLE: ReadonlySet<ColumnName> = new Set(['COMMAND', 'HOLDERS', 'PATH', 'NSFS', 'ADDRESSES'])

const num = (n: number | undefined) => (n === undefined ? '' : String(n))

/** A column's value for -Q: numbers as numbers, an empty cell as undefined. */
export function filterValue(name: ColumnName, row: ListedNamespace): number | string | undefined {
  switch (name) {
    case 'NS':
      return row.ns
    case 'NPROCS':
      return row.nprocs
    case 'PID':
      return row.pid
    case 'PPID':
      return row.ppid
    case 'UID':
      return row.uid
    case 'PNS':
      return row.pns
    case 'ONS':
      return row.ons
    case 'NETNSID':
      return row.netnsid === undefined ? undefined : row.netnsid === null ? 'unassigned' : row.netnsid
    default: {
      const text = cellText(name, row)
      return text === '' ? undefined : text
    }
  }
}

/** A column's value in --json with -o: numbers as numbers, NSFS as an array, empty as null. */
export function jsonValue(name: ColumnName, row: ListedNamespace): number | string | string[] | null {
  if (name === 'NSFS') return row.nsfs
  if (name === 'ADDRESSES') return row.addresses ?? null
  if (name === 'NETNSID') return row.netnsid ?? null
  const v = filterValue(name, row)
  return v === undefined ? null : v
}

export function cellText(name: ColumnName, row: ListedNamespace): string {
  switch (name) {
    case 'NS':
      return String(row.ns)
    case 'TYPE':
      return row.type
    case 'PATH':
      return row.path ?? ''
    case 'NPROCS':
      return String(row.nprocs)
    case 'PID':
      return num(row.pid)
    case 'PPID':
      return num(row.ppid)
    case 'COMMAND':
      return row.command ?? ''
    case 'UID':
      return num(row.uid)
    case 'USER':
      return row.user ?? ''
    case 'NETNSID':
      return row.netnsid === undefined ? '' : row.netnsid === null ? 'unassigned' : String(row.netnsid)
    case 'NSFS':
      return row.nsfs.join(',') // one per line in a table unless --nowrap: renderListing splits them
    case 'PNS':
      return num(row.pns)
    case 'ONS':
      return num(row.ons)
    case 'HOLDERS':
      return describeHolders(row.holders, row.nprocs, row.type)
    case 'ADDRESSES':
      return (row.addresses ?? []).join(',')
  }
}

/**
 * Parse -o as lsns does: a comma-separated list replaces the defaults, one starting with
 * "+" appends to them. Names are case-insensitive; an unknown one is an error that lists the valid ones.
 */
export function parseColumns(spec: string | undefined, all = false, net = false): ColumnName[] {
  const defaults = net ? DEFAULT_NET_COLUMNS : DEFAULT_COLUMNS
  if (all) return [...COLUMN_NAMES]
  if (spec === undefined) return [...defaults]
  let list = spec.trim()
  const append = list.startsWith('+')
  if (append) list = list.slice(1)
  const names = list.split(',').map((s) => s.trim())
  if (names.length === 0 || names.some((n) => n === '')) {
    throw new NsxError(`invalid column list '${spec}': expected names separated by commas (valid: ${COLUMN_NAMES.join(', ')})`)
  }
  const chosen: ColumnName[] = append ? [...defaults] : []
  for (const n of names) {
    const upper = n.toUpperCase()
    const col = COLUMN_NAMES.find((c) => c === upper)
    if (col === undefined) throw new NsxError(`unknown column '${n}' (valid: ${COLUMN_NAMES.join(', ')})`)
    chosen.push(col)
  }
  return chosen
}

/** A row as the table prints it: the namespace and the tree branches drawn before one of its cells. */
export interface DisplayRow {
  row: ListedNamespace
  prefix: string
}

export interface RenderOptions {
  columns: readonly ColumnName[]
  /** The column that carries the tree branches (COMMAND for --tree=process, NS otherwise). */
  treeColumn?: ColumnName
  noHeadings?: boolean
  /** lsns -r: one space between cells, no padding, blanks in values escaped as \x20. */
  raw?: boolean
  /** Cut long text columns so lines fit this many characters (a terminal's width). */
  width?: number
  /** lsns -W: several NSFS paths on one line, comma-separated (else one per line). */
  noWrap?: boolean
  palette: Palette
}

/** libsmartcols' raw-mode escaping: characters that would break a space-separated line. */
function rawEscape(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\s\\\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

function cut(s: string, width: number): string {
  if (s.length <= width) return s
  return width <= 1 ? s.slice(0, width) : `${s.slice(0, width - 1)}…`
}

export function renderListing(rows: readonly DisplayRow[], opts: RenderOptions): string {
  const cols = opts.columns
  const treeCol = opts.treeColumn !== undefined && cols.includes(opts.treeColumn) ? opts.treeColumn : opts.treeColumn ? cols[0] : undefined
  // Command lines and paths are anyone's bytes: raw mode escapes them its own way, the table as pstree does.
  const shown = opts.raw ? cellText : (c: ColumnName, r: ListedNamespace) => printable(cellText(c, r))
  const cells = rows.map((d) => cols.map((c) => (c === treeCol ? d.prefix : '') + shown(c, d.row)))

  if (opts.raw) {
    const lines = opts.noHeadings ? [] : [cols.join(' ')]
    for (const r of cells) lines.push(r.map((v) => rawEscape(v)).join(' '))
    return lines.length > 0 ? lines.join('\n') + '\n' : ''
  }

  // NSFS with several paths: one per line, the other cells blank on the lines after the first (lsns).
  let lines = rows.map((_, i) => i)
  const nsfsAt = cols.indexOf('NSFS')
  if (nsfsAt >= 0 && !opts.noWrap && rows.some((d) => d.row.nsfs.length > 1)) {
    const expanded: string[][] = []
    lines = []
    rows.forEach((d, i) => {
      const paths = d.row.nsfs
      if (paths.length <= 1) {
        expanded.push(cells[i])
        lines.push(i)
        return
      }
      paths.forEach((path, k) => {
        expanded.push(k === 0 ? cells[i].map((v, j) => (j === nsfsAt ? printable(path) : v)) : cols.map((_, j) => (j === nsfsAt ? printable(path) : '')))
        lines.push(i)
      })
    })
    cells.length = 0
    cells.push(...expanded)
  }

  if (opts.width !== undefined && opts.width > 0) fitToWidth(cells, cols, opts.width, opts.noHeadings === true)

  const p = opts.palette
  const columns: Column<number>[] = cols.map((c, i) => ({
    header: c,
    // A tree drawn in NS reads left to right, as lsns prints it.
    align: RIGHT.has(c) && c !== treeCol ? 'right' : 'left',
    value: (r: number) => {
      const v = cells[r][i]
      // Held only as a parent/owner: dim on a terminal, so ghosts stand apart.
      return isGhost(rows[lines[r]].row) ? (v === '' ? v : p.dim(v)) : v
    },
  }))
  const text = renderTable(
    columns,
    cells.map((_, i) => i),
    {noHeadings: opts.noHeadings},
  )
  if (opts.noHeadings || text === '') return text
  const nl = text.indexOf('\n')
  return p.bold(text.slice(0, nl)) + text.slice(nl)
}

/** Shrink the truncatable cells, widest first, until a line fits `width`. */
function fitToWidth(cells: string[][], cols: readonly ColumnName[], width: number, noHeadings: boolean): void {
  const widths = cols.map((c, i) => Math.max(noHeadings ? 0 : c.length, ...cells.map((r) => r[i].length)))
  let total = widths.reduce((a, b) => a + b, 0) + cols.length - 1
  if (total <= width) return
  const cuttable = cols.map((c, i) => (TRUNCATABLE.has(c) ? i : -1)).filter((i) => i >= 0)
  while (total > width) {
    let widest = -1
    for (const i of cuttable) if (widest < 0 || widths[i] > widths[widest]) widest = i
    const floor = Math.max(cols[widest]?.length ?? 0, 10)
    if (widest < 0 || widths[widest] <= floor) return // nothing left to cut: let the terminal wrap
    const target = Math.max(floor, widths[widest] - (total - width))
    total -= widths[widest] - target
    widths[widest] = target
  }
  for (const r of cells) for (const i of cuttable) r[i] = cut(r[i], widths[i])
}
