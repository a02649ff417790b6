import {readFileSync, statSync} from 'node:fs'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import type {OptionSpec} from '../cli/getopt.js'
import {DeviceRate, Limits, parseCpuList, parseMemory} from './limits.js'

/**
 * docker's resource flags beyond --memory, --cpus, --pids-limit and --cpuset-cpus: the soft
 * memory limit, swap, swappiness, the OOM killer, CPU shares and CFS period/quota, memory nodes,
 * and block IO weights and throttles. Parsed here into Limits (validated, devices resolved to
 * major:minor); src/container/cgroups.ts turns them into v1 or v2 files.
 */

/** The flags as given (strings; the device ones repeatable). */
export interface ResourceFlags {
  memoryReservation?: string
  memorySwap?: string
  memorySwappiness?: string
  oomKillDisable?: boolean
  cpuShares?: string
  cpuPeriod?: string
  cpuQuota?: string
  cpusetMems?: string
  blkioWeight?: string
  blkioWeightDevice?: string[]
  deviceReadBps?: string[]
  deviceWriteBps?: string[]
  deviceReadIops?: string[]
  deviceWriteIops?: string[]
}

type ScalarKey = 'memoryReservation' | 'memorySwap' | 'memorySwappiness' | 'cpuShares' | 'cpuPeriod' | 'cpuQuota' | 'cpusetMems' | 'blkioWeight'
type ListKey = 'blkioWeightDevice' | 'deviceReadBps' | 'deviceWriteBps' | 'deviceReadIops' | 'deviceWriteIops'

/** long flag name: where it goes in ResourceFlags. */
const FLAGS: Record<string, ScalarKey | ListKey | 'oomKillDisable'> = {
  'memory-reservation': 'memoryReservation',
  'memory-swap': 'memorySwap',
  'memory-swappiness': 'memorySwappiness',
  'oom-kill-disable': 'oomKillDisable',
  'cpu-shares': 'cpuShares',
  'cpu-period': 'cpuPeriod',
  'cpu-quota': 'cpuQuota',
  'cpuset-mems': 'cpusetMems',
  'blkio-weight': 'blkioWeight',
  'blkio-weight-device': 'blkioWeightDevice',
  'device-read-bps': 'deviceReadBps',
  'device-write-bps': 'deviceWriteBps',
  'device-read-iops': 'deviceReadIops',
  'device-write-iops': 'deviceWriteIops',
}
const LISTS = new Set(['blkioWeightDevice', 'deviceReadBps', 'deviceWriteBps', 'deviceReadIops', 'deviceWriteIops'])

/** getopt specs of these flags (docker's spelling; -c is --cpu-shares). */
export const RESOURCE_OPTIONS: readonly OptionSpec[] = Object.keys(FLAGS).map((long) => ({
  key: long,
  long,
  ...(long === 'cpu-shares' ? {short: 'c'} : {}),
  arg: long === 'oom-kill-disable' ? ('none' as const) : ('required' as const),
}))

export function isResourceFlag(key: string): boolean {
  return key in FLAGS
}

const bad = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 125, kind)
}

/** Record one parsed option (from getopt) into the flags. */
export function addResourceFlag(f: ResourceFlags, key: string, given: string, value: string): void {
  const field = FLAGS[key]
  if (field === 'oomKillDisable') {
    f.oomKillDisable = true
    return
  }
  if (value === '') bad(`option ${given}: empty value`)
  if (LISTS.has(field)) {
    const list = ((f as Record<string, string[] | undefined>)[field] ??= [])
    list.push(value)
    return
  }
  if ((f as Record<string, unknown>)[field] !== undefined) bad(`option ${given} may be given only once`)
  ;(f as Record<string, string>)[field] = value
}

export function anyResourceFlag(f: ResourceFlags): boolean {
  return Object.values(f).some((v) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))
}

