import {ControlFile, ControlFiles} from './files.js'
import type {CgroupUnit} from './snapshot.js'
import {Hierarchy, MetricSources, dirOf} from './sources.js'

/** The control files of one cgroup (one relative path), opened once and read every refresh. */
export interface Row {
  path: string
  /** The cgroup's path in each of its hierarchies (differs from `path` for a unit's cgroups). */
  rels: Map<string, string>
  unit: CgroupUnit | undefined
  /**
   * The row whose CPU counter is that of this row's CPU cgroup's parent directory, in the
   * same hierarchy and file: what an unchanged parent vouches for. Undefined for none.
   */
  cpuParent: string | undefined
  hierarchies: string[]
  identity: string
  /** Where the CPU counter comes from: v1 cpuacct.usage (ns) or v2 cpu.stat (µs). */
  cpuFrom?: Hierarchy
  cpu?: ControlFile
  memUsage?: ControlFile
  memStat?: ControlFile
  memLimit?: ControlFile
  pidsCurrent?: ControlFile
  pidsMax?: ControlFile
  io?: ControlFile
  ioFallback?: ControlFile
  psiCpu?: ControlFile
  psiMemory?: ControlFile
  psiIo?: ControlFile
  cpuQuota?: ControlFile
  cpuPeriod?: ControlFile
  cpuMax?: ControlFile
  /** /proc/meminfo, for the cgroup2 root, which has no memory.current. */
  meminfo?: ControlFile
  /** cgroup.procs per hierarchy id. */
  procs: Map<string, ControlFile>
}

/**
 * Open the control files of the cgroup shown at `path`, at its path `rels` in each hierarchy
 * that has it. `v2`: the cgroup2 tree, if the collector uses one.
 */
export function openRow(files: ControlFiles, src: MetricSources, procRoot: string, path: string, rels: Map<string, string>, identity: string, unit: CgroupUnit | undefined, v2: Hierarchy | undefined): Row {
  const hierarchies = [...rels.keys()]
  const has = (h: Hierarchy | undefined): h is Hierarchy => h !== undefined && rels.has(h.id)
  const f = (h: Hierarchy, file: string) => files.handle(`${dirOf(h, rels.get(h.id)!)}/${file}`)
  const row: Row = {path, rels, unit, cpuParent: undefined, hierarchies, identity, procs: new Map()}
  // On a hybrid host a cgroup without a cpuacct one (a container nsx made only in the
  // cgroup2 tree and the hierarchies of its limits) has its usage in the cgroup2 tree's
  // cpu.stat, which the kernel keeps for every cgroup2 cgroup (core accounting).
  const cpuFrom = has(src.cpu) ? src.cpu : has(v2) ? v2 : undefined
  if (cpuFrom) {
    row.cpuFrom = cpuFrom
    row.cpu = f(cpuFrom, cpuFrom.version === 1 ? 'cpuacct.usage' : 'cpu.stat')
  }
  if (has(src.memory)) {
    const v1 = src.memory.version === 1
    if (!v1 && path === '/') row.meminfo = files.handle(`${procRoot}/meminfo`)
    row.memUsage = f(src.memory, v1 ? 'memory.usage_in_bytes' : 'memory.current')
    row.memStat = f(src.memory, 'memory.stat')
    row.memLimit = f(src.memory, v1 ? 'memory.limit_in_bytes' : 'memory.max')
  }
  if (has(src.pids)) {
    row.pidsCurrent = f(src.pids, 'pids.current')
    row.pidsMax = f(src.pids, 'pids.max')
  }
  if (has(src.io)) {
    if (src.io.version === 1) {
      row.io = f(src.io, 'blkio.throttle.io_service_bytes_recursive')
      row.ioFallback = f(src.io, 'blkio.throttle.io_service_bytes')
    } else row.io = f(src.io, 'io.stat')
  }
  if (has(src.pressure)) {
    row.psiCpu = f(src.pressure, 'cpu.pressure')
    row.psiMemory = f(src.pressure, 'memory.pressure')
    row.psiIo = f(src.pressure, 'io.pressure')
  }
  if (has(src.cpuLimit)) {
    if (src.cpuLimit.version === 1) {
      row.cpuQuota = f(src.cpuLimit, 'cpu.cfs_quota_us')
      row.cpuPeriod = f(src.cpuLimit, 'cpu.cfs_period_us')
    } else row.cpuMax = f(src.cpuLimit, 'cpu.max')
  }
  for (const h of src.procs) if (has(h)) row.procs.set(h.id, f(h, 'cgroup.procs'))
  return row
}

export function closeRow(fl: ControlFiles, row: Row): void {
  for (const f of [row.cpu, row.memUsage, row.memStat, row.memLimit, row.pidsCurrent, row.pidsMax, row.io, row.ioFallback]) fl.close(f)
  for (const f of [row.psiCpu, row.psiMemory, row.psiIo, row.cpuQuota, row.cpuPeriod, row.cpuMax, row.meminfo]) fl.close(f)
  for (const f of row.procs.values()) fl.close(f)
}
