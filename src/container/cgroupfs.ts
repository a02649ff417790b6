import {basename, dirname} from 'node:path'
import type {CgroupLayout} from '../cgroup/hierarchy.js'
import type {CgroupPlace} from './cgroup-place.js'
import type {CgroupfsMount} from '../plan/ops.js'

/**
 * /sys/fs/cgroup inside a container, as docker and podman lay it out, so the JVM, Go,
 * .NET and Node find their limits: mounted in the container's cgroup namespace (each
 * hierarchy's root is then the container's own cgroup), read-only unless --privileged.
 *
 *   v2:      the cgroup2 tree on /sys/fs/cgroup.
 *   v1:      a tmpfs on /sys/fs/cgroup, each hierarchy the container has a cgroup in on
 *            /sys/fs/cgroup/<the host's directory name>, the host's links beside them
 *            (cpu -> cpu,cpuacct).
 *   hybrid:  the v1 part as above, the cgroup2 tree on its host directory (unified).
 *
 * Only hierarchies the container has its own cgroup in are shown: in another one its
 * cgroup namespace's root would be nsx's cgroup, with other containers below it. In a
 * user namespace the kernel refuses v1 mounts, so only the cgroup2 tree is shown there;
 * a rootless container (no cgroup of its own) gets none.
 */

const ROOT = '/sys/fs/cgroup'

/**
 * @param places the container's cgroups (src/container/cgroups.ts)
 * @param hostLinks symbolic links directly in the host's /sys/fs/cgroup: name -> target
 */
export function planCgroupfs(layout: CgroupLayout, places: readonly CgroupPlace[], opts: {userns: boolean; readOnly: boolean; hostLinks: Record<string, string>}): CgroupfsMount[] {
  if (places.length === 0) return []
  const hasV2Place = places.some((p) => p.version === 2)
  if (layout.v2 === ROOT) return hasV2Place ? [{kind: 'cgroup2', path: ROOT}] : []
  const out: CgroupfsMount[] = [{kind: 'tmpfs', path: ROOT}]
  const mounted = new Set<string>()
  if (!opts.userns) {
    for (const h of layout.v1) {
      const key = h.controllers.join(',')
      if (dirname(h.mountpoint) !== ROOT || !places.some((p) => p.version === 1 && p.hierarchy === key)) continue
      const name = basename(h.mountpoint)
      out.push({kind: 'cgroup', controllers: h.controllers, path: `${ROOT}/${name}`})
      mounted.add(name)
    }
  }
  if (layout.v2 && hasV2Place && dirname(layout.v2) === ROOT) {
    out.push({kind: 'cgroup2', path: layout.v2})
    mounted.add(basename(layout.v2))
  }
  for (const [name, target] of Object.entries(opts.hostLinks).sort()) {
    if (mounted.has(target) && !mounted.has(name)) out.push({kind: 'symlink', target, path: `${ROOT}/${name}`})
  }
  if (out.length === 1) return []
  if (opts.readOnly) out.push({kind: 'remount-ro', path: ROOT})
  return out
}

/** The host's /sys/fs/cgroup links (cpu -> cpu,cpuacct on most v1 hosts). */
export async function readHostCgroupLinks(root = ROOT): Promise<Record<string, string>> {
  const {readdirSync, readlinkSync} = await import('node:fs')
  const out: Record<string, string> = {}
  try {
    for (const e of readdirSync(root, {withFileTypes: true})) if (e.isSymbolicLink()) out[e.name] = readlinkSync(`${root}/${e.name}`)
  } catch {
    // no /sys/fs/cgroup: no links
  }
  return out
}