function integer(s: string, flag: string, what: string, lo: number, hi: number): number {
  if (!/^-?\d+$/.test(s.trim())) bad(`invalid ${flag} '${s}': expected ${what}`)
  const v = Number(s)
  if (v < lo || v > hi) bad(`invalid ${flag} '${s}': the range is ${lo} to ${hi}`)
  return v
}

/** A block device path to its major:minor (the kernel's dev_t encoding). */
export function blockDeviceNumbers(path: string, flag: string): {major: number; minor: number} {
  let st
  try {
    st = statSync(path)
  } catch (err) {
    return bad(`invalid ${flag} '${path}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such device' : (err as Error).message}`)
  }
  if (!st.isBlockDevice()) bad(`invalid ${flag}: ${path} is not a block device`)
  const dev = BigInt(st.rdev)
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn))
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn))
  return {major, minor}
}

/** Bytes per second with docker's units (1mb, 512k, 1048576). */
function parseRate(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(s.trim())
  if (!m) bad(`invalid ${flag} rate '${s}': expected a size per second such as 1mb or 512k`)
  const mult: Record<string, number> = {'': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4}
  const v = Math.floor(Number(m![1]) * mult[m![2].toLowerCase()])
  if (v <= 0 || !Number.isSafeInteger(v)) bad(`invalid ${flag} rate '${s}': must be positive`)
  return v
}

/** PATH:VALUE, PATH resolved to the device's numbers. */
function deviceEntry(s: string, flag: string, value: (v: string) => number, resolve: typeof blockDeviceNumbers): DeviceRate {
  const i = s.lastIndexOf(':')
  if (i <= 0) bad(`invalid ${flag} '${s}': expected DEVICE:VALUE, e.g. /dev/sda:${flag.endsWith('weight-device') ? '200' : '1mb'}`)
  const path = s.slice(0, i)
  const v = value(s.slice(i + 1))
  return {path, ...resolve(path, flag), value: v}
}

export interface ResourceContext {
  /** --memory, already parsed (the swap and reservation are checked against it). */
  memory?: number
  /** --cpus given (it sets the CFS period and quota itself). */
  cpus?: number
  /** /sys/devices/system/node/online. */
  nodesOnline?: string
  resolveDevice?: typeof blockDeviceNumbers
}

