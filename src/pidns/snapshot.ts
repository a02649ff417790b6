import {AccessLog, PROC_ROOT, readLink, readText} from '../proc/fs.js'
import {ProcStatus, listPids, listTasks, readStatus} from '../proc/process.js'
import {readNsLinks, NsLinks} from '../ns/links.js'
import {parseNsLink} from '../ns/types.js'

/**
 * One pass over /proc for the process tree: each process's status is read once; namespace
 * links, command lines and threads only for the processes that end up displayed, since
 * a subtree is usually a small part of the host.
 */
export interface ProcessEntry {
  pid: number
  status: ProcStatus
}

export interface ThreadEntry {
  tid: number
  /** tid in each pid namespace, outermost first. */
  nstid: number[]
  name: string
}

export class ProcSnapshot {
  readonly processes = new Map<number, ProcessEntry>()
  readonly children = new Map<number, number[]>()
  /** Kernel threads are not in processes, but their pids tell usermode helpers from orphans. */
  readonly kernelThreads = new Set<number>()
  readonly log: AccessLog
  readonly root: string
  private readonly links = new Map<number, NsLinks | null>()
  private readonly pidNs = new Map<number, number | null>()
  private readonly deniedPids = new Set<number>()

  constructor(root = PROC_ROOT, log = new AccessLog()) {
    this.root = root
    this.log = log
  }

  /** Read every user-space process (kernel threads are left out: they all sit in the initial namespaces). */
  static read(root = PROC_ROOT, log = new AccessLog()): ProcSnapshot {
    const snap = new ProcSnapshot(root, log)
    for (const pid of listPids(log, root)) {
      const status = readStatus(pid, log, root)
      if (status === undefined) continue
      if (status.kernelThread) {
        snap.kernelThreads.add(pid)
        continue
      }
      snap.processes.set(pid, {pid, status})
    }
    for (const {pid, status} of snap.processes.values()) {
      if (!snap.processes.has(status.ppid)) continue
      const list = snap.children.get(status.ppid)
      if (list) list.push(pid)
      else snap.children.set(status.ppid, [pid])
    }
    // listPids is ascending, so every children list already is too.
    return snap
  }

  childrenOf(pid: number): number[] {
    return this.children.get(pid) ?? []
  }

  /** All namespace inodes of a process; undefined when it is gone or its links are unreadable. */
  nsLinks(pid: number): NsLinks | undefined {
    let links = this.links.get(pid)
    if (links === undefined) {
      const local = new AccessLog()
      links = readNsLinks(`${this.root}/${pid}`, local) ?? null
      if (local.total > 0) this.deny(pid)
      this.links.set(pid, links)
    }
    return links ?? undefined
  }

  /** The pid namespace inode alone: one readlink, for filtering the whole host by namespace. */
  pidNsOf(pid: number): number | undefined {
    const cached = this.links.get(pid)
    if (cached) return cached.pid
    let inode = this.pidNs.get(pid)
    if (inode === undefined) {
      const local = new AccessLog()
      const link = readLink(`${this.root}/${pid}/ns/pid`, local)
      if (local.total > 0) this.deny(pid)
      inode = (link === undefined ? undefined : parseNsLink(link)?.inode) ?? null
      this.pidNs.set(pid, inode)
    }
    return inode ?? undefined
  }

  /** True when the caller may not read this process's namespace links (another user's process). */
  denied(pid: number): boolean {
    return this.deniedPids.has(pid)
  }

  // One count per process, not per link, so the summary line speaks of processes.
  private deny(pid: number): void {
    if (this.deniedPids.has(pid)) return
    this.deniedPids.add(pid)
    this.log.record('/proc/PID/ns directories')
  }

  /** argv, split on NULs; undefined for a process that is gone (zombies have an empty one). */
  args(pid: number): string[] | undefined {
    const raw = readText(`${this.root}/${pid}/cmdline`, this.log, 'command lines')
    if (raw === undefined) return undefined
    const parts = raw.split('\0')
    if (parts[parts.length - 1] === '') parts.pop()
    return parts
  }

  /** The threads of a process other than its main thread, with their in-namespace tids. */
  threads(pid: number): ThreadEntry[] {
    const out: ThreadEntry[] = []
    for (const tid of listTasks(pid, this.log, this.root)) {
      if (tid === pid) continue
      const st = readStatus(tid, this.log, `${this.root}/${pid}/task`)
      if (st === undefined) continue
      out.push({tid, nstid: st.nspid, name: st.name})
    }
    return out
  }
}
