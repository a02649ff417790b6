import {printable} from '../render/printable.js'
import {Column, renderTable} from '../render/table.js'
import {ArrangedRow} from './arrange.js'
import {blockDeviceName} from './devices.js'
import {CgroupStats} from './rates.js'

export interface IoDeviceJson {
  /** major:minor */
  device: string
  /** Its name in /dev (from /sys/dev/block), or null. */
  name: string | null
  readBytes: number
  writeBytes: number
  readBytesPerSec: number | null
  writeBytesPerSec: number | null
}

/** The --json shape of one cgroup (documented in docs/cgroups.md and docs/schemas/). */
export interface CgroupJson {
  path: string
  /** The nsx container this cgroup is (its cgroups in every hierarchy make this one row), or null. */
  container: {name: string; id: string} | null
  /** The nsx group (nsx group create) this cgroup is, or null. */
  group: string | null
  hierarchies: string[]
  tasks: number | null
  procs: number | null
  cpu: {
    usageUsec: number | null
    percent: number | null
    quotaUsec: number | null
    periodUsec: number | null
    limitPercent: number | null
    /** cpu.stat nr_periods: CFS periods in which it had tasks to run (null without a quota of its own). */
    nrPeriods: number | null
    /** cpu.stat nr_throttled: periods in which it used up its quota and was stopped. */
    nrThrottled: number | null
    /** Time throttled, µs (v1 throttled_time / 1000, v2 throttled_usec). */
    throttledUsec: number | null
    /** nr_throttled over nr_periods in the interval, percent. */
    throttledPercent: number | null
  }
  memory: {
    usageBytes: number | null
    inactiveFileBytes: number | null
    workingSetBytes: number | null
    limitBytes: number | null
    /** v2 memory.events; v1: max is memory.failcnt + memory.memsw.failcnt, oomKill memory.oom_control's oom_kill, high and oom null. */
    events: {high: number | null; max: number | null; oom: number | null; oomKill: number | null}
  }
  pids: {current: number | null; max: number | null}
  io: {
    readBytes: number | null
    writeBytes: number | null
    readBytesPerSec: number | null
    writeBytesPerSec: number | null
    /** Per block device (v1 blkio.throttle.io_service_bytes, v2 io.stat); null when not read. */
    devices: IoDeviceJson[] | null
  }
  pressure: {cpuSomeAvg10: number | null; memorySomeAvg10: number | null; ioSomeAvg10: number | null} | null
  /**
   * A container's network bytes as it sees them (received, sent, over all its interfaces,
   * from its host-side veths) and their rates; null for any other cgroup and for a container
   * with no network of its own (--network none, host, container:NAME).
   */
  network: {rxBytes: number; txBytes: number; rxBytesPerSec: number | null; txBytesPerSec: number | null} | null
}

const n = <T>(v: T | undefined): T | null => (v === undefined ? null : v)
const round = (v: number | null, digits: number): number | null => (v === null ? null : Number(v.toFixed(digits)))

export function cgroupJson(s: CgroupStats): CgroupJson {
  return {
    path: s.path,
    container: s.unit?.kind === 'container' ? {name: s.unit.name, id: s.unit.id} : null,
    group: s.unit?.kind === 'group' ? s.unit.name : null,
    hierarchies: s.hierarchies,
    tasks: n(s.tasks),
    procs: n(s.procs),
    cpu: {
      usageUsec: n(s.cpuUsageUsec),
      percent: round(s.cpuPercent, 2),
      quotaUsec: n(s.cpuQuotaUsec),
      periodUsec: n(s.cpuPeriodUsec),
      limitPercent: round(s.cpuLimitPercent, 2),
      nrPeriods: n(s.cpuPeriods),
      nrThrottled: n(s.cpuThrottled),
      throttledUsec: n(s.cpuThrottledUsec),
      throttledPercent: round(s.cpuThrottledPercent, 2),
    },
    memory: {
      usageBytes: n(s.memoryBytes),
      inactiveFileBytes: n(s.inactiveFileBytes),
      workingSetBytes: s.workingSetBytes,
      limitBytes: n(s.memoryLimitBytes),
      events: {high: n(s.memoryHighEvents), max: n(s.memoryMaxEvents), oom: n(s.memoryOomEvents), oomKill: n(s.memoryOomKills)},
    },
    pids: {current: n(s.pidsCurrent), max: n(s.pidsMax)},
    io: {
      readBytes: n(s.ioReadBytes),
      writeBytes: n(s.ioWriteBytes),
      readBytesPerSec: round(s.ioReadBytesPerSec, 0),
      writeBytesPerSec: round(s.ioWriteBytesPerSec, 0),
      devices:
        s.ioDeviceRates === null
          ? null
          : s.ioDeviceRates.map((d) => ({device: d.device, name: blockDeviceName(d.device) ?? null, readBytes: d.readBytes, writeBytes: d.writeBytes, readBytesPerSec: round(d.readBytesPerSec, 0), writeBytesPerSec: round(d.writeBytesPerSec, 0)})),
    },
    pressure: s.pressure
      ? {cpuSomeAvg10: n(s.pressure.cpu), memorySomeAvg10: n(s.pressure.memory), ioSomeAvg10: n(s.pressure.io)}
      : null,
    network:
      s.netRxBytes === undefined || s.netTxBytes === undefined
        ? null
        : {rxBytes: s.netRxBytes, txBytes: s.netTxBytes, rxBytesPerSec: round(s.netRxBytesPerSec, 0), txBytesPerSec: round(s.netTxBytesPerSec, 0)},
  }
}

