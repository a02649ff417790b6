import {PROC_ROOT, readText} from '../proc/fs.js'
import {readStatus} from '../proc/process.js'
import {NsLinks, readNsLinks} from './links.js'
import {NsType} from './types.js'

/**
 * Which namespaces are the host's, i.e. the kernel's initial ones.
 *
 * The kernel gives the initial uts, ipc, user, pid, cgroup and time namespaces fixed inode
 * numbers (include/linux/proc_ns.h; since Linux 3.8, or since the type exists), and since
 * Linux 6.18 the initial net and mnt namespaces too. Every other namespace gets an inode from
 * 0xF0000000 up. So a fixed inode is proof, and for the six always-fixed types any other inode
 * disproves it. For net and mnt on older kernels, nsx compares with a kernel thread (kthreadd):
 * kernel threads never leave the initial namespaces. pid 1 is only a fallback: a container's
 * init or a host whose init cannot be read (EACCES even for root) would mislead.
 */
export const INITIAL_INODES: Record<NsType, number> = {
  ipc: 0xefffffff,
  uts: 0xeffffffe,
  user: 0xeffffffd,
  pid: 0xeffffffc,
  cgroup: 0xeffffffb,
  time: 0xeffffffa,
  net: 0xeffffff9,
  mnt: 0xeffffff8,
}

/** Types whose initial namespace has had a fixed inode on every kernel that has the type. */
const ALWAYS_FIXED: ReadonlySet<NsType> = new Set(['ipc', 'uts', 'user', 'pid', 'cgroup', 'time'])

export interface HostReference {
  pid: number
  name: string
  /** Why this process stands for the host. */
  why: string
  links: NsLinks
}

export type HostBasis = 'fixed-inode' | 'reference-process' | 'kernel-has-fixed-inode'

export interface HostDecision {
  host: boolean | null
  basis: HostBasis | null
}

/** Linux 6.18 and later give the initial net and mnt namespaces fixed inodes too (from /proc/sys/kernel/osrelease). */
export function kernelNumbersNetMnt(root = PROC_ROOT): boolean {
  const m = /^(\d+)\.(\d+)/.exec(readText(`${root}/sys/kernel/osrelease`) ?? '')
  if (!m) return false
  const [major, minor] = [Number(m[1]), Number(m[2])]
  return major > 6 || (major === 6 && minor >= 18)
}

/** kthreadd (pid 2) when visible as a kernel thread; else pid 1 when readable. */
export function findHostReference(root = PROC_ROOT): HostReference | undefined {
  const k = readStatus(2, undefined, root)
  if (k !== undefined && k.kernelThread && k.ppid === 0) {
    const links = readNsLinks(`${root}/2`)
    if (links) return {pid: 2, name: k.name, why: 'a kernel thread: kernel threads stay in the initial namespaces', links}
  }
  const init = readStatus(1, undefined, root)
  const links = init === undefined ? undefined : readNsLinks(`${root}/1`)
  if (init !== undefined && links) return {pid: 1, name: init.name, why: 'pid 1, as no kernel thread is visible', links}
  return undefined
}

/**
 * Decide whether inode is the initial namespace of its type. `own` are nsx's own namespaces:
 * if one of them carries the fixed inode of a type, this kernel numbers that type's initial
 * namespace that way, and any other inode is not it.
 */
export function decideHost(
  type: NsType,
  inode: number,
  ref: HostReference | undefined,
  own: NsLinks | undefined,
  numbersNetMnt = false,
): HostDecision {
  if (inode === INITIAL_INODES[type]) return {host: true, basis: 'fixed-inode'}
  if (ALWAYS_FIXED.has(type)) return {host: false, basis: 'fixed-inode'}
  // net and mnt got their fixed inodes in the same release: a fixed one of either, seen on
  // nsx's own or the reference's links, shows that this kernel numbers both. Then inode decides,
  // whatever the reference: pid 1 of a pid namespace of nsx's own is no host process.
  const fixed = (l: NsLinks | undefined) => l !== undefined && (l.net === INITIAL_INODES.net || l.mnt === INITIAL_INODES.mnt)
  if (numbersNetMnt || fixed(own) || fixed(ref?.links)) return {host: false, basis: 'kernel-has-fixed-inode'}
  // An older kernel: compare with the reference process.
  const refInode = ref?.links[type]
  if (refInode !== undefined) return {host: inode === refInode, basis: 'reference-process'}
  return {host: null, basis: null}
}
