import {readlinkSync, statSync} from 'node:fs'
import {PROC_ROOT, readProcFile} from '../proc/fs.js'
import {netAddresses} from './net-addresses.js'
import {userName} from '../proc/users.js'
import {Discovery, NamespaceRecord, NsHolder, NsRecord} from './records.js'
import type {NamespaceFields} from './json-output.js'
import {holderPath} from './relations.js'
import type {NsType} from './types.js'

/**
 * One line of `nsx ls`: a namespace, its representative process (the lowest pid in it,
 * as lsns picks), and what holds it. Fields lsns would leave empty stay undefined.
 */
export interface ListedNamespace {
  ns: number
  type: NsType
  /** A path that opens it: /proc/PID/ns/TYPE of the representative, else a thread, fd or mount. */
  path?: string
  nprocs: number
  pid?: number
  ppid?: number
  command?: string
  uid?: number
  user?: string
  /** nsid of a net namespace as seen from nsx's own (RTM_GETNSID); null when none is assigned. */
  netnsid?: number | null
  /** A net namespace's addresses (IPv4, global IPv6; no loopback), when asked for and a process of it is readable. */
  addresses?: string[]
  /** nsfs mount points (bind mounts) of this namespace. */
  nsfs: string[]
  pns?: number
  ons?: number
  /** Processes in it, ascending. */
  pids: number[]
  /** What else holds it: threads, fds, bind mounts, parent/owner relations (processes are in pids). */
  holders: NsHolder[]
}

/** What a process says of itself, read once per representative. */
export interface ProcessFacts {
  ppid?: number
  command?: string
  uid?: number
}

/**
 * PPID from stat, UID as the owner of /proc/PID (what lsns shows: it stats that directory),
 * and the command line with NULs as spaces, or the bare comm for kernel threads (as lsns).
 */
export function readProcessFacts(pid: number, root = PROC_ROOT): ProcessFacts | undefined {
  const facts: ProcessFacts = {}
  try {
    const stat = readProcFile(`${root}/${pid}/stat`)
    const close = stat.lastIndexOf(')')
    const rest = stat.slice(close + 2)
    const sp = rest.indexOf(' ')
    facts.ppid = Number(rest.slice(sp + 1, rest.indexOf(' ', sp + 1)))
    facts.uid = statSync(`${root}/${pid}`).uid
    const cmdline = readProcFile(`${root}/${pid}/cmdline`, 'utf8')
    facts.command =
      cmdline.length > 0
        ? cmdline.replace(/\0+$/, '').replace(/\0/g, ' ')
        : stat.slice(stat.indexOf('(') + 1, close)
  } catch {
    // Exited since the scan: the row keeps its pid and counts, without these facts.
    return facts.ppid === undefined ? undefined : facts
  }
  return facts
}

export interface ListOptions {
  procRoot?: string
  /** Only namespaces this process holds (as a process, a thread or an fd), like lsns -p. */
  pid?: number
  /** Only the namespace with this inode (lsns's <namespace> argument). */
  inode?: number
  /** nsid of a net namespace, when the caller can ask the kernel for it. */
  netnsid?: (record: NamespaceRecord) => number | null | undefined
  /** Read representatives' ppid/command/uid (skip when no column needs them). */
  facts?: boolean
  /** Read net namespaces' addresses (skip when no column needs them). */
  addresses?: boolean
}

/** Holders other than processes, without building one object per process when the scan kept them apart. */
function otherHolders(record: NamespaceRecord): NsHolder[] {
  return record instanceof NsRecord ? record.others : record.holders.filter((h) => h.kind !== 'process')
}

export function holdsNamespace(record: NamespaceRecord, pid: number): boolean {
  if (record.pids.includes(pid)) return true
  return otherHolders(record).some((h) => (h.kind === 'thread' || h.kind === 'fd' || h.kind === 'for-children') && h.pid === pid)
}

