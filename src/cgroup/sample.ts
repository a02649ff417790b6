import {performance} from 'node:perf_hooks'
import {CgroupLayout} from './hierarchy.js'
import {
  keyedValue,
  parseBlkioDevices,
  parseBlkioServiceBytes,
  parseCpuMax,
  parseCpuThrottling,
  parseIoStatDevices,
  parseIoStat,
  parseLimit,
  parsePressureSomeAvg10,
  parseSingleInt,
  IoBytes,
} from './counters.js'
import {ControlFile, ControlFiles} from './files.js'
import {PROC_ROOT} from '../proc/fs.js'
import {CgroupSample, CgroupUnit, SampleView, Snapshot, SortKey, emptySample} from './snapshot.js'
import {closeRow, openRow, Row} from './row-files.js'
import {countProcesses, planTaskCounts, TaskCountPlan} from './task-count.js'
import {HierarchyWatch, WatchOptions, parentRel} from './discover.js'
import {Hierarchy, MetricSources, dirOf, metricSources, usedHierarchies} from './sources.js'

// Moved out with the data model and the process counts; exported here too for existing callers.

export interface CollectorOptions extends WatchOptions {
  /** Where /proc is (tests use fixture trees). */
  procRoot?: string
  /** Only this subtree (a relative cgroup path); "/" for everything. */
  base?: string
  /** A subtree per hierarchy id (a container's cgroups), instead of one `base` for all. */
  bases?: ReadonlyMap<string, string>
  /**
   * Which cgroups are units (containers), by their directory's name: each unit is one row
   * whatever the paths of its cgroups in the different hierarchies.
   */
  unitOf?: (leaf: string) => CgroupUnit | undefined
  /**
   * Limits (memory, pids, CPU quota) change rarely: they are read on the first refresh and
   * then once every this many refreshes, and carried over in between.
   */
  limitsEvery?: number
}

interface Limits {
  identity: string
  cpuQuotaUsec?: number | null
  cpuPeriodUsec?: number
  memoryLimitBytes?: number | null
  pidsMax?: number | null
}

/**
 * Samples every cgroup below a base path, merged across hierarchies. Keeps control files
 * open between refreshes (one pread each), learns of new and removed cgroups from inotify,
 * and parses counters from bytes, so that a refresh costs a few microseconds per file.
 */
export class Collector {
  readonly sources: MetricSources
  readonly hierarchies: Hierarchy[]
  private readonly watches = new Map<string, HierarchyWatch>()
  private readonly files = new ControlFiles()
  private rows = new Map<string, Row>()
  /** How process counts are read and added up; made again after the tree changes. */
  private taskPlans: TaskCountPlan[] | undefined
  private paths: string[] = []
  private limits = new Map<string, Limits>()
  /** Per hierarchy id, the row key of each path that is not its own key (a unit's cgroups). */
  private readonly keys = new Map<string, Map<string, string>>()
  private last = new Map<string, CgroupSample>()
  /** The snapshot before the last, whose objects a recycling sample overwrites. */
  private spare = new Map<string, CgroupSample>()
  /** Tree changes so far, and after how many of them `last` and `spare` were filled. */
  private merges = 0
  private lastOf = -1
  private spareOf = -1
  private refreshes = 0
  /** When this refresh began (monotonic ms): a CPU reading at or after it is this refresh's. */
  private refreshStart = 0
  /** CPU counters known unchanged from an idle parent rather than read, last refresh. */
  private cpuInferred = 0
  private readonly limitsEvery: number
  private readonly procRoot: string

