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
  /** v2 memory.events; v1 memory.failcnt, memory.memsw.failcnt (with swap accounting) and memory.oom_control. */
  memEvents?: ControlFile
  memFailcnt?: ControlFile
  memswFailcnt?: ControlFile
  memOomControl?: ControlFile
  /** cpu.stat of the CPU limit's hierarchy (throttling), when it is not `cpu` itself. */
  cpuStat?: ControlFile
  /** The throttling counters are in `cpu` (v2 cpu.stat, usage and bandwidth in one file). */
  cpuStatInCpu?: boolean
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
  const f = (h: Hierarchy, file: string, transient = false) => files.handle(`${dirOf(h, rels.get(h.id)!)}/${file}`, transient)
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
    // Events are read with the limits, now and then: no descriptor kept for them.
    if (v1) {
      row.memFailcnt = f(src.memory, 'memory.failcnt', true)
      row.memswFailcnt = f(src.memory, 'memory.memsw.failcnt', true)
      row.memOomControl = f(src.memory, 'memory.oom_control', true)
    } else if (path !== '/') row.memEvents = f(src.memory, 'memory.events', true)
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
    // Throttling: cpu.stat of the bandwidth controller's hierarchy (v2: the usage file itself).
    if (cpuFrom?.id === src.cpuLimit.id && cpuFrom.version === 2) row.cpuStatInCpu = true
    else row.cpuStat = f(src.cpuLimit, 'cpu.stat')
  }
  for (const h of src.procs) if (has(h)) row.procs.set(h.id, f(h, 'cgroup.procs'))
  return row
}

export function closeRow(fl: ControlFiles, row: Row): void {
  for (const f of [row.cpu, row.memUsage, row.memStat, row.memLimit, row.pidsCurrent, row.pidsMax, row.io, row.ioFallback]) fl.close(f)
  for (const f of [row.psiCpu, row.psiMemory, row.psiIo, row.cpuQuota, row.cpuPeriod, row.cpuMax, row.meminfo, row.memEvents, row.memFailcnt, row.memswFailcnt, row.memOomControl, row.cpuStat]) fl.close(f)
  for (const f of row.procs.values()) fl.close(f)
}
