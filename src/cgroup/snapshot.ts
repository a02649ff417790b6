import type {IoDeviceBytes} from './counters.js'
import type {CgroupMode} from './hierarchy.js'

/**
 * What a sample of the cgroups is: one cgroup's raw counters, a snapshot of all of them, and
 * what a dashboard asks to be read. Made by sample.ts, turned into rates by rates.ts, ordered
 * by arrange.ts.
 */

/** The orders `nsx top` sorts rows in; a dashboard's off-screen rows are read only for theirs. */
export const SORT_KEYS = ['cpu', 'memory', 'io', 'pids', 'name'] as const
export type SortKey = (typeof SORT_KEYS)[number]

/**
 * A cgroup that is one thing across hierarchies although its paths differ (a container:
 * nsx makes nsx-NAME-ID8 below its own cgroup in each hierarchy, and its own cgroup need
 * not be the same path in each), so that it is one row under one path.
 */
export interface CgroupUnit {
  /** An nsx container (nsx-NAME-ID8), or a named group of them (nsx-group-NAME). */
  kind: 'container' | 'group'
  name: string
  /** A container's id (its first 8 digits); a group's name. */
  id: string
}

/** Raw counters of one cgroup at one moment, as the kernel reports them (µs, bytes). */
export interface CgroupSample {
  /**
   * Path relative to the hierarchy root, "/" for the root; one row per path across
   * hierarchies. A unit's row has the path of its cgroup in the preferred hierarchy (the
   * cgroup2 tree where it is there), and its figures from its cgroups in every hierarchy.
   */
  path: string
  /** The container this cgroup is, when the collector was told how to tell (CollectorOptions.unitOf). */
  unit: CgroupUnit | undefined
  /** Identity of this cgroup instance (directory inodes); a re-created cgroup gets a new one. */
  identity: string
  /** Hierarchies holding this path ("v2", "memory", "cpu,cpuacct", ...). */
  hierarchies: string[]
  /** Monotonic time (ms) at which the CPU counter was read. */
  cpuReadAt?: number
  /** Monotonic time (ms) at which the IO counters were read. */
  ioReadAt?: number
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
  /** Cumulative IO per block device (read with every figure, not for a sort key alone). */
  ioDevices?: IoDeviceBytes[]
  /** CFS bandwidth: periods with runnable tasks, periods throttled, time throttled (cpu.stat). */
  cpuPeriods?: number
  cpuThrottled?: number
  cpuThrottledUsec?: number
  /**
   * Memory events: v2 memory.events (high, max, oom, oom_kill); v1 memory.failcnt and
   * memory.memsw.failcnt (the times a limit was hit, as max) and memory.oom_control's oom_kill.
   */
  memoryHighEvents?: number
  memoryMaxEvents?: number
  memoryOomEvents?: number
  memoryOomKills?: number
  /** PSI "some avg10" percentages (cgroup2 only). */
  pressure?: {cpu?: number; memory?: number; io?: number}
  /**
   * A container's network bytes as it sees them (received, sent), from CollectorOptions.traffic;
   * undefined for any other cgroup and for a container with no network of its own.
   */
  netRxBytes?: number
  netTxBytes?: number
  /** Monotonic time (ms) at which the network counters were read. */
  netReadAt?: number
}

/**
 * Where a container's network bytes come from (src/network/traffic.ts, given by the caller:
 * the cgroup room knows nothing of networks): refreshed once per sample, then asked per
 * container row by the first 8 digits of its id.
 */
export interface UnitTraffic {
  refresh(): void
  of(idPrefix: string): {rxBytes: number; txBytes: number} | undefined
}

export interface Snapshot {
  /** Monotonic ms. */
  at: number
  /** Wall-clock time, ISO 8601. */
  time: string
  mode: CgroupMode
  cgroups: Map<string, CgroupSample>
}

/** What a dashboard shows: these rows get every figure; the rest only their sort key's. */
export interface SampleView {
  detail: ReadonlySet<string>
  sort: SortKey
  /** Read every row in full and count processes this time. */
  full?: boolean
  /**
   * Count the processes of every row this time (they are carried over otherwise): a
   * cgroup's TASKS take in every descendant's cgroup.procs, so the dashboard does it now
   * and then rather than each refresh.
   */
  countTasks?: boolean
  /**
   * The tree was read a moment ago (the dashboard's first screen samples twice right after
   * the first scan): do not check every directory again this time. The refresh after
   * watch() checks them all anyway, so nothing made meanwhile is missed.
   */
  treeFresh?: boolean
  /**
   * The caller keeps no snapshot older than the last one: this sample's objects are those
   * of the snapshot before the last, overwritten, rather than new ones every refresh.
   */
  recycle?: boolean
}

/** A sample with every field present, so that all samples share one object shape. */
export function emptySample(path: string, identity: string, hierarchies: string[], unit: CgroupUnit | undefined, reuse?: CgroupSample): CgroupSample {
  if (reuse !== undefined) {
    reuse.path = path
    reuse.unit = unit
    reuse.identity = identity
    reuse.hierarchies = hierarchies
    reuse.cpuReadAt = undefined
    reuse.ioReadAt = undefined
    reuse.procs = undefined
    reuse.tasks = undefined
    reuse.procsHierarchy = undefined
    reuse.cpuUsageUsec = undefined
    reuse.cpuQuotaUsec = undefined
    reuse.cpuPeriodUsec = undefined
    reuse.memoryBytes = undefined
    reuse.inactiveFileBytes = undefined
    reuse.memoryLimitBytes = undefined
    reuse.pidsCurrent = undefined
    reuse.pidsMax = undefined
    reuse.ioReadBytes = undefined
    reuse.ioWriteBytes = undefined
    reuse.ioDevices = undefined
    reuse.cpuPeriods = undefined
    reuse.cpuThrottled = undefined
    reuse.cpuThrottledUsec = undefined
    reuse.memoryHighEvents = undefined
    reuse.memoryMaxEvents = undefined
    reuse.memoryOomEvents = undefined
    reuse.memoryOomKills = undefined
    reuse.pressure = undefined
    reuse.netRxBytes = undefined
    reuse.netTxBytes = undefined
    reuse.netReadAt = undefined
    return reuse
  }
  return {
    path,
    unit,
    identity,
    hierarchies,
    cpuReadAt: undefined,
    ioReadAt: undefined,
    procs: undefined,
    tasks: undefined,
    procsHierarchy: undefined,
    cpuUsageUsec: undefined,
    cpuQuotaUsec: undefined,
    cpuPeriodUsec: undefined,
    memoryBytes: undefined,
    inactiveFileBytes: undefined,
    memoryLimitBytes: undefined,
    pidsCurrent: undefined,
    pidsMax: undefined,
    ioReadBytes: undefined,
    ioWriteBytes: undefined,
    ioDevices: undefined,
    cpuPeriods: undefined,
    cpuThrottled: undefined,
    cpuThrottledUsec: undefined,
    memoryHighEvents: undefined,
    memoryMaxEvents: undefined,
    memoryOomEvents: undefined,
    memoryOomKills: undefined,
    pressure: undefined,
    netRxBytes: undefined,
    netTxBytes: undefined,
    netReadAt: undefined,
  }
}
