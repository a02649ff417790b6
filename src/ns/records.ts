import {AccessLog} from '../proc/fs.js'
import type {NsType} from './types.js'

/**
 * The model of what discovery finds: a namespace, what holds it, its parent and owner.
 * discover.ts fills it from /proc, relations.ts adds parents and owners; both import it.
 */

export type NsHolder =
  | {kind: 'process'; pid: number}
  | {kind: 'thread'; pid: number; tid: number}
  | {kind: 'fd'; pid: number; fd: number}
  // a socket of pid's (fd) in this net namespace (SIOCGSKNS), listed only for a namespace nothing else holds
  | {kind: 'socket'; pid: number; fd: number}
  | {kind: 'bind-mount'; path: string; mountPid?: number}
  | {kind: 'parent'; of: number} // only known as the parent (NS_GET_PARENT) of namespace inode `of`
  | {kind: 'owner'; of: number} // only known as the owning user ns (NS_GET_USERNS) of inode `of`
  // the namespace pid's next children will be in (/proc/PID/ns/pid_for_children or time_for_children),
  // when pid itself is not in it (`unshare --pid` without --fork), listed only for a namespace
  // that has no process of its own
  | {kind: 'for-children'; pid: number}

export interface NamespaceRecord {
  inode: number
  type: NsType
  /** processes whose /proc/PID/ns/<type> is this namespace, ascending */
  pids: number[]
  holders: NsHolder[]
  /** parent namespace inode (pid and user namespaces), if known */
  parent?: number
  /** owning user namespace inode */
  owner?: number
  /** uid that created the namespace's owner (a user namespace: its own creator), NS_GET_OWNER_UID */
  ownerUid?: number
}

export interface Discovery {
  namespaces: NamespaceRecord[]
  get(type: NsType, inode: number): NamespaceRecord | undefined
  log: AccessLog
}

/**
 * A namespace as the scan builds it. `holders` is derived on first read: one entry per
 * process would cost an allocation per process and namespace on the hot path.
 */
export class NsRecord implements NamespaceRecord {
  readonly pids: number[] = []
  /** Holders other than processes, in discovery order. */
  readonly others: NsHolder[] = []
  parent?: number
  owner?: number
  ownerUid?: number
  private cached?: NsHolder[]

  constructor(
    readonly inode: number,
    readonly type: NsType,
  ) {}

  get holders(): NsHolder[] {
    if (this.cached === undefined || this.cached.length !== this.pids.length + this.others.length) {
      const h: NsHolder[] = this.pids.map((pid) => ({kind: 'process', pid}) as NsHolder)
      for (const o of this.others) h.push(o)
      this.cached = h
    }
    return this.cached
  }

  toJSON(): NamespaceRecord {
    const {inode, type, pids, holders, parent, owner} = this
    return {inode, type, pids, holders, parent, owner}
  }
}

export class NsIndex implements Discovery {
  readonly byInode = new Map<number, NsRecord>()
  readonly log = new AccessLog()
  private sorted?: NsRecord[]

  constructor(readonly wanted: ReadonlySet<NsType>) {}

  /** The record for inode, created when first seen. */
  record(type: NsType, inode: number): NsRecord {
    let r = this.byInode.get(inode)
    if (r === undefined) {
      r = new NsRecord(inode, type)
      this.byInode.set(inode, r)
      this.sorted = undefined
    }
    return r
  }

  get namespaces(): NsRecord[] {
    // Ascending inode, as lsns orders them.
    this.sorted ??= [...this.byInode.values()].sort((a, b) => a.inode - b.inode)
    return this.sorted
  }

  get(type: NsType, inode: number): NsRecord | undefined {
    const r = this.byInode.get(inode)
    return r !== undefined && r.type === type ? r : undefined
  }
}
