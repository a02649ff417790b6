import {FSWatcher, readdirSync, statSync, watch} from 'node:fs'
import {Hierarchy, dirOf} from './sources.js'

interface DirNode {
  rel: string
  dir: string
  ino: number
  /** Link count when last listed: on cgroupfs (and most filesystems) 2 + subdirectories. */
  nlink: number
  children: Set<string>
  watcher?: FSWatcher
}

export interface TreeChange {
  added: string[]
  removed: string[]
}

export interface WatchOptions {
  /** Watch directories with inotify (mkdir and rmdir on cgroupfs raise events). */
  inotify?: boolean
  /**
   * With inotify, still check every directory by stat once in this many refreshes (120):
   * a safety net for an event lost to a full inotify queue, which Node does not report.
   * With thousands of cgroups a sweep costs as much as a dozen refreshes.
   */
  verifyEvery?: number
}

/**
 * The cgroup directories of one hierarchy below a base path, kept up to date without
 * re-walking unchanged directories. Each directory is watched with inotify, so a refresh
 * lists again only the directories that saw a child made or removed; where inotify is not
 * available, each directory is stat()ed and listed again when its link count (which counts
 * subdirectories) or its inode changed. A re-created cgroup has a new inode: it is reported
 * as removed and added, so its counters start afresh.
 */
export class HierarchyWatch {
  readonly nodes = new Map<string, DirNode>()
  private readonly dirty = new Set<string>()
  private polling: boolean
  /** Watches are set up by watch(), after the first screen: until then, refreshes stat. */
  private armed = false
  private refreshes = 0
  private readonly verifyEvery: number

  constructor(
    readonly hierarchy: Hierarchy,
    readonly base = '/',
    opts: WatchOptions = {},
  ) {
    this.polling = opts.inotify === false
    this.verifyEvery = opts.verifyEvery ?? 120
  }

  inodeOf(rel: string): number | undefined {
    return this.nodes.get(rel)?.ino
  }

  has(rel: string): boolean {
    return this.nodes.has(rel)
  }

  /** True when directories are stat()ed every refresh (inotify unavailable or turned off). */
  get isPolling(): boolean {
    return this.polling
  }

  refresh(): TreeChange {
    const change: TreeChange = {added: [], removed: []}
    this.refreshes++
    if (this.nodes.size === 0) {
      this.scan(this.base, change)
    } else if (this.polling || !this.armed || this.refreshes % this.verifyEvery === 0) {
      this.statAll(change)
    } else if (this.dirty.size > 0) {
      const dirty = [...this.dirty]
      this.dirty.clear()
      for (const rel of dirty) {
        const node = this.nodes.get(rel)
        if (node) this.check(node, change, true)
      }
    }
    this.dirty.clear()
    return change
  }

  close(): void {
    for (const n of this.nodes.values()) n.watcher?.close()
  }

  /**
   * Start watching every directory with inotify. Separate from the first scan, which must be
   * quick: a dashboard draws its first screen before setting up thousands of watches. The
   * refresh after this one still checks every directory by stat, to catch what changed before.
   */
  watch(): void {
    if (this.armed || this.polling) return
    this.armed = true
    for (const n of this.nodes.values()) {
      this.watchNode(n)
      if (this.polling) break
    }
    this.refreshes = -1 // the next refresh is a stat sweep
  }

  /** Every directory, parents before children (insertion order). */
  private statAll(change: TreeChange): void {
    for (const node of [...this.nodes.values()]) {
      if (this.nodes.has(node.rel)) this.check(node, change, false)
    }
  }

  /** Compare a directory with what we know; list it again if it changed (or if `force`). */
  private check(node: DirNode, change: TreeChange, force: boolean): void {
    const st = statSync(node.dir, {throwIfNoEntry: false})
    if (st === undefined || !st.isDirectory()) {
      this.drop(node.rel, change)
      // A sibling made in the same interval leaves the parent's link count unchanged:
      // list the parent again to find it.
      const parent = parentRel(node.rel)
      const pn = parent === undefined ? undefined : this.nodes.get(parent)
      if (pn) this.relist(pn, pn.nlink, change, false)
      return
    }
    if (st.ino !== node.ino) {
      this.drop(node.rel, change)
      this.scan(node.rel, change)
      return
    }
    // Filesystems that do not count subdirectories (nlink 1) are listed every time.
    if (force || st.nlink !== node.nlink || st.nlink < 2) this.relist(node, st.nlink, change, force)
  }

  private scan(rel: string, change: TreeChange): void {
    const dir = dirOf(this.hierarchy, rel)
    const st = statSync(dir, {throwIfNoEntry: false})
    if (st === undefined || !st.isDirectory()) return
    const node: DirNode = {rel, dir, ino: st.ino, nlink: -1, children: new Set()}
    this.nodes.set(rel, node)
    change.added.push(rel)
    this.watchNode(node)
    this.relist(node, st.nlink, change, false)
  }

  private watchNode(node: DirNode): void {
    if (this.polling || !this.armed || node.watcher) return
    try {
      // Not persistent: watching must never keep the process alive.
      node.watcher = watch(node.dir, {persistent: false}, (event) => {
        if (event === 'rename') this.dirty.add(node.rel)
      })
      node.watcher.on('error', () => {
        // The directory itself went away: its parent's listing will tell.
        node.watcher?.close()
        node.watcher = undefined
        const parent = parentRel(node.rel)
        if (parent !== undefined) this.dirty.add(parent)
      })
    } catch {
      // Out of inotify watches, or a filesystem without inotify: fall back to polling.
      this.polling = true
    }
  }

  /**
   * List a directory and diff its subdirectories with what we know. With `verifyChildren`
   * (after an inotify event), children still listed are stat()ed too: one removed and
   * made again under the same name has a new inode.
   */
  private relist(node: DirNode, nlink: number, change: TreeChange, verifyChildren: boolean): void {
    node.nlink = nlink
    // A link count of exactly 2 means no subdirectories: most cgroups are leaves, and
    // listing their dozens of control files would be most of the cost of a scan.
    if (nlink === 2 && node.children.size === 0) return
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
      const rel = childRel(node.rel, e.name)
      if (!node.children.has(e.name)) {
        node.children.add(e.name)
        this.scan(rel, change)
      } else if (verifyChildren) {
        const child = this.nodes.get(rel)
        const st = statSync(`${node.dir}/${e.name}`, {throwIfNoEntry: false})
        if (child && st && st.ino !== child.ino) {
          this.drop(rel, change)
          this.scan(rel, change)
        }
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
    node.watcher?.close()
    this.nodes.delete(rel)
    this.dirty.delete(rel)
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
