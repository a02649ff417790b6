import type {IoDeviceBytes} from './counters.js'
import {CgroupSample, Snapshot} from './snapshot.js'

/** One block device's IO in a cgroup: cumulative bytes and bytes per second over the interval. */
export interface IoDeviceRate extends IoDeviceBytes {
  readBytesPerSec: number | null
  writeBytesPerSec: number | null
}

/** Figures derived from two samples of the same cgroup. null: no honest figure this time. */
export interface CgroupRates {
  /** CPU use over the interval; 100 = one core busy. */
  cpuPercent: number | null
  ioReadBytesPerSec: number | null
  ioWriteBytesPerSec: number | null
  /** Memory usage minus inactive file cache: what the kernel would have to reclaim hard. */
  workingSetBytes: number | null
  /** The CPU bandwidth limit in the same unit as cpuPercent (quota/period), null = none. */
  cpuLimitPercent: number | null
  /** Seconds between the two readings of this cgroup's CPU counter. */
  intervalSeconds: number | null
  /** Of the CFS periods over the interval, the share throttled (percent); null: none ran, or no quota. */
  cpuThrottledPercent: number | null
  /** IO per device with its rates; null: not read this time. */
  ioDeviceRates: IoDeviceRate[] | null
  /** A container's network bytes per second, received and sent; null: no counters of its own, or no earlier reading. */
  netRxBytesPerSec: number | null
  netTxBytesPerSec: number | null
}

export type CgroupStats = CgroupSample & CgroupRates

function counterRate(prev: number | undefined, cur: number | undefined, seconds: number | null): number | null {
  if (prev === undefined || cur === undefined || seconds === null || seconds <= 0) return null
  // A counter that went backwards (reset, or a re-created cgroup we could not tell apart): no figure.
  if (cur < prev) return null
  return (cur - prev) / seconds
}

/**
 * `into`: an object made by deriveStats before, overwritten with these figures instead of
 * making a new one (the dashboard keeps one per cgroup rather than a thousand new ones a second).
 */
