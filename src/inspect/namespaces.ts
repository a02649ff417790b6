import {closeSync, constants, fstatSync, openSync} from 'node:fs'
import {NS_GET_USERNS, nsRelated} from '../ffi/libc.js'
import {PROC_ROOT} from '../proc/fs.js'
import {NsLinks} from '../ns/links.js'
import {NS_TYPES, NsType} from '../ns/types.js'
import type {Discovery} from '../ns/records.js'
import {HostBasis, HostReference, decideHost} from '../ns/host.js'
import {walkNsParents} from '../userns/chain.js'

/** One of the process's namespaces, with what nsx learnt about it. */
export interface NamespaceEntry {
  type: NsType
  inode: number
  /** The kernel's initial namespace of this type; null when it cannot be told. */
  host: boolean | null
  /** How `host` was decided (see docs/namespaces.md): fixed-inode, kernel-has-fixed-inode, reference-process. */
  hostBasis: HostBasis | null
  /** Processes whose /proc/PID/ns/<type> is this namespace (this one included); null when not counted. */
  processes: number | null
  /** Other holders: threads of other processes, open nsfs fds, nsfs bind mounts. */
  otherHolders: number
  /** Inode of the owning user namespace (NS_GET_USERNS); the parent, for a user namespace. */
  owner: number | null
}

/** Inode of the user namespace owning the namespace at path; null when it cannot be asked. */
export function owningUserns(path: string): number | null {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY /* libuv adds O_CLOEXEC itself */)
  } catch {
    return null
  }
  try {
    const r = nsRelated(fd, NS_GET_USERNS)
    if (r.fd === undefined) return null // EPERM: owned outside nsx's user namespace
    try {
      return fstatSync(r.fd).ino
    } finally {
      closeSync(r.fd)
    }
  } catch {
    return null // fixture trees and kernels without nsfs ioctls
  } finally {
    closeSync(fd)
  }
}

export function namespaceEntries(
  pid: number,
  links: NsLinks,
  ref: HostReference | undefined,
  own: NsLinks | undefined,
  discovery: Discovery | undefined,
  userParent: number | null,
  root = PROC_ROOT,
  numbersNetMnt = false,
): NamespaceEntry[] {
  const out: NamespaceEntry[] = []
  for (const type of NS_TYPES) {
    const inode = links[type]
    if (inode === undefined) continue
    const decision = decideHost(type, inode, ref, own, numbersNetMnt)
    const record = discovery?.get(type, inode)
    out.push({
      type,
      inode,
      host: decision.host,
      hostBasis: decision.basis,
      // The scan may predate a process that has just joined: never report fewer than this one.
      processes: discovery === undefined ? null : Math.max(1, record?.pids.length ?? 0),
      otherHolders: record ? record.holders.length - record.pids.length : 0,
      owner: type === 'user' ? userParent : owningUserns(`${root}/${pid}/ns/${type}`),
    })
  }
  return out
}

export interface PidLevel {
  /** The pid in this pid namespace. */
  pid: number
  /** Inode of that pid namespace; null when the kernel does not show it to nsx. */
  pidns: number | null
}

/**
 * NSpid paired with the pid namespaces they belong to. NSpid lists the pid from the pid
 * namespace of nsx's /proc down to the process's own; NS_GET_PARENT walks from the
 * process's own up to nsx's: the two lists meet at the innermost end.
 */
export function pairNspid(nspid: number[], pidnsChain: number[]): PidLevel[] {
  const n = nspid.length
  return nspid.map((p, i) => ({pid: p, pidns: pidnsChain[n - 1 - i] ?? null}))
}

/** pid namespaces from the process's own up, innermost first; its own only on fixture trees. */
export function pidnsAncestry(pid: number, ownInode: number | undefined, root = PROC_ROOT): number[] {
  try {
    return walkNsParents(`${root}/${pid}/ns/pid`).map((a) => a.inode)
  } catch {
    return ownInode === undefined ? [] : [ownInode]
  }
}
