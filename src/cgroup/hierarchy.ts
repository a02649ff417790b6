import {PROC_ROOT, SYS_ROOT, readText} from '../proc/fs.js'

/**
 * Which cgroup hierarchies are mounted where. A host is "v1" (controllers only on v1
 * hierarchies), "v2" (one unified tree, /sys/fs/cgroup), or "hybrid" (v1 controllers plus
 * a cgroup2 tree, usually /sys/fs/cgroup/unified, holding whatever v1 does not).
 */
export type CgroupMode = 'v1' | 'v2' | 'hybrid' | 'none'

export interface V1Hierarchy {
  /** Controllers bound to this hierarchy, e.g. ["cpu", "cpuacct"]; may include "name=systemd". */
  controllers: string[]
  mountpoint: string
  /** Root of the mount inside the hierarchy (mountinfo field 4), usually "/". */
  root: string
}

export interface CgroupLayout {
  mode: CgroupMode
  v1: V1Hierarchy[]
  /** Mount point of the cgroup2 tree, if any. */
  v2?: string
  v2Root?: string
  /** Controllers enabled at the v2 root (cgroup.controllers). */
  v2Controllers: string[]
}

/** Unescape mountinfo's octal escapes (\040 for space, ...). */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
}

export interface MountInfoEntry {
  id: number
  parent: number
  /** The filesystem's device, major:minor (mountinfo field 3). */
  dev: string
  root: string
  mountpoint: string
  options: string
  fstype: string
  source: string
  superOptions: string
}

export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    const dash = line.indexOf(' - ')
    if (dash < 0) continue
    const a = line.slice(0, dash).split(' ')
    const b = line.slice(dash + 3).split(' ')
    out.push({
      id: Number(a[0]),
      parent: Number(a[1]),
      dev: a[2],
      root: unescapeMountPath(a[3]),
      mountpoint: unescapeMountPath(a[4]),
      options: a[5],
      fstype: b[0],
      source: unescapeMountPath(b[1] ?? ''),
      superOptions: b[2] ?? '',
    })
  }
  return out
}

// What the kernel's cgroup1_show_options prints besides controllers (and name=, kept as the id).
const V1_OPTIONS_NOT_CONTROLLERS = new Set(['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'xattr', 'noprefix', 'cpuset_v2_mode', 'favordynmods'])

/**
 * Mounts still listed in mountinfo but no longer reachable: something else was mounted on
 * their mount point or on a directory above it (e.g. cgroup2 mounted over /sys/fs/cgroup in a
 * private mount namespace leaves the v1 mounts listed below it). A mount is hidden when a mount
 * that is not one of its ancestors sits at its mount point or above it.
 */
export function visibleMounts(entries: MountInfoEntry[]): MountInfoEntry[] {
  const byId = new Map(entries.map((e) => [e.id, e]))
  const covers = (upper: string, lower: string) =>
    upper === lower || upper === '/' || lower.startsWith(upper.endsWith('/') ? upper : `${upper}/`)
  return entries.filter((m) => {
    const ancestors = new Set<number>([m.id])
    for (let p = byId.get(m.parent); p && !ancestors.has(p.id); p = byId.get(p.parent)) ancestors.add(p.id)
    // Mounting on a mount's root makes the new mount its child at the same mount point, so
    // whatever covers m is never among m's ancestors.
    return !entries.some((n) => !ancestors.has(n.id) && covers(n.mountpoint, m.mountpoint))
  })
}

export function layoutFromMountInfo(entries: MountInfoEntry[], sysRoot = SYS_ROOT): CgroupLayout {
  const v1: V1Hierarchy[] = []
  let v2: string | undefined
  let v2Root: string | undefined
  const seen = new Set<string>()
  for (const e of visibleMounts(entries)) {
    if (e.fstype === 'cgroup') {
      const controllers = e.superOptions
        .split(',')
        .filter((o) => !V1_OPTIONS_NOT_CONTROLLERS.has(o) && !o.startsWith('release_agent='))
      const key = controllers.join(',')
      if (seen.has(key)) continue // the same hierarchy mounted twice: keep the first
      seen.add(key)
      v1.push({controllers, mountpoint: rebase(e.mountpoint, sysRoot), root: e.root})
    } else if (e.fstype === 'cgroup2' && v2 === undefined) {
      v2 = rebase(e.mountpoint, sysRoot)
      v2Root = e.root
    }
  }
  const v2Controllers = v2 ? (readText(`${v2}/cgroup.controllers`) ?? '').trim().split(/\s+/).filter(Boolean) : []
  const realV1 = v1.filter((h) => h.controllers.some((c) => !c.startsWith('name=')))
  let mode: CgroupMode
  if (realV1.length > 0 && v2) mode = 'hybrid'
  else if (realV1.length > 0) mode = 'v1'
  else if (v2) mode = 'v2'
  else mode = 'none'
  return {mode, v1, v2, v2Root, v2Controllers}
}

/** Mount points under /sys are moved under a fixture root when NSX_SYS_ROOT is set. */
function rebase(mountpoint: string, sysRoot: string): string {
  if (sysRoot === '/sys' || !mountpoint.startsWith('/sys/')) return mountpoint
  return sysRoot + mountpoint.slice('/sys'.length)
}

export function readCgroupLayout(procRoot = PROC_ROOT, sysRoot = SYS_ROOT): CgroupLayout {
  const text = readText(`${procRoot}/self/mountinfo`) ?? ''
  return layoutFromMountInfo(parseMountInfo(text), sysRoot)
}
