import {NsxError, type ErrorKind} from '../cli/errors.js'

/** Resource limits of a container, validated (docker's flags and units). */
export interface Limits {
  /** Bytes (--memory). */
  memory?: number
  /** CPUs, possibly fractional (--cpus). */
  cpus?: number
  /** Maximum number of tasks (--pids-limit). */
  pids?: number
  /** A cpuset list such as "0-1,3" (--cpuset-cpus). */
  cpusetCpus?: string
  /** The devices allow-list as cgroup v1 writes (src/security/devices.ts); used where there is no cgroup2 tree, or with devicesV1. */
  devices?: {file: string; value: string}[]
  /**
   * Device rules beyond docker's defaults were asked (--device, --device-cgroup-rule): on a hybrid
   * host the v1 devices cgroup is made and written too, beside the eBPF program, so what reads
   * /sys/fs/cgroup/devices/devices.list inside (as under docker in v1 mode) sees them.
   */
  devicesV1?: boolean
  /** Bytes: the soft limit (--memory-reservation). */
  memoryReservation?: number
  /** Bytes of memory and swap together, -1 for unlimited swap (--memory-swap; equal to memory: no swap). */
  memorySwap?: number
  /** 0-100 (--memory-swappiness; v1 only). */
  memorySwappiness?: number
  /** --oom-kill-disable (v1 only). */
  oomKillDisable?: boolean
  /** Relative CPU weight, v1 cpu.shares units (--cpu-shares). */
  cpuShares?: number
  /** CFS period and quota in microseconds (--cpu-period, --cpu-quota; quota -1: none). */
  cpuPeriod?: number
  cpuQuota?: number
  /** Memory nodes, a list such as "0" (--cpuset-mems). */
  cpusetMems?: string
  /** 10-1000 (--blkio-weight). */
  blkioWeight?: number
  blkioWeightDevice?: DeviceRate[]
  deviceReadBps?: DeviceRate[]
  deviceWriteBps?: DeviceRate[]
  deviceReadIops?: DeviceRate[]
  deviceWriteIops?: DeviceRate[]
}

/** A per-device weight or throttle: the device as given, its numbers, and the value. */
export interface DeviceRate {
  path: string
  major: number
  minor: number
  value: number
}

const bad = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 125, kind)
}

const UNITS: Record<string, number> = {'': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4}

/** docker refuses less than 6 MiB: a container's own setup needs about that much. */
export const MIN_MEMORY = 6 * 1024 * 1024

/** "512m", "1g", "1.5g", "268435456": bytes. */
export function parseMemory(s: string, flag = '--memory'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(s.trim())
  if (!m) bad(`invalid ${flag} '${s}': expected a size such as 512m or 1g (units b, k, m, g, t)`)
  const bytes = Math.floor(Number(m![1]) * UNITS[m![2].toLowerCase()])
  if (!Number.isSafeInteger(bytes)) bad(`invalid ${flag} '${s}': too large`)
  if (bytes < MIN_MEMORY) bad(`invalid ${flag} '${s}': the minimum is 6m`)
  return bytes
}

/** "1.5": CPUs, from 0.01 to the number online. */
export function parseCpus(s: string, online: number): number {
  if (!/^\d+(\.\d+)?$/.test(s.trim())) bad(`invalid --cpus '${s}': expected a number of CPUs such as 0.5 or 2`)
  const v = Number(s)
  if (v < 0.01 || v > online) bad(`invalid --cpus '${s}': the range is 0.01 to ${online} (CPUs online)`)
  return v
}

/** A positive number of tasks; -1 (or 0) means unlimited, as in docker. */
export function parsePidsLimit(s: string): number | undefined {
  if (!/^-?\d+$/.test(s.trim())) bad(`invalid --pids-limit '${s}': expected a number of processes, or -1 for no limit`)
  const v = Number(s)
  if (v <= 0) return undefined
  if (v > 4194304) bad(`invalid --pids-limit '${s}': the kernel allows at most 4194304 tasks`)
  return v
}

/** "0-2,4" to the set of CPU numbers; throws on syntax errors. */
export function parseCpuList(s: string, what: string): Set<number> {
  const out = new Set<number>()
  const text = s.trim()
  if (text === '') return out
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!m) bad(`invalid ${what} '${s}': expected a list such as 0-1,3`)
    const lo = Number(m![1])
    const hi = m![2] === undefined ? lo : Number(m![2])
    if (hi < lo) bad(`invalid ${what} '${s}': ${part} is an empty range`)
    for (let c = lo; c <= hi; c++) out.add(c)
  }
  return out
}

/** --cpuset-cpus, checked against the CPUs online (/sys/devices/system/cpu/online). */
export function parseCpuset(s: string, online: string): string {
  const want = parseCpuList(s, '--cpuset-cpus')
  if (want.size === 0) bad(`invalid --cpuset-cpus '${s}': no CPU named`)
  const have = parseCpuList(online, 'online CPU list')
  const missing = [...want].filter((c) => !have.has(c))
  if (missing.length > 0) bad(`invalid --cpuset-cpus '${s}': CPU ${missing.join(', ')} not online (online: ${online.trim()})`)
  return s.trim()
}

/** CFS period docker uses; --cpus N becomes a quota of N periods. */
export const CFS_PERIOD_US = 100000

export function cpuQuotaUs(cpus: number): number {
  return Math.round(cpus * CFS_PERIOD_US)
}
