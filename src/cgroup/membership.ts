import {NsxError} from '../cli/errors.js'
import {AccessLog, PROC_ROOT, readText} from '../proc/fs.js'
import {CgroupLayout} from './hierarchy.js'

/** One line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH" (ID 0 and empty controllers for v2). */
export interface CgroupMembership {
  hierarchyId: number
  /** [] for the v2 line; ["cpu","cpuacct"] or ["name=systemd"] on v1. */
  controllers: string[]
  /** Path relative to the hierarchy root, as the process's cgroup namespace shows it. */
  path: string
  version: 1 | 2
  /** Directory of this cgroup under /sys/fs/cgroup, when the hierarchy is mounted. */
  directory?: string
}

export function parseProcCgroup(text: string): CgroupMembership[] {
  const out: CgroupMembership[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    const first = line.indexOf(':')
    const second = line.indexOf(':', first + 1)
    if (first < 0 || second < 0) continue
    const id = Number(line.slice(0, first))
    const controllers = line.slice(first + 1, second)
    const path = line.slice(second + 1)
    const version = id === 0 && controllers === '' ? 2 : 1
    out.push({hierarchyId: id, controllers: controllers ? controllers.split(',') : [], path, version})
  }
  return out
}

/** Attach the directory of each membership, given where hierarchies are mounted. */
export function locateMemberships(members: CgroupMembership[], layout: CgroupLayout): CgroupMembership[] {
  return members.map((m) => {
    if (m.version === 2) {
      if (!layout.v2) return m
      return {...m, directory: joinCgroupPath(layout.v2, layout.v2Root ?? '/', m.path)}
    }
    const key = m.controllers.join(',')
    const h = layout.v1.find((x) => x.controllers.join(',') === key)
    if (!h) return m
    return {...m, directory: joinCgroupPath(h.mountpoint, h.root, m.path)}
  })
}

/** The mount may expose a subtree (mountinfo root != "/"); paths are relative to the hierarchy. */
function joinCgroupPath(mountpoint: string, mountRoot: string, path: string): string {
  let rel = path
  if (mountRoot !== '/' && (rel === mountRoot || rel.startsWith(`${mountRoot}/`))) rel = rel.slice(mountRoot.length)
  if (rel === '/' || rel === '') return mountpoint
  return `${mountpoint}${rel.startsWith('/') ? '' : '/'}${rel}`
}

export function readProcCgroup(pid: number | 'self', log?: AccessLog, root = PROC_ROOT): CgroupMembership[] | undefined {
  const text = readText(`${root}/${pid}/cgroup`, log, 'cgroup files')
  return text === undefined ? undefined : parseProcCgroup(text)
}

/**
 * cgroup.procs of each of the target's cgroups: the v2 tree, and on v1 or hybrid hosts
 * every v1 hierarchy too (nsenter only supports v2; joining all hierarchies is what
 * "the target's cgroup" means on a hybrid host).
 */
export async function targetCgroupProcs(pid: number): Promise<string[]> {
  const {readCgroupLayout} = await import('./hierarchy.js')
  const members = readProcCgroup(pid)
  if (!members) throw NsxError.internal(`cannot read /proc/${pid}/cgroup`, 125)
  const located = locateMemberships(members, readCgroupLayout())
  const paths = located.filter((m) => m.directory !== undefined).map((m) => `${m.directory}/cgroup.procs`)
  if (paths.length === 0) throw NsxError.internal(`--join-cgroup: none of process ${pid}'s cgroups is mounted here`, 125)
  return paths
}