  constructor(
    readonly layout: CgroupLayout,
    readonly options: CollectorOptions = {},
  ) {
    this.sources = metricSources(layout)
    this.hierarchies = usedHierarchies(this.sources)
    this.limitsEvery = options.limitsEvery ?? 5
    this.procRoot = options.procRoot ?? PROC_ROOT
    for (const h of this.hierarchies) {
      const base = options.bases !== undefined ? options.bases.get(h.id) : (options.base ?? '/')
      // With per-hierarchy bases, a hierarchy without one has nothing to show.
      if (base !== undefined) this.watches.set(h.id, new HierarchyWatch(h, base, options))
    }
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

  /**
   * Read every cgroup. With a `view` (a dashboard's rows on screen and its sort key), rows
   * off screen get only the counter they are sorted by, their other figures carried over
   * from the last full refresh (`view.full`). Without a view, everything is read every time.
   */
  sample(view?: SampleView): Snapshot {
    const detail = view?.detail
    this.files.nextRefresh()
    this.refreshStart = performance.now()
    this.cpuInferred = 0
    const n = this.refreshes++
    const readLimits = n % this.limitsEvery === 0
    let changed = this.paths.length === 0
    for (const w of this.watches.values()) {
      if (view?.treeFresh === true && w.nodes.size > 0) continue
      const c = w.refresh()
      if (c.added.length > 0 || c.removed.length > 0) changed = true
    }
    if (changed) this.merge()
    const full = view === undefined || view.full === true
    const countTasks = full || view.countTasks === true
    const recycle = view?.recycle === true

    // Recycling with the same cgroups: the map of the snapshot before the last is filled
    // again (the same keys, each set to the object it held), rather than a new one grown.
    const spare = this.spare
    const cgroups = recycle && this.spareOf === this.merges ? spare : new Map<string, CgroupSample>()
    const paths = this.paths
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i]
      const row = this.rows.get(path)!
      const before = this.files.vanished
      const s = this.sampleOne(row, cgroups, readLimits, countTasks, full || detail!.has(path) ? undefined : view!.sort, recycle ? spare.get(path) : undefined)
      // Removed while we read it (its files failed with ENODEV): the row just disappears.
      if (this.files.vanished === before) cgroups.set(path, s)
      else cgroups.delete(path)
    }
    if (countTasks) {
      this.taskPlans ??= planTaskCounts(this.sources, this.watches, this.paths, this.rows, this.keys)
      countProcesses(this.taskPlans, (f) => this.bytes(f), cgroups)
    }
    if (changed) for (const p of this.limits.keys()) if (!cgroups.has(p)) this.limits.delete(p)
    // The last snapshot's objects may be overwritten by the next recycling sample but one.
    this.spare = recycle ? this.last : new Map()
    this.spareOf = recycle ? this.lastOf : -1
    this.last = cgroups
    this.lastOf = this.merges
    return {at: performance.now(), time: new Date().toISOString(), mode: this.layout.mode, cgroups}
  }

  /**
   * Read in full the rows `snap` (this collector's last sample) holds only their sort key
   * for: rows that came into a dashboard's view since. Memory, pids, pressure and limits are
   * read into `snap`. The CPU and IO counters (unless read this refresh already) are read
   * into a copy of each row's sample, returned: rates from the row's sample to its copy
   * (see rederive) show what it used since its last reading. `snap` keeps that last reading,
   * so that the next refresh's rates are not taken over the moments since this call.
   */
  readInFull(snap: Snapshot, paths: Iterable<string>): Map<string, CgroupSample> {
    const now = new Map<string, CgroupSample>()
    if (snap.cgroups !== this.last) return now
    for (const path of paths) {
      const s = snap.cgroups.get(path)
      const row = this.rows.get(path)
      if (s === undefined || row === undefined || row.identity !== s.identity) continue
      this.readMemory(row, s, true)
      if (row.pidsCurrent) s.pidsCurrent = parseSingleInt(this.bytes(row.pidsCurrent))
      this.readPressure(row, s)
      this.readMemoryEvents(row, s)
      this.applyLimits(row, s, false)
      this.readThrottling(row, s)
      const fresh = {...s}
      if (s.cpuReadAt === undefined || s.cpuReadAt < this.refreshStart) this.readCpuCounter(row, fresh)
      if (s.ioReadAt === undefined || s.ioReadAt < this.refreshStart) this.readIo(row, fresh, true)
      else if (s.ioDevices === undefined) {
        // Read this refresh for the sort (the sums): the breakdown now, rates from the next.
        this.readIo(row, fresh, true)
        fresh.ioReadAt = s.ioReadAt
        fresh.ioReadBytes = s.ioReadBytes
        fresh.ioWriteBytes = s.ioWriteBytes
      }
      now.set(path, fresh)
    }
    return now
  }

  /**
   * Learn of new and removed cgroups from inotify from now on (until then, and where inotify
   * is unavailable, every refresh checks each directory with stat). Call after the first
   * sample, so that the first one stays quick.
   */
  watch(): void {
    for (const w of this.watches.values()) w.watch()
  }

  /** cgroup.procs of a row, in the hierarchy its process count comes from. */
  procsFileOf(path: string): string | undefined {
    const row = this.rows.get(path)
    const h = row && this.sources.procs.find((x) => row.rels.has(x.id))
    return h && `${dirOf(h, row!.rels.get(h.id)!)}/cgroup.procs`
  }

  close(): void {
    this.files.closeAll()
    for (const w of this.watches.values()) w.close()
  }

  get openFiles(): number {
    return this.files.openCount
  }

  /** How many rows' CPU counters the last refresh knew unchanged without reading them. */
  get cpuCountersInferred(): number {
    return this.cpuInferred
  }

  /** Directories are stat()ed each refresh instead of watched (inotify unavailable). */
  get polling(): boolean {
    return [...this.watches.values()].some((w) => w.isPolling)
  }

  /** Rebuild the rows after cgroups came or went; unchanged cgroups keep their open files. */
  private merge(): void {
    const units = this.findUnits()
    const map = new Map<string, Map<string, string>>()
    const unitOfPath = new Map<string, CgroupUnit>()
    this.keys.clear()
    for (const [id, w] of this.watches) {
      let keys: Map<string, string> | undefined
      for (const rel of w.nodes.keys()) {
        let key = rel
        if (units.size > 0) {
          const k = unitKey(rel, units)
          if (k !== undefined) {
            key = k.key
            if (k.top) unitOfPath.set(key, k.unit)
          }
        }
        let rels = map.get(key)
        if (!rels) map.set(key, (rels = new Map()))
        // Two paths of one hierarchy on one key (a unit's name twice): the second keeps its own.
        if (rels.has(id)) {
          key = rel
          rels = map.get(key)
          if (!rels) map.set(key, (rels = new Map()))
        }
        rels.set(id, rel)
        if (key !== rel) (keys ??= new Map()).set(rel, key)
      }
      if (keys) this.keys.set(id, keys)
    }
    const v2 = this.hierarchies.find((h) => h.version === 2)
    const rows = new Map<string, Row>()
    for (const [path, rels] of map) {
      const identity = [...rels].map(([id, rel]) => this.watches.get(id)!.inodeOf(rel)).join(':')
      const old = this.rows.get(path)
      const unit = unitOfPath.get(path)
      if (old && old.identity === identity && old.unit?.name === unit?.name) rows.set(path, old)
      else rows.set(path, openRow(this.files, this.sources, this.procRoot, path, rels, identity, unit, v2))
    }
    for (const [path, old] of this.rows) if (rows.get(path) !== old) closeRow(this.files, old)
    // Which row's CPU counter is the parent directory's, in the same hierarchy.
    for (const row of rows.values()) {
      row.cpuParent = undefined
      const h = row.cpuFrom
      const rel = h && row.rels.get(h.id)
      const parent = rel === undefined ? undefined : parentRel(rel)
      if (parent === undefined) continue
      const key = this.keys.get(h!.id)?.get(parent) ?? parent
      if (rows.get(key)?.cpuFrom?.id === h!.id) row.cpuParent = key
    }
    this.rows = rows
    this.taskPlans = undefined
    this.merges++
    this.paths = [...map.keys()].sort()
  }

  /**
   * The units among the cgroups (by directory name), each with the path its row takes:
   * its path in the first hierarchy that has it, the cgroup2 tree first.
   */
  private findUnits(): Map<string, {unit: CgroupUnit; path: string}> {
    const units = new Map<string, {unit: CgroupUnit; path: string}>()
    const unitOf = this.options.unitOf
    if (unitOf === undefined) return units
    const order = [...this.watches.keys()].sort((a, b) => (a === 'v2' ? -1 : b === 'v2' ? 1 : 0))
    const tried = new Map<string, CgroupUnit | undefined>()
    for (const id of order) {
      for (const rel of this.watches.get(id)!.nodes.keys()) {
        const leaf = rel.slice(rel.lastIndexOf('/') + 1)
        if (leaf === '' || units.has(leaf)) continue
        let unit = tried.get(leaf)
        if (unit === undefined && !tried.has(leaf)) tried.set(leaf, (unit = unitOf(leaf)))
        if (unit !== undefined) units.set(leaf, {unit, path: rel})
      }
    }
    return units
  }

  private bytes(f: ControlFile | undefined): Buffer | undefined {
    return f === undefined ? undefined : this.files.readBytes(f)
  }

  /**
   * `now`: this refresh's samples so far (parents come before their children). `countTasks`:
   * a refresh that counts processes. `only`: read just the counter this sort key needs (a
   * row off screen) and carry the rest over from the last sample of the same cgroup.
   */
  private sampleOne(
    row: Row,
    now: ReadonlyMap<string, CgroupSample>,
    readLimits: boolean,
    countTasks: boolean,
    only: SortKey | undefined,
    reuse?: CgroupSample,
  ): CgroupSample {
    const s = emptySample(row.path, row.identity, row.hierarchies, row.unit, reuse)
    let prev = this.last.get(row.path)
    if (prev && prev.identity !== s.identity) prev = undefined
    if (!countTasks) {
      s.procs = prev?.procs
      s.tasks = prev?.tasks
      s.procsHierarchy = prev?.procsHierarchy
    }
    if (only !== undefined) {
      // Carried readings keep their time (cpuReadAt), so the next real reading gives a rate
      // over the whole time since. A row not seen before has only its sort key until then.
      if (prev) this.carry(prev, s)
      if (only === 'cpu') this.readCpu(row, s, prev, now)
      else if (only === 'memory') this.readMemory(row, s, false)
      else if (only === 'io') this.readIo(row, s)
      else if (only === 'pids' && row.pidsCurrent) s.pidsCurrent = parseSingleInt(this.bytes(row.pidsCurrent))
      return s
    }
    this.readAll(row, s, prev, now, readLimits)
    return s
  }

  private carry(prev: CgroupSample, s: CgroupSample): void {
    s.cpuReadAt = prev.cpuReadAt
    s.cpuUsageUsec = prev.cpuUsageUsec
    s.memoryBytes = prev.memoryBytes
    s.inactiveFileBytes = prev.inactiveFileBytes
    s.pidsCurrent = prev.pidsCurrent
    s.ioReadAt = prev.ioReadAt
    s.ioReadBytes = prev.ioReadBytes
    s.ioWriteBytes = prev.ioWriteBytes
    s.pressure = prev.pressure
    s.ioDevices = prev.ioDevices
    s.cpuPeriods = prev.cpuPeriods
    s.cpuThrottled = prev.cpuThrottled
    s.cpuThrottledUsec = prev.cpuThrottledUsec
    s.memoryHighEvents = prev.memoryHighEvents
    s.memoryMaxEvents = prev.memoryMaxEvents
    s.memoryOomEvents = prev.memoryOomEvents
    s.memoryOomKills = prev.memoryOomKills
    s.cpuQuotaUsec = prev.cpuQuotaUsec
    s.cpuPeriodUsec = prev.cpuPeriodUsec
    s.memoryLimitBytes = prev.memoryLimitBytes
    s.pidsMax = prev.pidsMax
  }

  private readAll(row: Row, s: CgroupSample, prev: CgroupSample | undefined, now: ReadonlyMap<string, CgroupSample>, readLimits: boolean): void {
    // Limits first: throttling is read only where a CPU quota is in force.
    this.applyLimits(row, s, readLimits)
    this.readCpu(row, s, prev, now)
    this.readThrottling(row, s)
    this.readMemory(row, s, true)
    // Events are counters of rare things (a limit hit, an OOM kill): read with the limits.
    if (readLimits || prev === undefined) this.readMemoryEvents(row, s)
    else this.carryMemoryEvents(prev, s)
    if (row.pidsCurrent) s.pidsCurrent = parseSingleInt(this.bytes(row.pidsCurrent))
    this.readIo(row, s, true)
    this.readPressure(row, s)
  }

  /**
   * CFS throttling (cpu.stat nr_periods, nr_throttled, throttled time), where the cgroup has a
   * CPU quota of its own: without one the kernel never throttles it, and its counters stand
   * still (at zero, or where an earlier quota left them), so they are not read.
   */
  private readThrottling(row: Row, s: CgroupSample): void {
    if (s.cpuQuotaUsec === undefined || s.cpuQuotaUsec === null) return
    let t
    if (row.cpuStat) t = parseCpuThrottling(this.bytes(row.cpuStat))
    else if (row.cpuStatInCpu) t = parseCpuThrottling(this.bytes(row.cpu))
    if (t === undefined) return
    s.cpuPeriods = t.periods
    s.cpuThrottled = t.throttled
    s.cpuThrottledUsec = t.throttledUsec
  }

  private carryMemoryEvents(prev: CgroupSample, s: CgroupSample): void {
    s.memoryHighEvents = prev.memoryHighEvents
    s.memoryMaxEvents = prev.memoryMaxEvents
    s.memoryOomEvents = prev.memoryOomEvents
    s.memoryOomKills = prev.memoryOomKills
  }

  /** v2 memory.events (high, max, oom, oom_kill); v1 memory.failcnt plus memory.memsw.failcnt (as max) and memory.oom_control's oom_kill. */
  private readMemoryEvents(row: Row, s: CgroupSample): void {
    if (row.memEvents) {
      const b = this.bytes(row.memEvents)
      if (b === undefined) return
      s.memoryHighEvents = keyedValue(b, 'high')
      s.memoryMaxEvents = keyedValue(b, 'max')
      s.memoryOomEvents = keyedValue(b, 'oom')
      s.memoryOomKills = keyedValue(b, 'oom_kill')
    } else if (row.memFailcnt) {
      // A charge tries memory+swap first, then memory: each failure counts in one of the two.
      const mem = parseSingleInt(this.bytes(row.memFailcnt))
      const memsw = parseSingleInt(this.bytes(row.memswFailcnt))
      s.memoryMaxEvents = mem === undefined ? undefined : mem + (memsw ?? 0)
      s.memoryOomKills = keyedValue(this.bytes(row.memOomControl), 'oom_kill')
    }
  }

  private readPressure(row: Row, s: CgroupSample): void {
    if (!row.psiCpu) return
    const cpu = parsePressureSomeAvg10(this.bytes(row.psiCpu))
    const memory = parsePressureSomeAvg10(this.bytes(row.psiMemory))
    const io = parsePressureSomeAvg10(this.bytes(row.psiIo))
    s.pressure = cpu !== undefined || memory !== undefined || io !== undefined ? {cpu, memory, io} : undefined
  }

  /** Limits change rarely: read now and then (`readLimits`), carried in between. */
  private applyLimits(row: Row, s: CgroupSample, readLimits: boolean): void {
    let lim = this.limits.get(row.path)
    if (readLimits || !lim || lim.identity !== s.identity) {
      lim = this.readLimits(row)
      this.limits.set(row.path, lim)
    }
    s.cpuQuotaUsec = lim.cpuQuotaUsec
    s.cpuPeriodUsec = lim.cpuPeriodUsec
    s.memoryLimitBytes = lim.memoryLimitBytes
    s.pidsMax = lim.pidsMax
  }

  private readMemory(row: Row, s: CgroupSample, withStat: boolean): void {
    if (row.meminfo) {
      // The cgroup2 root: what the whole machine uses, as systemd-cgtop shows it there
      // (MemTotal - MemAvailable, which already leaves out reclaimable cache).
      const b = this.bytes(row.meminfo)
      const total = keyedMeminfo(b, 'MemTotal:')
      const available = total === undefined ? undefined : keyedMeminfo(b, 'MemAvailable:')
      s.memoryBytes = total === undefined || available === undefined ? undefined : (total - available) * 1024
      if (withStat) s.inactiveFileBytes = s.memoryBytes === undefined ? undefined : 0
      return
    }
    if (!row.memUsage) return
    s.memoryBytes = parseSingleInt(this.bytes(row.memUsage))
    if (withStat) s.inactiveFileBytes = keyedValue(this.bytes(row.memStat), this.sources.memory!.version === 1 ? 'total_inactive_file' : 'inactive_file')
  }

  /**
   * A cgroup's CPU counter includes its descendants' (cpuacct.usage on v1, usage_usec of
   * cpu.stat on v2 below the root), and never goes down. So when a parent's counter, read
   * this refresh, has not moved since its last reading, no descendant used any CPU in
   * between either: a child last read no earlier than that parent reading still has the
   * same value, now. On an idle subtree this leaves one read per refresh where there were
   * hundreds.
   */
  private readCpu(row: Row, s: CgroupSample, prev: CgroupSample | undefined, now: ReadonlyMap<string, CgroupSample>): void {
    if (!row.cpu) return
    // Except from the cgroup2 root: the kernel fills its usage_usec from system-wide CPU
    // time in whole ticks, not from its children's, so it can stand still while they run.
    const cpuParent = row.cpuParent
    const parentCounts = cpuParent !== undefined && (row.cpuFrom!.version === 1 || parentRel(row.rels.get(row.cpuFrom!.id)!) !== '/')
    if (parentCounts && prev?.cpuUsageUsec !== undefined && prev.cpuReadAt !== undefined) {
      const parent = now.get(cpuParent!)
      const parentBefore = this.last.get(cpuParent!)
      if (
        parent?.cpuUsageUsec !== undefined &&
        parent.cpuReadAt !== undefined &&
        parent.cpuReadAt >= this.refreshStart &&
        parentBefore !== undefined &&
        parentBefore.identity === parent.identity &&
        parentBefore.cpuReadAt !== undefined &&
        parentBefore.cpuUsageUsec === parent.cpuUsageUsec &&
        prev.cpuReadAt >= parentBefore.cpuReadAt
      ) {
        s.cpuReadAt = parent.cpuReadAt
        s.cpuUsageUsec = prev.cpuUsageUsec
        this.cpuInferred++
        return
      }
    }
    this.readCpuCounter(row, s)
  }

  private readCpuCounter(row: Row, s: CgroupSample): void {
    if (!row.cpu) return
    s.cpuReadAt = performance.now()
    if (row.cpuFrom!.version === 1) {
      const ns = parseSingleInt(this.bytes(row.cpu))
      s.cpuUsageUsec = ns === undefined ? undefined : Math.floor(ns / 1000)
    } else {
      s.cpuUsageUsec = keyedValue(this.bytes(row.cpu), 'usage_usec')
    }
  }

  /** `devices`: per device as well as summed (every figure); without, the sums alone (a sort key). */
  private readIo(row: Row, s: CgroupSample, devices = false): void {
    if (!row.io) return
    s.ioReadAt = performance.now()
    let io: IoBytes | undefined
    if (row.ioFallback) {
      let b = this.bytes(row.io)
      if (b === undefined) b = this.bytes(row.ioFallback)
      io = parseBlkioServiceBytes(b)
      if (devices) s.ioDevices = parseBlkioDevices(b)
    } else {
      const b = this.bytes(row.io)
      io = parseIoStat(b)
      if (devices) s.ioDevices = parseIoStatDevices(b)
    }
    s.ioReadBytes = io?.readBytes
    s.ioWriteBytes = io?.writeBytes
    // Sums alone: a carried breakdown would not match them.
    if (!devices) s.ioDevices = undefined
  }

  private readLimits(row: Row): Limits {
    const lim: Limits = {identity: row.identity, cpuQuotaUsec: undefined, cpuPeriodUsec: undefined, memoryLimitBytes: undefined, pidsMax: undefined}
    if (row.cpuQuota) {
      // Parse each file as soon as it is read: the next read reuses the buffer.
      const quota = parseSingleInt(this.bytes(row.cpuQuota))
      const period = parseSingleInt(this.bytes(row.cpuPeriod))
      if (quota !== undefined && period !== undefined && period > 0) {
        lim.cpuQuotaUsec = quota < 0 ? null : quota
        lim.cpuPeriodUsec = period
      }
    } else if (row.cpuMax) {
      const max = parseCpuMax(this.bytes(row.cpuMax))
      if (max) {
        lim.cpuQuotaUsec = max.quotaUsec
        lim.cpuPeriodUsec = max.periodUsec
      }
    }
    if (row.memLimit) lim.memoryLimitBytes = parseLimit(this.bytes(row.memLimit))
    if (row.pidsMax) lim.pidsMax = parseLimit(this.bytes(row.pidsMax))
    return lim
  }


}

/** "MemTotal:       16318504 kB" in /proc/meminfo: the number of kB. */
function keyedMeminfo(b: Buffer | undefined, key: string): number | undefined {
  if (b === undefined) return undefined
  const i = b.indexOf(key)
  if (i < 0) return undefined
  let j = i + key.length
  while (b[j] === 32) j++
  return parseSingleInt(b.subarray(j))
}

/**
 * The row key of a path: the path itself, or, for a unit's cgroup and what is below it, the
 * (deepest) unit's path with the rest appended. `top`: the path is the unit's own cgroup.
 */
function unitKey(rel: string, units: Map<string, {unit: CgroupUnit; path: string}>): {key: string; unit: CgroupUnit; top: boolean} | undefined {
  // The deepest unit on the path: a container inside a group is keyed by the container.
  let found: {key: string; unit: CgroupUnit; top: boolean} | undefined
  let start = 1
  while (start < rel.length) {
    let end = rel.indexOf('/', start)
    if (end < 0) end = rel.length
    const u = units.get(rel.slice(start, end))
    if (u !== undefined) found = {key: u.path + rel.slice(end), unit: u.unit, top: end === rel.length}
    start = end + 1
  }
  return found
}
