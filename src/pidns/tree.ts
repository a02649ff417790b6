import {NsxError} from '../cli/errors.js'
import {NS_TYPES, NsType} from '../ns/types.js'
import {userName} from '../proc/users.js'
import type {NsLinks} from '../ns/links.js'
import type {DescribePidNs} from './relations.js'
import type {ProcSnapshot, ThreadEntry} from './snapshot.js'

/**
 * The process tree model: processes with their pids in every pid namespace, and the pid
 * namespaces they live in. Plain data, so `--json` prints it as it is and tests compare it.
 */
export interface ProcessNode {
  /** pid as seen from nsx's own /proc (the host, unless nsx runs in a container). */
  pid: number
  /** pid in each pid namespace, outermost first, as in the NSpid line of /proc/PID/status. */
  nspid: number[]
  ppid: number
  /** comm: the name the kernel keeps (at most 15 characters). */
  name: string
  /** R, S, D, Z (zombie), T, ... */
  state: string
  uid: number
  user: string | null
  /** Inode of the pid namespace; null when its link is not readable. */
  pidns: number | null
  /** Depth of that namespace below nsx's own (0 = nsx's own). */
  level: number
  /** Inodes of all the process's namespaces; null when they are not readable. */
  ns: NsLinks | null
  /** Namespace types that differ from the parent's (the parent in /proc, also for a subtree's top process). */
  nsChanges: NsType[]
  /** true when the uid differs from the parent's. */
  uidChanged: boolean
  threads: number
  /** argv, when asked for (-a or --json). */
  args?: string[]
  /** The other threads, when asked for (--threads). */
  threadList?: ThreadEntry[]
  children: ProcessNode[]
}

export interface PidNamespace {
  inode: number | null
  level: number
  /** Parent pid namespace: from NS_GET_PARENT, else inferred from the process tree. */
  parent: number | null
  /** Owning user namespace and its owner uid, from NS_GET_USERNS / NS_GET_OWNER_UID. */
  owner: {inode: number; uid: number | null} | null
  /** Host pid of the namespace's init (its pid 1), when that process is in view. */
  init: number | null
  /** How many of the shown processes live in it. */
  processes: number
}

export interface ProcessTree {
  namespaces: PidNamespace[]
  processes: ProcessNode[]
}

export interface TreeOptions {
  /** Show this process's subtree; default: every top-level user-space process (pid 1 first). */
  pid?: number
  /** Show the processes of this pid namespace (and what they started). */
  ns?: number
  /** With pid: show the ancestors too, as pstree -s does. */
  showParents?: boolean
  args?: boolean
  threads?: boolean
  describe?: DescribePidNs
}

/** Build the tree to show from a snapshot of /proc. Throws NsxError for a pid or namespace not there. */
export function buildTree(snap: ProcSnapshot, opts: TreeOptions = {}): ProcessTree {
  const builder = new Builder(snap, opts)
  return builder.build()
}

class Builder {
  private readonly namespaces = new Map<string, PidNamespace>()
  /** With -s: ancestor -> the one child on the way down to the chosen process. */
  private pathTo: Map<number, number> | undefined
  private readonly attempts = new Map<string, number>()
  private readonly visited = new Set<number>()
  private readonly keys = new Map<ProcessNode, string>()

  constructor(
    private readonly snap: ProcSnapshot,
    private readonly opts: TreeOptions,
  ) {}

  build(): ProcessTree {
    const processes = this.roots().map((pid) => this.node(pid))
    for (const r of processes) inferPidNs(r)
    for (const r of processes) this.registerAll(r, undefined)
    return {namespaces: [...this.namespaces.values()], processes}
  }

  /** The top processes, ascending. */
  private roots(): number[] {
    const {snap, opts} = this
    if (opts.pid !== undefined) {
      if (!snap.processes.has(opts.pid)) throw new NsxError(`no such process: ${opts.pid}`)
      if (!opts.showParents) return [opts.pid]
      // Walk up to the top; each ancestor is shown with just the child on the path.
      let child = opts.pid
      let parent = snap.processes.get(child)!.status.ppid
      const seen = new Set([child])
      while (snap.processes.has(parent) && !seen.has(parent)) {
        seen.add(parent)
        child = parent
        parent = snap.processes.get(child)!.status.ppid
      }
      this.pathTo = pathFrom(snap, child, opts.pid)
      return [child]
    }
    if (opts.ns !== undefined) return this.namespaceRoots(opts.ns)
    const out: number[] = []
    for (const {pid, status} of snap.processes.values()) {
      // Children of kernel threads (usermode helpers) belong to kthreadd's tree, hidden as pstree hides it.
      if (!snap.processes.has(status.ppid) && !snap.kernelThreads.has(status.ppid)) out.push(pid)
    }
    return out
  }