export function deriveStats(cur: CgroupSample, prev: CgroupSample | undefined, into?: CgroupStats): CgroupStats {
  // Only the same cgroup instance gives a meaningful delta: a re-created one starts afresh.
  const same = prev !== undefined && prev.identity === cur.identity
  const seconds =
    same && prev.cpuReadAt !== undefined && cur.cpuReadAt !== undefined ? (cur.cpuReadAt - prev.cpuReadAt) / 1000 : null
  const usec = same ? counterRate(prev.cpuUsageUsec, cur.cpuUsageUsec, seconds) : null
  const ioSeconds = same && prev.ioReadAt !== undefined && cur.ioReadAt !== undefined ? (cur.ioReadAt - prev.ioReadAt) / 1000 : null
  const rd = same ? counterRate(prev.ioReadBytes, cur.ioReadBytes, ioSeconds) : null
  const wr = same ? counterRate(prev.ioWriteBytes, cur.ioWriteBytes, ioSeconds) : null
  const netSeconds = same && prev.netReadAt !== undefined && cur.netReadAt !== undefined ? (cur.netReadAt - prev.netReadAt) / 1000 : null
  const netRx = same ? counterRate(prev.netRxBytes, cur.netRxBytes, netSeconds) : null
  const netTx = same ? counterRate(prev.netTxBytes, cur.netTxBytes, netSeconds) : null
  let workingSetBytes: number | null = null
  if (cur.memoryBytes !== undefined) workingSetBytes = Math.max(0, cur.memoryBytes - (cur.inactiveFileBytes ?? 0))
  const periods = same ? delta(prev.cpuPeriods, cur.cpuPeriods) : null
  const throttled = same ? delta(prev.cpuThrottled, cur.cpuThrottled) : null
  const cpuThrottledPercent = periods === null || throttled === null || periods === 0 ? null : Math.min(100, (throttled / periods) * 100)
  const ioDeviceRates = cur.ioDevices === undefined ? null : deviceRates(cur.ioDevices, same ? prev.ioDevices : undefined, ioSeconds)
  let cpuLimitPercent: number | null = null
  if (cur.cpuQuotaUsec !== undefined && cur.cpuQuotaUsec !== null && cur.cpuPeriodUsec) {
    cpuLimitPercent = (cur.cpuQuotaUsec / cur.cpuPeriodUsec) * 100
  }
  if (into !== undefined) {
    into.path = cur.path
    into.unit = cur.unit
    into.identity = cur.identity
    into.hierarchies = cur.hierarchies
    into.cpuReadAt = cur.cpuReadAt
    into.ioReadAt = cur.ioReadAt
    into.procs = cur.procs
    into.tasks = cur.tasks
    into.procsHierarchy = cur.procsHierarchy
    into.cpuUsageUsec = cur.cpuUsageUsec
    into.cpuQuotaUsec = cur.cpuQuotaUsec
    into.cpuPeriodUsec = cur.cpuPeriodUsec
    into.memoryBytes = cur.memoryBytes
    into.inactiveFileBytes = cur.inactiveFileBytes
    into.memoryLimitBytes = cur.memoryLimitBytes
    into.pidsCurrent = cur.pidsCurrent
    into.pidsMax = cur.pidsMax
    into.ioReadBytes = cur.ioReadBytes
    into.ioWriteBytes = cur.ioWriteBytes
    into.pressure = cur.pressure
    into.ioDevices = cur.ioDevices
    into.cpuPeriods = cur.cpuPeriods
    into.cpuThrottled = cur.cpuThrottled
    into.cpuThrottledUsec = cur.cpuThrottledUsec
    into.memoryHighEvents = cur.memoryHighEvents
    into.memoryMaxEvents = cur.memoryMaxEvents
    into.memoryOomEvents = cur.memoryOomEvents
    into.memoryOomKills = cur.memoryOomKills
    into.netRxBytes = cur.netRxBytes
    into.netTxBytes = cur.netTxBytes
    into.netReadAt = cur.netReadAt
    into.cpuPercent = usec === null ? null : usec / 1e4
    into.ioReadBytesPerSec = rd
    into.ioWriteBytesPerSec = wr
    into.workingSetBytes = workingSetBytes
    into.cpuLimitPercent = cpuLimitPercent
    into.intervalSeconds = seconds
    into.cpuThrottledPercent = cpuThrottledPercent
    into.ioDeviceRates = ioDeviceRates
    into.netRxBytesPerSec = netRx
    into.netTxBytesPerSec = netTx
    return into
  }
  // Spelled out rather than spread: one object shape, built fast for hundreds of rows.
  return {
    path: cur.path,
    unit: cur.unit,
    identity: cur.identity,
    hierarchies: cur.hierarchies,
    cpuReadAt: cur.cpuReadAt,
    ioReadAt: cur.ioReadAt,
    procs: cur.procs,
    tasks: cur.tasks,
    procsHierarchy: cur.procsHierarchy,
    cpuUsageUsec: cur.cpuUsageUsec,
    cpuQuotaUsec: cur.cpuQuotaUsec,
    cpuPeriodUsec: cur.cpuPeriodUsec,
    memoryBytes: cur.memoryBytes,
    inactiveFileBytes: cur.inactiveFileBytes,
    memoryLimitBytes: cur.memoryLimitBytes,
    pidsCurrent: cur.pidsCurrent,
    pidsMax: cur.pidsMax,
    ioReadBytes: cur.ioReadBytes,
    ioWriteBytes: cur.ioWriteBytes,
    pressure: cur.pressure,
    ioDevices: cur.ioDevices,
    cpuPeriods: cur.cpuPeriods,
    cpuThrottled: cur.cpuThrottled,
    cpuThrottledUsec: cur.cpuThrottledUsec,
    memoryHighEvents: cur.memoryHighEvents,
    memoryMaxEvents: cur.memoryMaxEvents,
    memoryOomEvents: cur.memoryOomEvents,
    memoryOomKills: cur.memoryOomKills,
    netRxBytes: cur.netRxBytes,
    netTxBytes: cur.netTxBytes,
    netReadAt: cur.netReadAt,
    cpuPercent: usec === null ? null : usec / 1e4,
    ioReadBytesPerSec: rd,
    ioWriteBytesPerSec: wr,
    workingSetBytes,
    cpuLimitPercent,
    intervalSeconds: seconds,
    cpuThrottledPercent,
    ioDeviceRates,
    netRxBytesPerSec: netRx,
    netTxBytesPerSec: netTx,
  }
}

