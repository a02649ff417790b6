import {performance} from 'node:perf_hooks'
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
import type {ControlFile} from './files.js'
import type {Row} from './row-files.js'
import type {CgroupSample, CgroupUnit, UnitTraffic} from './snapshot.js'

/**
 * The readers of a row's control files, one per figure (CPU, memory, memory events, IO,
 * pressure, throttling, limits), each filling a CgroupSample: what the Collector (sample.ts)
 * calls on each refresh. `read` reads one open control file (undefined: absent or gone).
 */

export type ReadFile = (f: ControlFile | undefined) => Buffer | undefined

/** A row's limits, read now and then and carried in between (`identity`: the cgroups they were read from). */
export interface Limits {
  identity: string
  cpuQuotaUsec?: number | null
  cpuPeriodUsec?: number
  memoryLimitBytes?: number | null
  pidsMax?: number | null
}

/** A row off screen: every reading but its sort key's is carried over from its last sample. */
export function carrySample(prev: CgroupSample, s: CgroupSample): void {
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

/**
 * CFS throttling (cpu.stat nr_periods, nr_throttled, throttled time), where the cgroup has a
 * CPU quota of its own: without one the kernel never throttles it, and its counters stand
 * still (at zero, or where an earlier quota left them), so they are not read.
 */
export function readThrottling(read: ReadFile, row: Row, s: CgroupSample): void {
  if (s.cpuQuotaUsec === undefined || s.cpuQuotaUsec === null) return
  let t
  if (row.cpuStat) t = parseCpuThrottling(read(row.cpuStat))
  else if (row.cpuStatInCpu) t = parseCpuThrottling(read(row.cpu))
  if (t === undefined) return
  s.cpuPeriods = t.periods
  s.cpuThrottled = t.throttled
  s.cpuThrottledUsec = t.throttledUsec
}

export function carryMemoryEvents(prev: CgroupSample, s: CgroupSample): void {
  s.memoryHighEvents = prev.memoryHighEvents
  s.memoryMaxEvents = prev.memoryMaxEvents
  s.memoryOomEvents = prev.memoryOomEvents
  s.memoryOomKills = prev.memoryOomKills
}

/** v2 memory.events (high, max, oom, oom_kill); v1 memory.failcnt plus memory.memsw.failcnt (as max) and memory.oom_control's oom_kill. */
export function readMemoryEvents(read: ReadFile, row: Row, s: CgroupSample): void {
  if (row.memEvents) {
    const b = read(row.memEvents)
    if (b === undefined) return
    s.memoryHighEvents = keyedValue(b, 'high')
    s.memoryMaxEvents = keyedValue(b, 'max')
    s.memoryOomEvents = keyedValue(b, 'oom')
    s.memoryOomKills = keyedValue(b, 'oom_kill')
  } else if (row.memFailcnt) {
    // A charge tries memory+swap first, then memory: each failure counts in one of the two.
    const mem = parseSingleInt(read(row.memFailcnt))
    const memsw = parseSingleInt(read(row.memswFailcnt))
    s.memoryMaxEvents = mem === undefined ? undefined : mem + (memsw ?? 0)
    s.memoryOomKills = keyedValue(read(row.memOomControl), 'oom_kill')
  }
}

export function readPressure(read: ReadFile, row: Row, s: CgroupSample): void {
  if (!row.psiCpu) return
  const cpu = parsePressureSomeAvg10(read(row.psiCpu))
  const memory = parsePressureSomeAvg10(read(row.psiMemory))
  const io = parsePressureSomeAvg10(read(row.psiIo))
  s.pressure = cpu !== undefined || memory !== undefined || io !== undefined ? {cpu, memory, io} : undefined
}

/** `memoryVersion`: the memory controller's hierarchy's (its memory.stat names differ). */
export function readMemory(read: ReadFile, row: Row, s: CgroupSample, withStat: boolean, memoryVersion: 1 | 2 | undefined): void {
  if (row.meminfo) {
    // The cgroup2 root: what the whole machine uses, as systemd-cgtop shows it there
    // (MemTotal - MemAvailable, which already leaves out reclaimable cache).
    const b = read(row.meminfo)
    const total = keyedMeminfo(b, 'MemTotal:')
    const available = total === undefined ? undefined : keyedMeminfo(b, 'MemAvailable:')
    s.memoryBytes = total === undefined || available === undefined ? undefined : (total - available) * 1024
    if (withStat) s.inactiveFileBytes = s.memoryBytes === undefined ? undefined : 0
    return
  }
  if (!row.memUsage) return
  s.memoryBytes = parseSingleInt(read(row.memUsage))
  if (withStat) s.inactiveFileBytes = keyedValue(read(row.memStat), memoryVersion === 1 ? 'total_inactive_file' : 'inactive_file')
}

/** The CPU counter, read now (µs; v1 cpuacct.usage is in ns). */
export function readCpuCounter(read: ReadFile, row: Row, s: CgroupSample): void {
  if (!row.cpu) return
  s.cpuReadAt = performance.now()
  if (row.cpuFrom!.version === 1) {
    const ns = parseSingleInt(read(row.cpu))
    s.cpuUsageUsec = ns === undefined ? undefined : Math.floor(ns / 1000)
  } else {
    s.cpuUsageUsec = keyedValue(read(row.cpu), 'usage_usec')
  }
}

/** `devices`: per device as well as summed (every figure); without, the sums alone (a sort key). */
export function readIo(read: ReadFile, row: Row, s: CgroupSample, devices = false): void {
  if (!row.io) return
  s.ioReadAt = performance.now()
  let io: IoBytes | undefined
  if (row.ioFallback) {
    let b = read(row.io)
    if (b === undefined) b = read(row.ioFallback)
    io = parseBlkioServiceBytes(b)
    if (devices) s.ioDevices = parseBlkioDevices(b)
  } else {
    const b = read(row.io)
    io = parseIoStat(b)
    if (devices) s.ioDevices = parseIoStatDevices(b)
  }
  s.ioReadBytes = io?.readBytes
  s.ioWriteBytes = io?.writeBytes
  // Sums alone: a carried breakdown would not match them.
  if (!devices) s.ioDevices = undefined
}

/** The CPU quota and period, the memory limit and the pids limit of a row. */
export function readLimits(read: ReadFile, row: Row): Limits {
  const lim: Limits = {identity: row.identity, cpuQuotaUsec: undefined, cpuPeriodUsec: undefined, memoryLimitBytes: undefined, pidsMax: undefined}
  if (row.cpuQuota) {
    // Parse each file as soon as it is read: the next read reuses the buffer.
    const quota = parseSingleInt(read(row.cpuQuota))
    const period = parseSingleInt(read(row.cpuPeriod))
    if (quota !== undefined && period !== undefined && period > 0) {
      lim.cpuQuotaUsec = quota < 0 ? null : quota
      lim.cpuPeriodUsec = period
    }
  } else if (row.cpuMax) {
    const max = parseCpuMax(read(row.cpuMax))
    if (max) {
      lim.cpuQuotaUsec = max.quotaUsec
      lim.cpuPeriodUsec = max.periodUsec
    }
  }
  if (row.memLimit) lim.memoryLimitBytes = parseLimit(read(row.memLimit))
  if (row.pidsMax) lim.pidsMax = parseLimit(read(row.pidsMax))
  return lim
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

/** A container row's network bytes, from the sample's one reading of every link (`at`). */
export function readTraffic(traffic: UnitTraffic | undefined, unit: CgroupUnit | undefined, s: CgroupSample, at: number): void {
  if (traffic === undefined || unit?.kind !== 'container') return
  const t = traffic.of(unit.id)
  if (t === undefined) return
  s.netRxBytes = t.rxBytes
  s.netTxBytes = t.txBytes
  s.netReadAt = at
}