/** Human sizes as cgtop and ps print them: 1024-based, one decimal below 10. */
export function formatBytes(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-'
  const units = ['B', 'K', 'M', 'G', 'T', 'P']
  let x = v
  let i = 0
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024
    i++
  }
  return i === 0 ? `${x}B` : `${x < 10 ? x.toFixed(1) : Math.round(x)}${units[i]}`
}

export function formatPercent(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : v.toFixed(1)
}

const dash = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : String(v))
const limit = (v: number | null | undefined): string => (v === undefined ? '-' : v === null ? 'max' : String(v))
const rate = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : String(Math.round(v)))

/** Batch columns: raw counters exactly as the kernel gives them (µs, bytes), and the rates. */
const BATCH_COLUMNS: Column<CgroupStats>[] = [
  {header: 'PATH', value: (s) => printable(s.path)},
  {header: 'TASKS', align: 'right', value: (s) => dash(s.tasks)},
  {header: 'CPU%', align: 'right', value: (s) => formatPercent(s.cpuPercent)},
  {header: 'CPU_USEC', align: 'right', value: (s) => dash(s.cpuUsageUsec)},
  {header: 'CPU_QUOTA', align: 'right', value: (s) => (s.cpuQuotaUsec === undefined ? '-' : s.cpuQuotaUsec === null ? 'max' : `${s.cpuQuotaUsec}/${s.cpuPeriodUsec}`)},
  {header: 'MEM_BYTES', align: 'right', value: (s) => dash(s.memoryBytes)},
  {header: 'WSET_BYTES', align: 'right', value: (s) => dash(s.workingSetBytes)},
  {header: 'MEM_MAX', align: 'right', value: (s) => limit(s.memoryLimitBytes)},
  {header: 'THROTTLED', align: 'right', value: (s) => dash(s.cpuThrottled)},
  {header: 'THR_USEC', align: 'right', value: (s) => dash(s.cpuThrottledUsec)},
  {header: 'MEM_MAX_EV', align: 'right', value: (s) => dash(s.memoryMaxEvents)},
  {header: 'OOM_KILL', align: 'right', value: (s) => dash(s.memoryOomKills)},
  {header: 'PIDS', align: 'right', value: (s) => dash(s.pidsCurrent)},
  {header: 'PIDS_MAX', align: 'right', value: (s) => limit(s.pidsMax)},
  {header: 'READ_BYTES', align: 'right', value: (s) => dash(s.ioReadBytes)},
  {header: 'WRITE_BYTES', align: 'right', value: (s) => dash(s.ioWriteBytes)},
  {header: 'READ/S', align: 'right', value: (s) => rate(s.ioReadBytesPerSec)},
  {header: 'WRITE/S', align: 'right', value: (s) => rate(s.ioWriteBytesPerSec)},
  {header: 'PSI_CPU', align: 'right', value: (s) => formatPercent(s.pressure?.cpu)},
  {header: 'PSI_MEM', align: 'right', value: (s) => formatPercent(s.pressure?.memory)},
  {header: 'PSI_IO', align: 'right', value: (s) => formatPercent(s.pressure?.io)},
  {header: 'NET_RX_BYTES', align: 'right', value: (s) => dash(s.netRxBytes)},
  {header: 'NET_TX_BYTES', align: 'right', value: (s) => dash(s.netTxBytes)},
  {header: 'NET_RX/S', align: 'right', value: (s) => rate(s.netRxBytesPerSec)},
  {header: 'NET_TX/S', align: 'right', value: (s) => rate(s.netTxBytesPerSec)},
]

export function renderBatch(rows: ArrangedRow[], header: string): string {
  return `${header}\n${renderTable(BATCH_COLUMNS, rows.map((r) => r.stats))}`
}
