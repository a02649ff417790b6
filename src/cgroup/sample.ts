import {performance} from 'node:perf_hooks'
import {CgroupLayout} from './hierarchy.js'
import {parseSingleInt} from './counters.js'
import {ControlFiles} from './files.js'
import {PROC_ROOT} from '../proc/fs.js'
import {CgroupSample, CgroupUnit, SampleView, Snapshot, SortKey, UnitTraffic, emptySample} from './snapshot.js'
import {closeRow, openRow, Row} from './row-files.js'
import {
  carryMemoryEvents,
  carrySample,
  Limits,
  readCpuCounter,
  ReadFile,
  readIo,
  readLimits,
  readMemory,
  readMemoryEvents,
  readPressure,
  readThrottling,
  readTraffic,
} from './row-readers.js'
import {findUnits, unitKey} from './units.js'
import {countProcesses, planTaskCounts, TaskCountPlan} from './task-count.js'
import {HierarchyWatch, WatchOptions, parentRel} from './discover.js'
import {Hierarchy, MetricSources, dirOf, metricSources, usedHierarchies} from './sources.js'

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
  /** Containers' network bytes (src/network/traffic.ts): read once per sample, for every container row. */
  traffic?: UnitTraffic
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
  /** The memory controller's hierarchy's version (memory.stat's names differ). */
  private readonly memoryVersion: 1 | 2 | undefined
  /** When this sample's network counters were read (monotonic ms). */
  private trafficAt = 0

  constructor(
    readonly layout: CgroupLayout,
    readonly options: CollectorOptions = {},
  ) {
    this.sources = metricSources(layout)
    this.hierarchies = usedHierarchies(this.sources)
    this.limitsEvery = options.limitsEvery ?? 5
    this.procRoot = options.procRoot ?? PROC_ROOT
    this.memoryVersion = this.sources.memory?.version
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
    const traffic = this.options.traffic
    if (traffic !== undefined) {
      traffic.refresh()
      this.trafficAt = performance.now()
    }
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
      countProcesses(this.taskPlans, this.read, cgroups)
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
      readMemory(this.read, row, s, true, this.memoryVersion)
      if (row.pidsCurrent) s.pidsCurrent = parseSingleInt(this.read(row.pidsCurrent))
      readPressure(this.read, row, s)
      readMemoryEvents(this.read, row, s)
      this.applyLimits(row, s, false)
      readThrottling(this.read, row, s)
      const fresh = {...s}
      if (s.cpuReadAt === undefined || s.cpuReadAt < this.refreshStart) readCpuCounter(this.read, row, fresh)
      if (s.ioReadAt === undefined || s.ioReadAt < this.refreshStart) readIo(this.read, row, fresh, true)
      else if (s.ioDevices === undefined) {
        // Read this refresh for the sort (the sums): the breakdown now, rates from the next.
        readIo(this.read, row, fresh, true)
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
    const units = findUnits(this.watches, this.options.unitOf)
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

  /** One control file's bytes now (undefined: absent, or its cgroup is gone). */
  private readonly read: ReadFile = (f) => (f === undefined ? undefined : this.files.readBytes(f))

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
      if (prev) carrySample(prev, s)
      if (only === 'cpu') this.readCpu(row, s, prev, now)
      else if (only === 'memory') readMemory(this.read, row, s, false, this.memoryVersion)
      else if (only === 'io') readIo(this.read, row, s)
      else if (only === 'pids' && row.pidsCurrent) s.pidsCurrent = parseSingleInt(this.read(row.pidsCurrent))
      readTraffic(this.options.traffic, row.unit, s, this.trafficAt)
      return s
    }
    this.readAll(row, s, prev, now, readLimits)
    readTraffic(this.options.traffic, row.unit, s, this.trafficAt)
    return s
  }

  private readAll(row: Row, s: CgroupSample, prev: CgroupSample | undefined, now: ReadonlyMap<string, CgroupSample>, readLimits: boolean): void {
    // Limits first: throttling is read only where a CPU quota is in force.
    this.applyLimits(row, s, readLimits)
    this.readCpu(row, s, prev, now)
    readThrottling(this.read, row, s)
    readMemory(this.read, row, s, true, this.memoryVersion)
    // Events are counters of rare things (a limit hit, an OOM kill): read with the limits.
    if (readLimits || prev === undefined) readMemoryEvents(this.read, row, s)
    else carryMemoryEvents(prev, s)
    if (row.pidsCurrent) s.pidsCurrent = parseSingleInt(this.read(row.pidsCurrent))
    readIo(this.read, row, s, true)
    readPressure(this.read, row, s)
  }

  /** Limits change rarely: read now and then (`readNow`), carried in between. */
  private applyLimits(row: Row, s: CgroupSample, readNow: boolean): void {
    let lim = this.limits.get(row.path)
    if (readNow || !lim || lim.identity !== s.identity) {
      lim = readLimits(this.read, row)
      this.limits.set(row.path, lim)
    }
    s.cpuQuotaUsec = lim.cpuQuotaUsec
    s.cpuPeriodUsec = lim.cpuPeriodUsec
    s.memoryLimitBytes = lim.memoryLimitBytes
    s.pidsMax = lim.pidsMax
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
    readCpuCounter(this.read, row, s)
  }

}
