import {readFileSync} from 'node:fs'
import {cpus, totalmem} from 'node:os'
import {keyedValue, parseBlkioServiceBytes, parseIoStat, parseLimit, parseSingleInt} from '../cgroup/counters.js'
import type {Container} from './state.js'

/**
 * docker stats of one container: its cgroups' counters (v1, v2 or hybrid: each file read from
 * whichever of the container's cgroup directories has it), in the Engine API's shape. The CPU
 * percentage is the client's to compute from two documents (cpu_stats against precpu_stats).
 */
export interface StatsDoc {
  read: string
  preread: string
  name: string
  id: string
  pids_stats: {current?: number; limit?: number}
  num_procs: number
  cpu_stats: CpuStats
  precpu_stats: CpuStats
  memory_stats: {usage?: number; limit?: number; stats?: Record<string, number>}
  blkio_stats: {io_service_bytes_recursive: {major: number; minor: number; op: string; value: number}[] | null}
  storage_stats: Record<string, never>
  networks?: Record<string, object>
}

interface CpuStats {
  cpu_usage: {total_usage: number; usage_in_kernelmode: number; usage_in_usermode: number}
  system_cpu_usage?: number
  online_cpus?: number
  throttling_data: {periods: number; throttled_periods: number; throttled_time: number}
}

const read = (dirs: readonly string[], file: string): string | undefined => {
  for (const d of dirs) {
    try {
      return readFileSync(`${d}/${file}`, 'utf8')
    } catch {
      // not in this hierarchy
    }
  }
  return undefined
}

/** The host's CPU time in nanoseconds, as docker's system_cpu_usage (the sum of /proc/stat's cpu line, at USER_HZ 100). */
function systemCpuNs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((a, b) => a + Number(b), 0)
  return ticks * 1e7
}

export const ZERO_CPU: CpuStats = {cpu_usage: {total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0}, throttling_data: {periods: 0, throttled_periods: 0, throttled_time: 0}}

export function sampleStats(c: Container, previous?: StatsDoc): StatsDoc {
  const running = c.status === 'running'
  const dirs = running ? (c.run?.cgroups ?? []) : []
  let cpu: CpuStats = ZERO_CPU
  let memory: StatsDoc['memory_stats'] = {}
  let pids: StatsDoc['pids_stats'] = {}
  let blkio: StatsDoc['blkio_stats'] = {io_service_bytes_recursive: null}
  if (running) {
    const v2stat = read(dirs, 'cpu.stat')
    const v1usage = parseSingleInt(read(dirs, 'cpuacct.usage'))
    const total = v1usage ?? (keyedValue(v2stat, 'usage_usec') ?? 0) * 1000
    const acct = read(dirs, 'cpuacct.stat')
    const user = acct ? (keyedValue(acct, 'user') ?? 0) * 1e7 : (keyedValue(v2stat, 'user_usec') ?? 0) * 1000
    const sys = acct ? (keyedValue(acct, 'system') ?? 0) * 1e7 : (keyedValue(v2stat, 'system_usec') ?? 0) * 1000
    cpu = {
      cpu_usage: {total_usage: total, usage_in_kernelmode: sys, usage_in_usermode: user},
      system_cpu_usage: systemCpuNs(),
      online_cpus: cpus().length,
      throttling_data: {periods: keyedValue(v2stat, 'nr_periods') ?? 0, throttled_periods: keyedValue(v2stat, 'nr_throttled') ?? 0, throttled_time: keyedValue(v2stat, 'throttled_time') ?? (keyedValue(v2stat, 'throttled_usec') ?? 0) * 1000},
    }
    const usage = parseSingleInt(read(dirs, 'memory.usage_in_bytes')) ?? parseSingleInt(read(dirs, 'memory.current'))
    const limit = parseLimit(read(dirs, 'memory.limit_in_bytes') ?? read(dirs, 'memory.max'))
    const statText = read(dirs, 'memory.stat')
    const stats: Record<string, number> = {}
    for (const l of (statText ?? '').split('\n')) {
      const [k, v] = l.split(' ')
      if (k && v !== undefined && /^\d+$/.test(v)) stats[k] = Number(v)
    }
    // docker's limit when none is set: the host's memory.
    const host = totalmem()
    memory = {usage: usage ?? 0, limit: limit === null || limit === undefined || limit > host ? host : limit, stats}
    const pidsMax = parseLimit(read(dirs, 'pids.max'))
    pids = {current: parseSingleInt(read(dirs, 'pids.current')) ?? 0, ...(typeof pidsMax === 'number' ? {limit: pidsMax} : {})}
    const io = parseIoStat(read(dirs, 'io.stat')) ?? parseBlkioServiceBytes(read(dirs, 'blkio.throttle.io_service_bytes_recursive') ?? read(dirs, 'blkio.throttle.io_service_bytes'))
    if (io) blkio = {io_service_bytes_recursive: [{major: 0, minor: 0, op: 'read', value: io.readBytes}, {major: 0, minor: 0, op: 'write', value: io.writeBytes}]}
  }
  return {
    read: running ? new Date().toISOString() : '0001-01-01T00:00:00Z',
    preread: previous?.read ?? '0001-01-01T00:00:00Z',
    name: `/${c.config.name}`,
    id: c.config.id,
    pids_stats: pids,
    num_procs: 0,
    cpu_stats: cpu,
    precpu_stats: previous?.cpu_stats ?? ZERO_CPU,
    memory_stats: memory,
    blkio_stats: blkio,
    storage_stats: {},
    ...networksOf(c, running),
  }
}

/**
 * docker's per-interface counters of a container with a network namespace of its own (not host,
 * none or another container's): /proc/INIT/net/dev, read from the host, lo left out.
 */
function networksOf(c: Container, running: boolean): Pick<StatsDoc, 'networks'> {
  const mode = c.config.spec.network
  const pid = c.pids?.init.pid
  if (!running || !pid || mode === 'host' || mode === 'none' || mode.startsWith('container:')) return {}
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/net/dev`, 'utf8')
  } catch {
    return {}
  }
  const networks: Record<string, object> = {}
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line)
    if (!m || m[1] === 'lo') continue
    const v = m[2].trim().split(/\s+/).map(Number)
    networks[m[1]] = {rx_bytes: v[0], rx_packets: v[1], rx_errors: v[2], rx_dropped: v[3], tx_bytes: v[8], tx_packets: v[9], tx_errors: v[10], tx_dropped: v[11]}
  }
  return Object.keys(networks).length > 0 ? {networks} : {}
}