  private namespaceRoots(ns: number): number[] {
    const {snap} = this
    const known = new Set<number>()
    const members: number[] = []
    for (const pid of snap.processes.keys()) {
      const inode = snap.pidNsOf(pid)
      if (inode === undefined) continue
      known.add(inode)
      if (inode === ns) members.push(pid)
    }
    if (members.length === 0) {
      // A busy host has hundreds: name a dozen, and count the rest.
      const sorted = [...known].sort((a, b) => a - b)
      const list = sorted.slice(0, 12).join(', ') + (sorted.length > 12 ? `, and ${sorted.length - 12} more` : '')
      const other = otherTypeOf(snap, ns)
      const what = other ? `${ns} is a ${other} namespace, not a pid namespace` : `no process lives in pid namespace ${ns}`
      throw new NsxError(`${what}${known.size > 0 ? ` (pid namespaces: ${list})` : ''}`)
    }
    // Its top processes: the init, and any process joined from outside (nsenter) whose parent is elsewhere.
    const tops = members.filter((pid) => snap.pidNsOf(snap.processes.get(pid)!.status.ppid) !== ns)
    // A member below an unreadable process is already in the subtree of a top above that one.
    const topSet = new Set(tops)
    return tops.filter((pid) => !hasAncestorIn(snap, pid, topSet))
  }

  private node(pid: number, parent?: ProcessNode): ProcessNode {
    const {snap, opts} = this
    this.visited.add(pid)
    const status = snap.processes.get(pid)!.status
    const ns = snap.nsLinks(pid) ?? null
    const level = status.nspid.length - 1
    // The reference for "what changed" is the real parent, so a subtree's top process says how it differs too.
    const parentPid = status.ppid
    const parentStatus = snap.processes.get(parentPid)?.status
    const parentNs = parent?.ns ?? (parentStatus ? snap.nsLinks(parentPid) ?? null : null)
    const node: ProcessNode = {
      pid,
      nspid: status.nspid,
      ppid: status.ppid,
      name: status.name,
      state: status.state,
      uid: status.uid[0],
      user: userName(status.uid[0]) ?? null,
      pidns: ns?.pid ?? null,
      level,
      ns,
      nsChanges: ns && parentNs ? NS_TYPES.filter((t) => ns[t] !== undefined && parentNs[t] !== undefined && ns[t] !== parentNs[t]) : [],
      uidChanged: parentStatus !== undefined && parentStatus.uid[0] !== status.uid[0],
      threads: status.threads,
      children: [],
    }
    if (opts.args) node.args = snap.args(pid) ?? []
    if (opts.threads) node.threadList = snap.threads(pid)
    const only = this.pathTo?.get(pid)
    const kids = only !== undefined ? [only] : snap.childrenOf(pid)
    for (const c of kids) {
      // /proc is read over time: a reused pid could close a loop, which must not recurse forever.
      if (snap.processes.has(c) && !this.visited.has(c)) node.children.push(this.node(c, node))
    }
    return node
  }

  private registerAll(node: ProcessNode, parent: ProcessNode | undefined): void {
    this.register(node, parent)
    for (const c of node.children) this.registerAll(c, node)
  }

  /** For a top process (subtree, --ns): the namespace of the nearest real ancestor one level up. */
  private outerParentNs(node: ProcessNode): number | null {
    let pid = node.ppid
    for (let hops = 0; hops < 4096; hops++) {
      const status = this.snap.processes.get(pid)?.status
      if (!status) return null
      const level = status.nspid.length - 1
      if (level === node.level - 1) return this.snap.pidNsOf(pid) ?? null
      // Below the namespace's own processes there is only a jump (setns) of several levels: unknown.
      if (level !== node.level) return null
      pid = status.ppid
    }
    return null
  }

