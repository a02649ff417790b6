/** The eight namespace types, named as lsns and /proc/PID/ns name them. */
export const NS_TYPES = ['mnt', 'net', 'pid', 'user', 'uts', 'ipc', 'cgroup', 'time'] as const
export type NsType = (typeof NS_TYPES)[number]

/** CLONE_NEW* flags, as NS_GET_NSTYPE returns them and setns/unshare take them. */
export const CLONE_FLAGS: Record<NsType, number> = {
  mnt: 0x00020000,
  net: 0x40000000,
  pid: 0x20000000,
  user: 0x10000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  cgroup: 0x02000000,
  time: 0x00000080,
}

export function nsTypeFromCloneFlag(flag: number): NsType | undefined {
  return NS_TYPES.find((t) => CLONE_FLAGS[t] === flag)
}

export function isNsType(s: string): s is NsType {
  return (NS_TYPES as readonly string[]).includes(s)
}

/** Accept the aliases lsns and nsenter accept ("mount", "network", ...). */
const ALIASES: Record<string, NsType> = {mount: 'mnt', network: 'net', cgroups: 'cgroup'}

export function parseNsType(s: string): NsType | undefined {
  const lower = s.toLowerCase()
  if (isNsType(lower)) return lower
  return ALIASES[lower]
}

/** The link text of an nsfs file, e.g. "net:[4026531840]". */
const NS_LINK = /^([a-z_]+):\[(\d+)\]$/

export function parseNsLink(link: string): {type: string; inode: number} | undefined {
  const m = NS_LINK.exec(link)
  if (!m) return undefined
  return {type: m[1], inode: Number(m[2])}
}

/** Namespace types whose "parent" is meaningful for NS_GET_PARENT. */
export const HIERARCHICAL: readonly NsType[] = ['pid', 'user']
