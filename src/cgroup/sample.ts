import {performance} from 'node:perf_hooks'
import {CgroupLayout, CgroupMode} from './hierarchy.js'
import {
  keyedValue,
  parseBlkioServiceBytes,
  parseCfs,
  parseCpuMax,
  parseIoStat,
  parseLimit,
  parsePressureSomeAvg10,
  parseSingleInt,
  countLines,
  IoBytes,
} from './counters.js'
import {ControlFiles} from './files.js'
import {HierarchyWatch, parentRel} from './discover.js'
import {Hierarchy, MetricSources, dirOf, metricSources, usedHierarchies} from './sources.js'

/** Raw counters of one cgroup at one moment, as the kernel reports them (µs, bytes). */
export interface CgroupSample {
  /** Path relative to the hierarchy root, "/" for the root; one row per path across hierarchies. */
  path: string
  /** Identity of this cgroup instance (directory inodes); a re-created cgroup gets a new one. */
  identity: string
  /** Hierarchies holding this path ("v2", "memory", "cpu,cpuacct", ...). */
  hierarchies: string[]
  /** Monotonic time (ms) at which the CPU counter was read. */
  cpuReadAt?: number
  /** Processes directly in the cgroup, and in it and its descendants, from procsHierarchy. */
  procs?: number
  tasks?: number
  procsHierarchy?: string
  cpuUsageUsec?: number
  /** CPU bandwidth limit: quota per period (µs); quota null = unlimited. */
  cpuQuotaUsec?: number | null
  cpuPeriodUsec?: number
  memoryBytes?: number
  inactiveFileBytes?: number
  /** Memory limit in bytes; null = unlimited. */
  memoryLimitBytes?: number | null
  pidsCurrent?: number
  pidsMax?: number | null
  ioReadBytes?: number
  ioWriteBytes?: number
  /** PSI "some avg10" percentages (cgroup2 only). */
  pressure?: {cpu?: number; memory?: number; io?: number}
}

export interface Snapshot {
  /** Monotonic ms. */
  at: number
  /** Wall-clock time, ISO 8601. */
  time: string
  mode: CgroupMode
  cgroups: Map<string, CgroupSample>
}

export interface CollectorOptions {
  /** Only this subtree (a relative cgroup path); "/" for everything. */
  base?: string
}

/**
 * Samples every cgroup below a base path, merged across hierarchies. Keeps control files
 * open between refreshes and lists only directories that changed, so a refresh costs a
 * few syscalls per cgroup.
 */
export class Collector {
  readonly sources: MetricSources
  readonly hierarchies: Hierarchy[]
  private readonly watches = new Map<string, HierarchyWatch>()
  private readonly files = new ControlFiles()
  private paths: string[] = []
  private v1MemoryStatKey: string

  constructor(
    readonly layout: CgroupLayout,
    readonly options: CollectorOptions = {},
  ) {
    this.sources = metricSources(layout)
    this.hierarchies = usedHierarchies(this.sources)
    for (const h of this.hierarchies) this.watches.set(h.id, new HierarchyWatch(h, options.base ?? '/'))
    this.v1MemoryStatKey = 'total_inactive_file'
  }

  /** Hierarchies in which the base path exists (empty: no such cgroup). */
  baseExistsIn(): string[] {
    const out: string[] = []
    for (const [id, w] of this.watches) {
      if (w.nodes.size === 0) w.refresh()
      if (w.has(w.base)) out.push(id)
    }
    return out
  }

  sample(): Snapshot {
    this.files.nextRefresh()
    let changed = this.paths.length === 0
    for (const w of this.watches.values()) {
      const c = w.refresh()
      for (const rel of c.removed) this.files.closeDir(dirOf(w.hierarchy, rel))
      if (c.added.length > 0 || c.removed.length > 0) changed = true
    }
    if (changed) this.paths = this.mergedPaths()

    const cgroups = new Map<string, CgroupSample>()
    for (const path of this.paths) {
      const before = this.files.vanished.size
      const s = this.sampleOne(path)
      // Removed while we read it (its files failed with ENODEV): the row just disappears.
      if (s && this.files.vanished.size === before) cgroups.set(path, s)
    }
    this.countProcesses(cgroups)
    return {at: performance.now(), time: new Date().toISOString(), mode: this.layout.mode, cgroups}
  }

  /** cgroup.procs of a row, in the hierarchy its process count comes from. */
  procsFileOf(path: string): string | undefined {
    const h = this.sources.procs.find((x) => this.watches.get(x.id)?.has(path))
    return h && `${dirOf(h, path)}/cgroup.procs`
  }

  close(): void {
    this.files.closeAll()
  }

  get openFiles(): number {
    return this.files.openCount
  }

  private mergedPaths(): string[] {
    const set = new Set<string>()
    for (const w of this.watches.values()) for (const rel of w.nodes.keys()) set.add(rel)
    return [...set].sort()
  }

  private read(h: Hierarchy | undefined, path: string, file: string): string | undefined {
    if (!h) return undefined
    const w = this.watches.get(h.id)
    if (!w || !w.has(path)) return undefined
    return this.files.read(`${dirOf(h, path)}/${file}`)
  }

