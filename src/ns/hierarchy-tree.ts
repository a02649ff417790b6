import {TreeGlyphs} from '../render/tree.js'
import type {DisplayRow} from './columns.js'
import type {ListedNamespace} from './listing.js'

/**
 * --tree: how rows nest.
 * - parent: pid and user namespaces under their parent (NS_GET_PARENT);
 * - owner: every namespace under the user namespace that owns it;
 * - process: under the namespace of the nearest ancestor process that represents one
 *   (so a container's namespaces sit under the namespaces of what started it); a namespace
 *   with no process sits under the process that holds it by a thread, an fd or as *_for_children.
 */
export const TREE_MODES = ['process', 'parent', 'owner'] as const
export type TreeMode = (typeof TREE_MODES)[number]

function parentIndexes(rows: readonly ListedNamespace[], mode: TreeMode, ppidOf: (pid: number) => number | undefined): number[] {
  const parent = new Array<number>(rows.length).fill(-1)
  if (mode === 'parent' || mode === 'owner') {
    const byNs = new Map<number, number>()
    rows.forEach((r, i) => byNs.set(r.ns, i))
    rows.forEach((r, i) => {
      const up = mode === 'parent' ? r.pns : r.ons
      const j = up === undefined ? undefined : byNs.get(up)
      if (j !== undefined && j !== i) parent[i] = j
    })
    return parent
  }
  // process: rows by their representative pid.
  const byPid = new Map<number, number[]>()
  rows.forEach((r, i) => {
    if (r.pid === undefined) return
    let list = byPid.get(r.pid)
    if (list === undefined) byPid.set(r.pid, (list = []))
    list.push(i)
  })
  const pick = (candidates: number[], type: string) => candidates.find((j) => rows[j].type === type) ?? candidates[0]
  rows.forEach((r, i) => {
    let start: number | undefined
    if (r.pid !== undefined) {
      start = ppidOf(r.pid)
    } else {
      const h = r.holders.find((x) => x.kind === 'fd' || x.kind === 'socket' || x.kind === 'thread' || x.kind === 'for-children')
      start = h && (h.kind === 'fd' || h.kind === 'socket' || h.kind === 'thread' || h.kind === 'for-children') ? h.pid : undefined
    }
    // Walk up until an ancestor represents a row; pid 0 is above init.
    const seen = new Set<number>()
    for (let p = start; p !== undefined && p > 0 && !seen.has(p); p = ppidOf(p)) {
      seen.add(p)
      const candidates = byPid.get(p)
      if (candidates !== undefined) {
        parent[i] = pick(candidates, r.type)
        break
      }
    }
  })
  return parent
}

/** Rows in display order with their tree branches; rows keep their order among siblings. */
export function arrangeTree(
  rows: readonly ListedNamespace[],
  mode: TreeMode,
  glyphs: TreeGlyphs,
  ppidOf: (pid: number) => number | undefined = () => undefined,
): DisplayRow[] {
  const parent = parentIndexes(rows, mode, ppidOf)
  const children = rows.map(() => [] as number[])
  const roots: number[] = []
  parent.forEach((p, i) => (p >= 0 ? children[p].push(i) : roots.push(i)))
  const out: DisplayRow[] = []
  const visited = new Set<number>()
  const walk = (i: number, prefix: string, branch: string) => {
    if (visited.has(i)) return // a relation loop would be a kernel bug, but never loop on it
    visited.add(i)
    out.push({row: rows[i], prefix: prefix + branch})
    const kids = children[i]
    const childPrefix = branch === '' ? prefix : prefix + (branch === glyphs.elbow ? glyphs.blank : glyphs.pipe)
    kids.forEach((k, n) => walk(k, childPrefix, n === kids.length - 1 ? glyphs.elbow : glyphs.tee))
  }
  for (const r of roots) walk(r, '', '')
  // Anything left is in a cycle (cannot happen with kernel data): print it flat rather than lose it.
  rows.forEach((_, i) => {
    if (!visited.has(i)) walk(i, '', '')
  })
  return out
}

export function flatRows(rows: readonly ListedNamespace[]): DisplayRow[] {
  return rows.map((row) => ({row, prefix: ''}))
}
