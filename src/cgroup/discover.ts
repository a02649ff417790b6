import {readdirSync, statSync} from 'node:fs'
import {Hierarchy, dirOf} from './sources.js'

interface DirNode {
  rel: string
  dir: string
  ino: number
  /** Link count when last listed: on cgroupfs (and most filesystems) 2 + subdirectories. */
  nlink: number
  children: Set<string>
}

export interface TreeChange {
  added: string[]
  removed: string[]
}

/**
 * The cgroup directories of one hierarchy below a base path, kept up to date without
 * re-listing unchanged directories: a directory is listed again only when its link count
 * (which counts subdirectories) or its inode changed. A re-created cgroup has a new inode,
 * so it is reported as removed and added, and its counters start afresh.
 */
export class HierarchyWatch {
  readonly nodes = new Map<string, DirNode>()

  constructor(
    readonly hierarchy: Hierarchy,
    readonly base = '/',
  ) {}

  inodeOf(rel: string): number | undefined {
    return this.nodes.get(rel)?.ino
  }

  has(rel: string): boolean {
    return this.nodes.has(rel)
  }

  refresh(): TreeChange {
    const change: TreeChange = {added: [], removed: []}
    if (this.nodes.size === 0) {
      this.scan(this.base, change)
      return change
    }
    // Parents before children (insertion order), so a removed parent drops its subtree first.
    for (const node of [...this.nodes.values()]) {
      if (!this.nodes.has(node.rel)) continue
      const st = statSync(node.dir, {throwIfNoEntry: false})
      if (st === undefined || !st.isDirectory()) {
        this.drop(node.rel, change)
        // A sibling made in the same interval leaves the parent's link count unchanged:
        // list the parent again to find it.
        const parent = parentRel(node.rel)
        const pn = parent === undefined ? undefined : this.nodes.get(parent)
        if (pn) this.relist(pn, pn.nlink, change)
        continue
      }
      if (st.ino !== node.ino) {
        this.drop(node.rel, change)
        this.scan(node.rel, change)
        continue
      }
      // Filesystems that do not count subdirectories (nlink 1) are listed every time.
      if (st.nlink !== node.nlink || st.nlink < 2) this.relist(node, st.nlink, change)
    }
    return change
  }

  private scan(rel: string, change: TreeChange): void {
    const dir = dirOf(this.hierarchy, rel)
    const st = statSync(dir, {throwIfNoEntry: false})
    if (st === undefined || !st.isDirectory()) return
    const node: DirNode = {rel, dir, ino: st.ino, nlink: -1, children: new Set()}
    this.nodes.set(rel, node)
    change.added.push(rel)
    this.relist(node, st.nlink, change)
  }

  private relist(node: DirNode, nlink: number, change: TreeChange): void {
    node.nlink = nlink
    let entries
    try {
      entries = readdirSync(node.dir, {withFileTypes: true})
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENODEV') {
        this.drop(node.rel, change)
        return
      }
      if (code === 'EACCES' || code === 'EPERM') return
      throw err
    }
    const seen = new Set<string>()
    for (const e of entries) {
      if (!e.isDirectory()) continue
      seen.add(e.name)
      if (!node.children.has(e.name)) {
        node.children.add(e.name)
        this.scan(childRel(node.rel, e.name), change)
      }
    }
    for (const name of [...node.children]) {
      if (!seen.has(name)) {
        node.children.delete(name)
        this.drop(childRel(node.rel, name), change)
      }
    }
  }

  private drop(rel: string, change: TreeChange): void {
    const node = this.nodes.get(rel)
    if (!node) return
    for (const c of node.children) this.drop(childRel(rel, c), change)
    this.nodes.delete(rel)
    change.removed.push(rel)
  }
}

export function childRel(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`
}

export function parentRel(rel: string): string | undefined {
  if (rel === '/') return undefined
  const i = rel.lastIndexOf('/')
  return i <= 0 ? '/' : rel.slice(0, i)
}
