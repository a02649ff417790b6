import {parentRel} from './discover.js'
import {CgroupStats} from './rates.js'
import {SORT_KEYS, SortKey} from './snapshot.js'

// Orders the rows of `nsx top`: a tree with sorted siblings, or a flat sorted list. The sort
// keys live with the snapshot (sampling needs them), and are exported here too for callers.

export interface ArrangedRow {
  stats: CgroupStats
  depth: number
  hasChildren: boolean
  collapsed: boolean
}

export interface ArrangeOptions {
  sort: SortKey
  flat?: boolean
  /** Keep rows whose path or container name contains this (case-insensitive), and their ancestors in a tree. */
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
  const matches = (s: CgroupStats) => needle === undefined || needle === '' || s.path.toLowerCase().includes(needle) || (s.unit?.name.toLowerCase().includes(needle) ?? false)
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

/**
 * arrange() for a caller that arranges the same cgroups again every refresh (the dashboard):
 * the tree is built again only when the cgroups change (another set of stats objects, as
 * deriveAll with reuse keeps one object per cgroup), the sibling lists are re-sorted in
 * place, and rows and the result array are reused, so that a refresh allocates next to
 * nothing here. A filter takes arrange() itself. The result is valid until the next call.
 */
export class Arranger {
  private stats: CgroupStats[] = []
  private paths: string[] = []
  private readonly children = new Map<CgroupStats, CgroupStats[]>()
  private roots: CgroupStats[] = []
  private flat: CgroupStats[] = []
  private readonly rowOf = new Map<CgroupStats, ArrangedRow>()
  private readonly out: ArrangedRow[] = []
  private collapsed: ReadonlySet<string> | undefined
  private cmp: (a: CgroupStats, b: CgroupStats) => number = compareBy('name')
  private sortKey: SortKey | undefined

  arrange(stats: readonly CgroupStats[], opts: ArrangeOptions): ArrangedRow[] {
    if (opts.filter) return arrange(stats as CgroupStats[], opts)
    if (!this.sameCgroups(stats)) this.rebuild(stats)
    if (opts.sort !== this.sortKey) {
      this.sortKey = opts.sort
      this.cmp = compareBy(opts.sort)
    }
    const out = this.out
    out.length = 0
    if (opts.flat) {
      sortIfNeeded(this.flat, this.cmp)
      for (let i = 0; i < this.flat.length; i++) out.push(this.row(this.flat[i], 0, false, false))
      return out
    }
    this.collapsed = opts.collapsed
    sortIfNeeded(this.roots, this.cmp)
    for (let i = 0; i < this.roots.length; i++) this.walk(this.roots[i], 0)
    return out
  }

  private walk(s: CgroupStats, depth: number): void {
    const kids = this.children.get(s)
    const collapsed = this.collapsed?.has(s.path) ?? false
    this.out.push(this.row(s, depth, kids !== undefined, collapsed))
    if (collapsed || kids === undefined) return
    sortIfNeeded(kids, this.cmp)
    for (let i = 0; i < kids.length; i++) this.walk(kids[i], depth + 1)
  }

  private row(stats: CgroupStats, depth: number, hasChildren: boolean, collapsed: boolean): ArrangedRow {
    let r = this.rowOf.get(stats)
    if (r === undefined) this.rowOf.set(stats, (r = {stats, depth, hasChildren, collapsed}))
    r.depth = depth
    r.hasChildren = hasChildren
    r.collapsed = collapsed
    return r
  }

  private sameCgroups(stats: readonly CgroupStats[]): boolean {
    if (stats.length !== this.stats.length) return false
    for (let i = 0; i < stats.length; i++) if (stats[i] !== this.stats[i] || stats[i].path !== this.paths[i]) return false
    return true
  }

  private rebuild(stats: readonly CgroupStats[]): void {
    this.stats = stats.slice()
    this.paths = stats.map((s) => s.path)
    this.flat = stats.slice()
    this.children.clear()
    this.rowOf.clear()
    const byPath = new Map(stats.map((s) => [s.path, s]))
    this.roots = []
    for (const s of stats) {
      const p = parentRel(s.path)
      const parent = p === undefined ? undefined : byPath.get(p)
      if (parent === undefined) {
        this.roots.push(s)
        continue
      }
      let list = this.children.get(parent)
      if (!list) this.children.set(parent, (list = []))
      list.push(s)
    }
  }
}

/** Sort in place unless already in order: Array.prototype.sort allocates even then. */
function sortIfNeeded<T>(list: T[], cmp: (a: T, b: T) => number): void {
  for (let i = 1; i < list.length; i++) {
    if (cmp(list[i - 1], list[i]) > 0) {
      list.sort(cmp)
      return
    }
  }
}