  private register(node: ProcessNode, parent: ProcessNode | undefined): void {
    // An unreadable namespace continues down from a parent at the same level, else starts a new one.
    const key =
      node.pidns !== null
        ? String(node.pidns)
        : parent && parent.pidns === null && parent.level === node.level
          ? this.keys.get(parent)!
          : `? ${node.pid}`
    this.keys.set(node, key)
    let ns = this.namespaces.get(key)
    if (!ns) {
      // Without the ioctl, a parent one level up in the process tree is the parent namespace:
      // a child's pid namespace is always its parent's or a descendant of it.
      const inferred = parent ? (parent.level === node.level - 1 ? parent.pidns : null) : this.outerParentNs(node)
      ns = {inode: node.pidns, level: node.level, parent: inferred, owner: null, init: null, processes: 0}
      this.namespaces.set(key, ns)
      this.attempts.set(key, 0)
    }
    // Ask the kernel through this process, unless an earlier member already answered; a few
    // tries only, as a protected process (EACCES) is usually not the only one in its namespace.
    const tries = this.attempts.get(key) ?? 0
    if (node.pidns !== null && ns.owner === null && tries < 4 && this.opts.describe) {
      this.attempts.set(key, tries + 1)
      const rel = this.opts.describe(node.pid, node.pidns)
      if (rel.owner) ns.owner = {inode: rel.owner.inode, uid: rel.owner.uid ?? null}
      if (rel.parent !== undefined) ns.parent = rel.parent
    }
    ns.processes++
    if (node.nspid[node.nspid.length - 1] === 1) ns.init = node.pid
  }
}

/**
 * Fill in the pid namespace of processes whose links are unreadable (another user's, or a
 * protected init) from a parent or child at the same level: a child lives in its parent's
 * pid namespace or in a descendant of it, so at the same level it is the same namespace.
 */
export function inferPidNs(root: ProcessNode): void {
  const up = (n: ProcessNode): void => {
    for (const c of n.children) {
      up(c)
      if (n.pidns === null && c.pidns !== null && c.level === n.level) n.pidns = c.pidns
    }
  }
  const down = (n: ProcessNode): void => {
    for (const c of n.children) {
      if (c.pidns === null && n.pidns !== null && c.level === n.level) c.pidns = n.pidns
      down(c)
    }
  }
  up(root)
  down(root)
}

function hasAncestorIn(snap: ProcSnapshot, pid: number, set: Set<number>): boolean {
  const seen = new Set([pid])
  let cur = snap.processes.get(pid)?.status.ppid
  while (cur !== undefined && snap.processes.has(cur) && !seen.has(cur)) {
    if (set.has(cur)) return true
    seen.add(cur)
    cur = snap.processes.get(cur)?.status.ppid
  }
  return false
}

/** child -> next pid on the way from top down to target. */
function pathFrom(snap: ProcSnapshot, top: number, target: number): Map<number, number> {
  const path = new Map<number, number>()
  let cur = target
  while (cur !== top) {
    const parent = snap.processes.get(cur)!.status.ppid
    path.set(parent, cur)
    cur = parent
  }
  return path
}

/** For a better error: the type of a namespace that is not a pid one. Reads every link, so only on the error path. */
function otherTypeOf(snap: ProcSnapshot, inode: number): NsType | undefined {
  for (const pid of snap.processes.keys()) {
    const links = snap.nsLinks(pid)
    if (!links) continue
    for (const t of NS_TYPES) if (links[t] === inode) return t
  }
  return undefined
}

/** --ns accepts what lsns prints (4026532201) and what readlink prints (pid:[4026532201]). */
export function parsePidNsArg(arg: string): number {
  const m = /^(\d+)$/.exec(arg) ?? /^([a-z_]+):\[(\d+)\]$/.exec(arg)
  const type = m && m.length === 3 ? m[1] : 'pid'
  const digits = m ? m[m.length - 1] : undefined
  if (type !== 'pid') throw new NsxError(`--ns ${arg} is a ${type} namespace, not a pid namespace`)
  const inode = Number(digits)
  if (digits === undefined || !Number.isSafeInteger(inode) || inode <= 0) {
    throw new NsxError(`invalid pid namespace '${arg}': expected an inode number such as 4026531836, or pid:[4026531836]`)
  }
  return inode
}
