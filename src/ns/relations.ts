import {closeSync, constants, fstatSync, openSync, statSync} from 'node:fs'
import {NS_GET_PARENT, NS_GET_USERNS, nsGetOwnerUid, nsRelated, socketNetnsFd} from '../ffi/libc.js'
import {PROC_ROOT} from '../proc/fs.js'
import type {NamespaceRecord, NsHolder, NsIndex, NsRecord} from './records.js'
import {HIERARCHICAL} from './types.js'

/**
 * Parents (NS_GET_PARENT, pid and user namespaces) and owners (NS_GET_USERNS) of the
 * namespaces the scan found. A parent or owner that no process, thread, fd or mount
 * holds is still alive, because its child or owned namespace pins it: such a "ghost"
 * is added to the listing, held only as the parent/owner of what pins it.
 */

/** An open namespace: its inode, and its relatives opened from it. */
export interface NsHandle {
  readonly inode: number
  parent(): NsHandle | undefined
  owner(): NsHandle | undefined
  /** For a user namespace: the uid that created it (NS_GET_OWNER_UID); undefined otherwise or unknown. */
  creatorUid?(): number | undefined
  close(): void
}

/** Where relations come from: the kernel (ioctls), or a table in tests. */
export interface RelationSource {
  /** Open the namespace through one of its holders; undefined when none can be opened now. */
  open(record: NsRecord): NsHandle | undefined
}

class FdHandle implements NsHandle {
  constructor(
    readonly fd: number,
    readonly inode: number,
  ) {}

  private related(request: number): NsHandle | undefined {
    // EPERM: the relative lies outside our user namespace (or is the initial one); ENOTTY/EINVAL: none.
    const r = nsRelated(this.fd, request)
    if (r.fd === undefined) return undefined
    try {
      return new FdHandle(r.fd, fstatSync(r.fd).ino)
    } catch {
      closeSync(r.fd)
      return undefined
    }
  }

  parent(): NsHandle | undefined {
    return this.related(NS_GET_PARENT)
  }

  owner(): NsHandle | undefined {
    return this.related(NS_GET_USERNS)
  }

  creatorUid(): number | undefined {
    try {
      return nsGetOwnerUid(this.fd)
    } catch {
      return undefined // not a user namespace
    }
  }

  close(): void {
    closeSync(this.fd)
  }
}

/** The path through which a holder reaches its namespace, for open(2). */
export function holderPath(h: NsHolder, type: string, root = PROC_ROOT): string | undefined {
  switch (h.kind) {
    case 'process':
      return `${root}/${h.pid}/ns/${type}`
    case 'thread':
      return `${root}/${h.pid}/task/${h.tid}/ns/${type}`
    case 'fd':
      return `${root}/${h.pid}/fd/${h.fd}`
    case 'for-children':
      return `${root}/${h.pid}/ns/${type}_for_children`
    case 'bind-mount':
      // Through the holding mount namespace's root, which is right from any mount namespace.
      return h.mountPid === undefined ? h.path : `${root}/${h.mountPid}/root${h.path}`
    default:
      return undefined
  }
}

/**
 * How a holder's path is opened. /proc/PID/fd/N and a mount point are the holder's to change
 * between the scan and the open: a FIFO there must not block nsx (O_NONBLOCK), nor a terminal
 * become its controlling one (O_NOCTTY). libuv adds O_CLOEXEC itself.
 */
export const HOLDER_OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY

/** The device of the nsfs filesystem: every namespace file is on it. undefined when /proc/self/ns cannot be read. */
let nsfsDev: number | null | undefined
function isNsfs(dev: number): boolean {
  if (nsfsDev === undefined) {
    try {
      nsfsDev = statSync('/proc/self/ns/user').dev
    } catch {
      nsfsDev = null
    }
  }
  return nsfsDev === null || dev === nsfsDev
}

/**
 * An fd on the namespace, opened through one of its holders (processes first), checked to be
 * the same nsfs inode: a pid reused since the scan would name another namespace, and a file
 * that replaced an fd or mount since then must not get a namespace ioctl. Close it yourself.
 */