/** Validate the flags as docker does and resolve devices; what is not given stays unset. */
export function parseResourceFlags(f: ResourceFlags, ctx: ResourceContext = {}): Partial<Limits> {
  const out: Partial<Limits> = {}
  const resolve = ctx.resolveDevice ?? blockDeviceNumbers
  if (f.memoryReservation !== undefined) {
    out.memoryReservation = parseMemory(f.memoryReservation, '--memory-reservation')
    if (ctx.memory !== undefined && out.memoryReservation > ctx.memory) bad(`--memory-reservation ${f.memoryReservation} is above --memory: the soft limit must be below the hard one`)
  }
  if (f.memorySwap !== undefined) {
    if (ctx.memory === undefined) bad('--memory-swap needs --memory (it is the limit of memory and swap together)')
    if (f.memorySwap.trim() === '-1') out.memorySwap = -1
    else {
      out.memorySwap = parseMemory(f.memorySwap, '--memory-swap')
      if (out.memorySwap < ctx.memory!) bad(`--memory-swap ${f.memorySwap} is below --memory: it counts memory and swap together, so it must be at least --memory (equal: no swap; -1: unlimited swap)`)
    }
  }
  if (f.memorySwappiness !== undefined) {
    const v = integer(f.memorySwappiness, '--memory-swappiness', 'a number from 0 to 100', -1, 100)
    if (v >= 0) out.memorySwappiness = v
  }
  if (f.oomKillDisable) out.oomKillDisable = true
  if (f.cpuShares !== undefined) {
    const v = integer(f.cpuShares, '--cpu-shares', 'a relative weight (1024 is the default)', 0, 262144)
    if (v !== 0) {
      if (v < 2) bad(`invalid --cpu-shares '${f.cpuShares}': the kernel's minimum is 2`)
      out.cpuShares = v
    }
  }
  if (f.cpuPeriod !== undefined || f.cpuQuota !== undefined) {
    if (ctx.cpus !== undefined) bad('--cpus conflicts with --cpu-period and --cpu-quota: give one or the other (--cpus N is a quota of N periods of 100ms)')
  }
  if (f.cpuPeriod !== undefined) {
    const v = integer(f.cpuPeriod, '--cpu-period', 'microseconds', 0, 1000000)
    if (v !== 0) {
      if (v < 1000) bad(`invalid --cpu-period '${f.cpuPeriod}': the range is 1000 to 1000000 microseconds`)
      out.cpuPeriod = v
    }
  }
  if (f.cpuQuota !== undefined) {
    const v = integer(f.cpuQuota, '--cpu-quota', 'microseconds per period, or -1 for none', -1, 2 ** 40)
    if (v > 0 && v < 1000) bad(`invalid --cpu-quota '${f.cpuQuota}': the minimum is 1000 microseconds`)
    if (v !== 0) out.cpuQuota = v
  }
  if (f.cpusetMems !== undefined) {
    const want = parseCpuList(f.cpusetMems, '--cpuset-mems')
    if (want.size === 0) bad(`invalid --cpuset-mems '${f.cpusetMems}': no memory node named`)
    const online = ctx.nodesOnline ?? readNodesOnline()
    const have = parseCpuList(online, 'online memory nodes')
    const missing = [...want].filter((n) => !have.has(n))
    if (missing.length > 0) bad(`invalid --cpuset-mems '${f.cpusetMems}': memory node ${missing.join(', ')} not online (online: ${online.trim()})`)
    out.cpusetMems = f.cpusetMems.trim()
  }
  const weight = (flag: string) => (s: string) => integer(s, flag, 'a weight from 10 to 1000', 10, 1000)
  if (f.blkioWeight !== undefined) {
    const v = integer(f.blkioWeight, '--blkio-weight', 'a weight from 10 to 1000 (0: unset)', 0, 1000)
    if (v !== 0) {
      if (v < 10) bad(`invalid --blkio-weight '${f.blkioWeight}': the range is 10 to 1000`)
      out.blkioWeight = v
    }
  }
  const devices = (list: string[] | undefined, flag: string, value: (v: string) => number) => (list && list.length > 0 ? list.map((s) => deviceEntry(s, flag, value, resolve)) : undefined)
  const iops = (flag: string) => (s: string) => integer(s, flag, 'IO operations per second', 1, Number.MAX_SAFE_INTEGER)
  const bps = (flag: string) => (s: string) => parseRate(s, flag)
  const set = <K extends keyof Limits>(k: K, v: Limits[K] | undefined) => {
    if (v !== undefined) out[k] = v
  }
  set('blkioWeightDevice', devices(f.blkioWeightDevice, '--blkio-weight-device', weight('--blkio-weight-device')))
  set('deviceReadBps', devices(f.deviceReadBps, '--device-read-bps', bps('--device-read-bps')))
  set('deviceWriteBps', devices(f.deviceWriteBps, '--device-write-bps', bps('--device-write-bps')))
  set('deviceReadIops', devices(f.deviceReadIops, '--device-read-iops', iops('--device-read-iops')))
  set('deviceWriteIops', devices(f.deviceWriteIops, '--device-write-iops', iops('--device-write-iops')))
  return out
}

function readNodesOnline(): string {
  try {
    return readFileSync('/sys/devices/system/node/online', 'utf8')
  } catch {
    return '0' // a kernel without NUMA has one node, 0
  }
}

/** v2's cpu.weight (1-10000) from v1's cpu.shares (2-262144): the linear map runc and crun use. */
export function cpuWeightFromShares(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142)
}

/** v2's io.weight (1-10000) from a blkio weight (10-1000), as runc converts it. */
export function ioWeightFromBlkio(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990)
}
