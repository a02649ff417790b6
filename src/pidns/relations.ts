import {closeSync, constants, fstatSync, openSync} from 'node:fs'
import {PROC_ROOT} from '../proc/fs.js'
// libc.ts loads koffi on the first call only, so importing it costs nothing until a namespace is described.
import {NS_GET_PARENT, NS_GET_USERNS, nsGetOwnerUid, nsRelated} from '../ffi/libc.js'

/**
 * What /proc does not say about a pid namespace: its owning user namespace (and that
 * namespace's owner uid) and its parent pid namespace. Both come from nsfs ioctls on an
 * open /proc/PID/ns/pid.
 */
export interface PidNsRelations {
  owner?: {inode: number; uid?: number}
  /** Absent for the caller's own top namespace: the kernel refuses (EPERM) to reveal what is above it. */
  parent?: number
}

export type DescribePidNs = (pid: number, inode: number) => PidNsRelations

export function describeByIoctl(root = PROC_ROOT): DescribePidNs {
  return (pid, inode) => {
    let fd: number
    try {
      fd = openSync(`${root}/${pid}/ns/pid`, constants.O_RDONLY)
    } catch {
      return {} // gone or not ours to open: the tree still shows the inode from the link
    }
    try {
      // The pid may have been reused since the link was read: describe only the namespace we were asked about.
      if (fstatSync(fd).ino !== inode) return {}
      return relationsOf(fd)
    } finally {
      closeSync(fd)
    }
  }
}

function relationsOf(fd: number): PidNsRelations {
  const out: PidNsRelations = {}
  const user = nsRelated(fd, NS_GET_USERNS)
  if (user.fd !== undefined) {
    try {
      out.owner = {inode: fstatSync(user.fd).ino}
      try {
        out.owner.uid = nsGetOwnerUid(user.fd)
      } catch {
        // ENOTTY on kernels before 4.11: the owner inode alone still says a lot.
      }
    } finally {
      closeSync(user.fd)
    }
  }
  const parent = nsRelated(fd, NS_GET_PARENT)
  if (parent.fd !== undefined) {
    try {
      out.parent = fstatSync(parent.fd).ino
    } finally {
      closeSync(parent.fd)
    }
  }
  return out
}