export function listNamespaces(discovery: Discovery, opts: ListOptions = {}): ListedNamespace[] {
  const root = opts.procRoot ?? PROC_ROOT
  const factsCache = new Map<number, ProcessFacts | undefined>()
  const facts = (pid: number) => {
    if (!factsCache.has(pid)) factsCache.set(pid, readProcessFacts(pid, root))
    return factsCache.get(pid)
  }
  let ownMnt: string | undefined
  const mntOf = (pid: number | 'self') => {
    try {
      return readlinkSync(`${root}/${pid}/ns/mnt`)
    } catch {
      return undefined
    }
  }
  const sameMountNs = (pid: number | undefined) => {
    if (pid === undefined) return true
    ownMnt ??= mntOf('self')
    return ownMnt !== undefined && mntOf(pid) === ownMnt
  }
  const out: ListedNamespace[] = []
  for (const r of discovery.namespaces) {
    if (opts.inode !== undefined && r.inode !== opts.inode) continue
    if (opts.pid !== undefined && !holdsNamespace(r, opts.pid)) continue
    const holders = otherHolders(r)
    const nsfs: string[] = []
    for (const h of holders) if (h.kind === 'bind-mount') nsfs.push(h.path)
    const row: ListedNamespace = {ns: r.inode, type: r.type, nprocs: r.pids.length, nsfs, pids: r.pids, holders}
    const pid = r.pids[0]
    if (pid !== undefined) {
      row.pid = pid
      row.path = `${root}/${pid}/ns/${r.type}`
      const f = opts.facts === false ? undefined : facts(pid)
      if (f) {
        row.ppid = f.ppid
        row.command = f.command
        row.uid = f.uid
        if (f.uid !== undefined) row.user = userName(f.uid) ?? String(f.uid)
      }
    } else {
      // No process to ask: the uid of the namespace's owner, as lsns falls back to (NS_GET_OWNER_UID).
      const uid = r instanceof NsRecord ? r.ownerUid : undefined
      if (uid !== undefined && opts.facts !== false) {
        row.uid = uid
        row.user = userName(uid) ?? String(uid)
      }
      // Held without a process: the first holder that has a path (a ghost has none).
      for (const h of holders) {
        const p = holderPath(h, r.type, root)
        if (p !== undefined) {
          // A mount in nsx's own mount namespace opens by its own path; another's, through /proc.
          row.path = h.kind === 'bind-mount' && sameMountNs(h.mountPid) ? h.path : p
          break
        }
      }
    }
    if (r.type === 'net' && opts.netnsid) {
      const id = opts.netnsid(r)
      if (id !== undefined) row.netnsid = id
    }
    if (r.type === 'net' && opts.addresses && row.pid !== undefined) row.addresses = netAddresses(row.pid, root)
    // 0 where there is none (a root namespace, a type without parents) or it cannot be seen, as lsns prints.
    row.pns = r.parent ?? 0
    row.ons = r.owner ?? 0
    out.push(row)
  }
  return out
}

/** HOLDERS: processes counted (entries of kind process, plus `processes` more), everything else named. */
export function describeHolders(holders: readonly NsHolder[], processes = 0, type = 'pid'): string {
  let procs = processes
  const parts: string[] = []
  for (const h of holders) {
    switch (h.kind) {
      case 'process':
        procs++
        break
      case 'thread':
        parts.push(`thread ${h.tid} of ${h.pid}`)
        break
      case 'fd':
        parts.push(`fd ${h.fd} of ${h.pid}`)
        break
      case 'socket':
        parts.push(`socket fd ${h.fd} of ${h.pid}`)
        break
      case 'for-children':
        parts.push(`${type}_for_children of ${h.pid}`)
        break
      case 'bind-mount':
        parts.push(`mount ${h.path}`)
        break
      case 'parent':
        parts.push(`parent of ${h.of}`)
        break
      case 'owner':
        parts.push(`owner of ${h.of}`)
        break
    }
  }
  if (procs > 0) parts.unshift(procs === 1 ? '1 process' : `${procs} processes`)
  return parts.join(', ')
}

/** True when nothing but a relation keeps it: no process, thread, fd or mount. */
export function isGhost(row: ListedNamespace): boolean {
  return row.nprocs === 0 && row.holders.every((h) => h.kind === 'parent' || h.kind === 'owner')
}

/** The --json shape of one namespace: every field present, null when empty (as lsns -J). */
export function toJson(r: ListedNamespace): NamespaceFields {
  return {
    ns: r.ns,
    type: r.type,
    path: r.path ?? null,
    nprocs: r.nprocs,
    pid: r.pid ?? null,
    ppid: r.ppid ?? null,
    command: r.command ?? null,
    uid: r.uid ?? null,
    user: r.user ?? null,
    netnsid: r.netnsid ?? null,
    addresses: r.addresses ?? null,
    nsfs: r.nsfs,
    pns: r.pns ?? null,
    ons: r.ons ?? null,
    pids: r.pids,
    // Processes are in pids: one object per process would make the document ten times larger.
    holders: r.holders,
  }
}

/** PPID from /proc/PID/stat (the field after the state, past a comm that may hold spaces). */
export function readPpid(pid: number, root = PROC_ROOT): number | undefined {
  try {
    const stat = readProcFile(`${root}/${pid}/stat`)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 2)
    const ppid = Number(fields[1])
    return Number.isInteger(ppid) ? ppid : undefined
  } catch {
    return undefined
  }
}