export function openNamespaceFd(record: NamespaceRecord, root = PROC_ROOT): number | undefined {
  const tryPath = (path: string | undefined): number | undefined => {
    if (path === undefined) return undefined
    let fd: number
    try {
      fd = openSync(path, HOLDER_OPEN_FLAGS)
    } catch {
      return undefined // gone since the scan, or not allowed: try the next holder
    }
    try {
      const st = fstatSync(fd)
      if (st.ino === record.inode && isNsfs(st.dev)) return fd
    } catch {
      // fall through to close
    }
    closeSync(fd)
    return undefined
  }
  for (const pid of record.pids) {
    const fd = tryPath(`${root}/${pid}/ns/${record.type}`)
    if (fd !== undefined) return fd
  }
  for (const h of record.holders) {
    if (h.kind === 'process') continue
    if (h.kind === 'socket') {
      // No path reaches it: ask the socket again (a copy of it, through the process's pidfd).
      const fd = socketNetnsFd(h.pid, h.fd)
      if (fd < 0) continue
      if (sameInode(fd, record.inode)) return fd
      closeSync(fd)
      continue
    }
    const fd = tryPath(holderPath(h, record.type, root))
    if (fd !== undefined) return fd
  }
  return undefined
}

function sameInode(fd: number, inode: number): boolean {
  try {
    return fstatSync(fd).ino === inode
  } catch {
    return false
  }
}

/** Relations from the kernel: open a holder's path, then ioctl. */
export function kernelRelations(root = PROC_ROOT): RelationSource {
  return {
    open(record: NsRecord): NsHandle | undefined {
      const fd = openNamespaceFd(record, root)
      return fd === undefined ? undefined : new FdHandle(fd, record.inode)
    },
  }
}

/** Held only as a parent or owner: the relation is then what keeps it, and is listed. */
function isGhost(r: NsRecord): boolean {
  return r.pids.length === 0 && r.others.every((h) => h.kind === 'parent' || h.kind === 'owner')
}

export function resolveRelations(index: NsIndex, source: RelationSource): void {
  const done = new Set<number>()

  const relate = (r: NsRecord, kind: 'parent' | 'owner', rel: NsHandle | undefined): void => {
    if (rel === undefined) return
    if (kind === 'parent') r.parent = rel.inode
    else r.owner = rel.inode
    const type = kind === 'owner' ? 'user' : r.type
    let other = index.byInode.get(rel.inode)
    if (other === undefined && index.wanted.has(type)) other = index.record(type, rel.inode)
    if (other !== undefined && isGhost(other)) {
      if (!other.others.some((x) => x.kind === kind && x.of === r.inode)) other.others.push({kind, of: r.inode})
      // A ghost is reachable only through this handle: follow its own relations now.
      if (!done.has(other.inode)) {
        visit(other, rel)
        return
      }
    }
    rel.close()
  }

  const visit = (r: NsRecord, h: NsHandle): void => {
    done.add(r.inode)
    // No process to show a user for: the creator of the namespace's owner (lsns's fallback).
    const needUid = r.pids.length === 0
    try {
      if (r.type === 'user') {
        if (needUid) r.ownerUid = h.creatorUid?.()
        // A user namespace's owner is its parent: one ioctl, one holder kind.
        const p = h.parent()
        if (p !== undefined) r.owner = p.inode
        relate(r, 'parent', p)
      } else {
        const owner = h.owner()
        if (needUid && owner !== undefined) r.ownerUid = owner.creatorUid?.()
        relate(r, 'owner', owner)
        if (HIERARCHICAL.includes(r.type)) relate(r, 'parent', h.parent())
      }
    } finally {
      h.close()
    }
  }

  // Snapshot: ghosts added on the way are visited through the handle that found them.
  for (const r of [...index.byInode.values()]) {
    if (done.has(r.inode)) continue
    const h = source.open(r)
    if (h === undefined) continue
    visit(r, h)
  }
}