  private sampleOne(path: string): CgroupSample | undefined {
    const src = this.sources
    const hierarchies: string[] = []
    for (const [id, w] of this.watches) if (w.has(path)) hierarchies.push(id)
    if (hierarchies.length === 0) return undefined
    const ino = (h: Hierarchy | undefined) => (h ? (this.watches.get(h.id)?.inodeOf(path) ?? 0) : 0)
    const s: CgroupSample = {path, identity: `${ino(src.cpu)}:${ino(src.io)}`, hierarchies}

    if (src.cpu) {
      s.cpuReadAt = performance.now()
      if (src.cpu.version === 1) {
        const ns = parseSingleInt(this.read(src.cpu, path, 'cpuacct.usage'))
        if (ns !== undefined) s.cpuUsageUsec = Math.floor(ns / 1000)
      } else {
        s.cpuUsageUsec = keyedValue(this.read(src.cpu, path, 'cpu.stat'), 'usage_usec')
      }
    }
    if (src.cpuLimit) {
      const limit =
        src.cpuLimit.version === 1
          ? parseCfs(this.read(src.cpuLimit, path, 'cpu.cfs_quota_us'), this.read(src.cpuLimit, path, 'cpu.cfs_period_us'))
          : parseCpuMax(this.read(src.cpuLimit, path, 'cpu.max'))
      if (limit) {
        s.cpuQuotaUsec = limit.quotaUsec
        s.cpuPeriodUsec = limit.periodUsec
      }
    }
    if (src.memory) {
      if (src.memory.version === 1) {
        s.memoryBytes = parseSingleInt(this.read(src.memory, path, 'memory.usage_in_bytes'))
        s.inactiveFileBytes = keyedValue(this.read(src.memory, path, 'memory.stat'), this.v1MemoryStatKey)
        s.memoryLimitBytes = parseLimit(this.read(src.memory, path, 'memory.limit_in_bytes'))
      } else {
        s.memoryBytes = parseSingleInt(this.read(src.memory, path, 'memory.current'))
        s.inactiveFileBytes = keyedValue(this.read(src.memory, path, 'memory.stat'), 'inactive_file')
        s.memoryLimitBytes = parseLimit(this.read(src.memory, path, 'memory.max'))
      }
    }
    if (src.pids) {
      s.pidsCurrent = parseSingleInt(this.read(src.pids, path, 'pids.current'))
      s.pidsMax = parseLimit(this.read(src.pids, path, 'pids.max'))
    }
    if (src.io) {
      let io: IoBytes | undefined
      if (src.io.version === 1) {
        io =
          parseBlkioServiceBytes(this.read(src.io, path, 'blkio.throttle.io_service_bytes_recursive')) ??
          parseBlkioServiceBytes(this.read(src.io, path, 'blkio.throttle.io_service_bytes'))
      } else {
        io = parseIoStat(this.read(src.io, path, 'io.stat'))
      }
      if (io) {
        s.ioReadBytes = io.readBytes
        s.ioWriteBytes = io.writeBytes
      }
    }
    if (src.pressure && this.watches.get(src.pressure.id)?.has(path)) {
      const cpu = parsePressureSomeAvg10(this.read(src.pressure, path, 'cpu.pressure'))
      const memory = parsePressureSomeAvg10(this.read(src.pressure, path, 'memory.pressure'))
      const io = parsePressureSomeAvg10(this.read(src.pressure, path, 'io.pressure'))
      if (cpu !== undefined || memory !== undefined || io !== undefined) s.pressure = {cpu, memory, io}
    }
    return s
  }

  /**
   * Each row counts processes in the first hierarchy (in MetricSources.procs order) that
   * has its path, recursively within that same hierarchy, so that counts from different
   * hierarchies are never added together.
   */
  private countProcesses(cgroups: Map<string, CgroupSample>): void {
    const choice = new Map<string, string>()
    for (const path of cgroups.keys()) {
      const h = this.sources.procs.find((x) => this.watches.get(x.id)?.has(path))
      if (h) choice.set(path, h.id)
    }
    for (const h of this.sources.procs) {
      const w = this.watches.get(h.id)
      if (!w) continue
      const needed = new Set<string>()
      const direct = new Map<string, number>()
      for (const rel of w.nodes.keys()) {
        const parent = parentRel(rel)
        if (choice.get(rel) === h.id || (parent !== undefined && needed.has(parent))) needed.add(rel)
      }
      if (needed.size === 0) continue
      for (const rel of needed) direct.set(rel, countLines(this.files.read(`${dirOf(h, rel)}/cgroup.procs`)) ?? 0)
      // Sum bottom-up: children come after their parents in the watch's order.
      const total = new Map(direct)
      const order = [...needed]
      for (let i = order.length - 1; i >= 0; i--) {
        const rel = order[i]
        const parent = parentRel(rel)
        if (parent !== undefined && total.has(parent)) total.set(parent, (total.get(parent) ?? 0) + (total.get(rel) ?? 0))
      }
      for (const rel of needed) {
        if (choice.get(rel) !== h.id) continue
        const s = cgroups.get(rel)
        if (!s) continue
        s.procs = direct.get(rel)
        s.tasks = total.get(rel)
        s.procsHierarchy = h.id
      }
    }
  }
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
