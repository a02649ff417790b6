import {CgroupLayout} from './hierarchy.js'

/**
 * Which hierarchy each figure is read from. On a hybrid host the same relative path exists
 * in several v1 hierarchies and maybe in the cgroup2 tree; `nsx top` shows one row per
 * relative path and reads each figure from the hierarchy that has its controller.
 */
export interface Hierarchy {
  /** "v2", or the v1 controllers joined by commas ("cpu,cpuacct", "memory", "name=systemd"). */
  id: string
  version: 1 | 2
  mountpoint: string
  /** Root of the mount inside the hierarchy (usually "/"). */
  root: string
}

export interface MetricSources {
  /** Usage counter: v1 cpuacct.usage (ns) or v2 cpu.stat usage_usec (always present on v2). */
  cpu?: Hierarchy
  /** Bandwidth limit: v1 cpu.cfs_quota_us/cfs_period_us or v2 cpu.max. */
  cpuLimit?: Hierarchy
  memory?: Hierarchy
  pids?: Hierarchy
  io?: Hierarchy
  /** PSI lives only in the cgroup2 tree. */
  pressure?: Hierarchy
  /** Hierarchies a row may count its processes from, best first. */
  procs: Hierarchy[]
}

function v1With(layout: CgroupLayout, controller: string): Hierarchy | undefined {
  const h = layout.v1.find((x) => x.controllers.includes(controller))
  return h && {id: h.controllers.join(','), version: 1, mountpoint: h.mountpoint, root: h.root}
}

export function metricSources(layout: CgroupLayout): MetricSources {
  const v2: Hierarchy | undefined = layout.v2 ? {id: 'v2', version: 2, mountpoint: layout.v2, root: layout.v2Root ?? '/'} : undefined
  const v2With = (c: string) => (v2 && layout.v2Controllers.includes(c) ? v2 : undefined)
  // A v1 hierarchy wins where the controller is bound there: in hybrid mode the cgroup2
  // tree has no such controller (cpu.stat there is only core accounting of its own tree).
  const cpu = v1With(layout, 'cpuacct') ?? v2
  const cpuLimit = v1With(layout, 'cpu') ?? v2With('cpu')
  const memory = v1With(layout, 'memory') ?? v2With('memory')
  const pids = v1With(layout, 'pids') ?? v2With('pids')
  const io = v1With(layout, 'blkio') ?? v2With('io')
  // Processes: on v2 the one tree; on v1 the systemd tree (it mirrors units), then the
  // controllers' trees, so that a path existing in only one hierarchy still gets a count.
  const procs: Hierarchy[] = []
  const add = (h: Hierarchy | undefined) => {
    if (h && !procs.some((p) => p.id === h.id)) procs.push(h)
  }
  if (layout.mode === 'v2') add(v2)
  else {
    add(v1With(layout, 'name=systemd'))
    for (const h of [pids, cpu, cpuLimit, memory, io]) add(h)
    add(v2)
  }
  return {cpu, cpuLimit, memory, pids, io, pressure: v2, procs}
}

/** Every distinct hierarchy the sources use, in a stable order. */
export function usedHierarchies(s: MetricSources): Hierarchy[] {
  const out: Hierarchy[] = []
  for (const h of [s.cpu, s.cpuLimit, s.memory, s.pids, s.io, s.pressure, ...s.procs]) {
    if (h && !out.some((x) => x.id === h.id)) out.push(h)
  }
  return out
}

/** Directory of a relative cgroup path ("/a/b") in a hierarchy. */
export function dirOf(h: Hierarchy, rel: string): string {
  return rel === '/' ? h.mountpoint : h.mountpoint + rel
}

/** The layout's hierarchies in a form for --json and messages. */
export function describeSources(sources: MetricSources): Record<string, string | undefined> {
  return {
    cpu: sources.cpu?.id,
    cpuLimit: sources.cpuLimit?.id,
    memory: sources.memory?.id,
    pids: sources.pids?.id,
    io: sources.io?.id,
    pressure: sources.pressure?.id,
  }
}
