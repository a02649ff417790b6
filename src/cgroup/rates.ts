import {CgroupSample, Snapshot} from './sample.js'

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
}

export type CgroupStats = CgroupSample & CgroupRates

function counterRate(prev: number | undefined, cur: number | undefined, seconds: number | null): number | null {
  if (prev === undefined || cur === undefined || seconds === null || seconds <= 0) return null
  // A counter that went backwards (reset, or a re-created cgroup we could not tell apart): no figure.
  if (cur < prev) return null
  return (cur - prev) / seconds
}

export function deriveStats(cur: CgroupSample, prev: CgroupSample | undefined): CgroupStats {
  // Only the same cgroup instance gives a meaningful delta: a re-created one starts afresh.
  const same = prev !== undefined && prev.identity === cur.identity
  const seconds =
    same && prev.cpuReadAt !== undefined && cur.cpuReadAt !== undefined ? (cur.cpuReadAt - prev.cpuReadAt) / 1000 : null
  const usec = same ? counterRate(prev.cpuUsageUsec, cur.cpuUsageUsec, seconds) : null
  const ioSeconds = same && prev.ioReadAt !== undefined && cur.ioReadAt !== undefined ? (cur.ioReadAt - prev.ioReadAt) / 1000 : null
  const rd = same ? counterRate(prev.ioReadBytes, cur.ioReadBytes, ioSeconds) : null
  const wr = same ? counterRate(prev.ioWriteBytes, cur.ioWriteBytes, ioSeconds) : null
  let workingSetBytes: number | null = null
  if (cur.memoryBytes !== undefined) workingSetBytes = Math.max(0, cur.memoryBytes - (cur.inactiveFileBytes ?? 0))
  let cpuLimitPercent: number | null = null
  if (cur.cpuQuotaUsec !== undefined && cur.cpuQuotaUsec !== null && cur.cpuPeriodUsec) {
    cpuLimitPercent = (cur.cpuQuotaUsec / cur.cpuPeriodUsec) * 100
  }
  // Spelled out rather than spread: one object shape, built fast for hundreds of rows.
  return {
    path: cur.path,
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
    cpuPercent: usec === null ? null : usec / 1e4,
    ioReadBytesPerSec: rd,
    ioWriteBytesPerSec: wr,
    workingSetBytes,
    cpuLimitPercent,
    intervalSeconds: seconds,
  }
}

/**
 * Stats for every cgroup of `cur`, against `prev` where the same cgroup was seen. A row
 * whose counters were carried over rather than read again (a dashboard row off screen) keeps
 * the rates it had in `lastStats`.
 */
export function deriveAll(cur: Snapshot, prev: Snapshot | undefined, lastStats?: ReadonlyMap<string, CgroupStats>): CgroupStats[] {
  const out: CgroupStats[] = []
  for (const s of cur.cgroups.values()) {
    const p = prev?.cgroups.get(s.path)
    const st = deriveStats(s, p)
    const last = lastStats?.get(s.path)
    if (p && last && last.identity === s.identity) {
      if (s.cpuReadAt !== undefined && s.cpuReadAt === p.cpuReadAt) {
        st.cpuPercent = last.cpuPercent
        st.intervalSeconds = last.intervalSeconds
      }
      if (s.ioReadAt !== undefined && s.ioReadAt === p.ioReadAt) {
        st.ioReadBytesPerSec = last.ioReadBytesPerSec
        st.ioWriteBytesPerSec = last.ioWriteBytesPerSec
      }
    }
    out.push(st)
  }
  return out
}
