import {parentRel} from './discover.js'
import {CgroupStats} from './rates.js'

/** Orders the rows of `nsx top`: a tree with sorted siblings, or a flat sorted list. */
export const SORT_KEYS = ['cpu', 'memory', 'io', 'pids', 'name'] as const
export type SortKey = (typeof SORT_KEYS)[number]

export interface ArrangedRow {
  stats: CgroupStats
  depth: number
  hasChildren: boolean
  collapsed: boolean
}

export interface ArrangeOptions {
  sort: SortKey
  flat?: boolean
  /** Keep rows whose path contains this (case-insensitive), and their ancestors in a tree. */
  filter?: string
  collapsed?: ReadonlySet<string>
}

function sortValue(s: CgroupStats, key: SortKey): number {
  switch (key) {
    case 'cpu':
      return s.cpuPercent ?? -1
    case 'memory':
      return s.memoryBytes ?? -1
    case 'io':
      return (s.ioReadBytesPerSec ?? 0) + (s.ioWriteBytesPerSec ?? 0) - (s.ioReadBytesPerSec === null && s.ioWriteBytesPerSec === null ? 1 : 0)
    case 'pids':
      return s.tasks ?? s.pidsCurrent ?? -1
    case 'name':
      return 0
  }
}

export function compareBy(key: SortKey): (a: CgroupStats, b: CgroupStats) => number {
  return (a, b) => {
    if (key !== 'name') {
      const d = sortValue(b, key) - sortValue(a, key)
      if (d !== 0) return d
    }
    return a.path < b.path ? -1 : a.path > b.path ? 1 : 0
  }
}

export function nextSortKey(key: SortKey): SortKey {
  return SORT_KEYS[(SORT_KEYS.indexOf(key) + 1) % SORT_KEYS.length]
}

export function arrange(stats: CgroupStats[], opts: ArrangeOptions): ArrangedRow[] {
  const cmp = compareBy(opts.sort)
  const needle = opts.filter?.toLowerCase()
  const matches = (s: CgroupStats) => needle === undefined || needle === '' || s.path.toLowerCase().includes(needle)
  if (opts.flat) {
    return stats
      .filter(matches)
      .sort(cmp)
      .map((s) => ({stats: s, depth: 0, hasChildren: false, collapsed: false}))
  }
  const byPath = new Map(stats.map((s) => [s.path, s]))
  const children = new Map<string, CgroupStats[]>()
  const roots: CgroupStats[] = []
  for (const s of stats) {
    const p = parentRel(s.path)
    if (p !== undefined && byPath.has(p)) {
      let list = children.get(p)
      if (!list) children.set(p, (list = []))
      list.push(s)
    } else roots.push(s)
  }
  let visible: Set<string> | undefined
  if (needle) {
    visible = new Set()
    for (const s of stats) {
      if (!matches(s)) continue
      for (let p: string | undefined = s.path; p !== undefined && !visible.has(p); p = parentRel(p)) visible.add(p)
    }
  }
  const out: ArrangedRow[] = []
  const walk = (s: CgroupStats, depth: number) => {
    if (visible && !visible.has(s.path)) return
    const kids = children.get(s.path) ?? []
    // While filtering, everything that matches is shown, collapsed or not.
    const collapsed = !visible && (opts.collapsed?.has(s.path) ?? false)
    out.push({stats: s, depth, hasChildren: kids.length > 0, collapsed})
    if (collapsed) return
    for (const k of kids.sort(cmp)) walk(k, depth + 1)
  }
  for (const r of roots.sort(cmp)) walk(r, 0)
  return out
}