/** The growth of a counter, or null: unknown, or it went backwards. */
function delta(prev: number | undefined, cur: number | undefined): number | null {
  return prev === undefined || cur === undefined || cur < prev ? null : cur - prev
}

function deviceRates(cur: IoDeviceBytes[], prev: IoDeviceBytes[] | undefined, seconds: number | null): IoDeviceRate[] {
  return cur.map((d) => {
    const p = prev?.find((x) => x.device === d.device)
    return {device: d.device, readBytes: d.readBytes, writeBytes: d.writeBytes, readBytesPerSec: counterRate(p?.readBytes, d.readBytes, seconds), writeBytesPerSec: counterRate(p?.writeBytes, d.writeBytes, seconds)}
  })
}

/**
 * `into` again after Collector.readInFull: `after` holds counters read since `before`;
 * rates for those are taken against `before`, the rest keep the figures `into` has.
 */
export function rederive(after: CgroupSample, before: CgroupSample, into: CgroupStats): void {
  const cpuPercent = into.cpuPercent
  const intervalSeconds = into.intervalSeconds
  const ioRead = into.ioReadBytesPerSec
  const ioWrite = into.ioWriteBytesPerSec
  const throttledPercent = into.cpuThrottledPercent
  const netRx = into.netRxBytesPerSec
  const netTx = into.netTxBytesPerSec
  deriveStats(after, before, into)
  // Throttling was read into `before` (a ratio of counts: the next refresh's figure covers it).
  into.cpuThrottledPercent = throttledPercent
  if (after.cpuReadAt === before.cpuReadAt) {
    into.cpuPercent = cpuPercent
    into.intervalSeconds = intervalSeconds
  }
  if (after.ioReadAt === before.ioReadAt) {
    into.ioReadBytesPerSec = ioRead
    into.ioWriteBytesPerSec = ioWrite
  }
  if (after.netReadAt === before.netReadAt) {
    into.netRxBytesPerSec = netRx
    into.netTxBytesPerSec = netTx
  }
}

/**
 * Stats for every cgroup of `cur`, against `prev` where the same cgroup was seen. A row
 * whose counters were carried over rather than read again (a dashboard row off screen) keeps
 * the rates it had in `lastStats`. With `reuse`, each cgroup's object in `lastStats` is
 * overwritten and returned rather than a new one made: the caller must hold no other use
 * of `lastStats`' objects than as this refresh's result.
 */
export function deriveAll(
  cur: Snapshot,
  prev: Snapshot | undefined,
  lastStats?: ReadonlyMap<string, CgroupStats>,
  reuse = false,
): CgroupStats[] {
  const out: CgroupStats[] = []
  // forEach rather than for-of: once a second, this loop may run before V8 optimises it,
  // and unoptimised iteration allocates an object per row.
  cur.cgroups.forEach((s) => {
    const p = prev?.cgroups.get(s.path)
    const last = lastStats?.get(s.path)
    // Read what may be carried before `last` is overwritten.
    const keep = p !== undefined && last !== undefined && last.identity === s.identity
    const cpuPercent = last?.cpuPercent ?? null
    const intervalSeconds = last?.intervalSeconds ?? null
    const ioRead = last?.ioReadBytesPerSec ?? null
    const ioWrite = last?.ioWriteBytesPerSec ?? null
    const throttledPercent = last?.cpuThrottledPercent ?? null
    const deviceRatesKept = last?.ioDeviceRates ?? null
    const st = deriveStats(s, p, reuse ? last : undefined)
    if (keep) {
      if (s.cpuReadAt !== undefined && s.cpuReadAt === p.cpuReadAt) {
        st.cpuPercent = cpuPercent
        st.intervalSeconds = intervalSeconds
      }
      if (s.ioReadAt !== undefined && s.ioReadAt === p.ioReadAt) {
        st.ioReadBytesPerSec = ioRead
        st.ioWriteBytesPerSec = ioWrite
        st.ioDeviceRates = deviceRatesKept
      }
      // Carried throttling counters (a row off screen): the figure it had.
      if (s.cpuPeriods !== undefined && s.cpuPeriods === p.cpuPeriods && s.cpuThrottled === p.cpuThrottled && s.cpuReadAt === p.cpuReadAt) st.cpuThrottledPercent = throttledPercent
    }
    out.push(st)
  })
  return out
}
