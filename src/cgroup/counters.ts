/**
 * Parsers for cgroup control files, v1 and v2. They run for every cgroup on every refresh,
 * so they scan bytes (the buffer a file was read into) without making strings, splitting
 * or using regexes. Strings are accepted too, for callers holding text.
 * A value that is absent or unparsable reads as undefined, never as 0: a missing figure
 * must not look like an idle cgroup.
 */
export type Bytes = Uint8Array | string

const bytes = (b: Bytes): Uint8Array => (typeof b === 'string' ? Buffer.from(b, 'latin1') : b)

const NL = 10
const SPACE = 32

/** Parse a decimal integer at `from`, stopping at the first non-digit. */
function intAt(b: Uint8Array, from: number): number | undefined {
  let n = 0
  let i = from
  let any = false
  const neg = b[i] === 45 // '-'
  if (neg) i++
  for (; i < b.length; i++) {
    const c = b[i]
    if (c < 48 || c > 57) break
    n = n * 10 + (c - 48)
    any = true
  }
  if (!any) return undefined
  return neg ? -n : n
}

/** Index of `needle` in `b` at or after `from`, or -1. */
function indexOf(b: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]
  const last = b.length - needle.length
  outer: for (let i = from; i <= last; i++) {
    if (b[i] !== first) continue
    for (let j = 1; j < needle.length; j++) if (b[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

const keyCache = new Map<string, Uint8Array>()
const keyBytes = (k: string): Uint8Array => {
  let v = keyCache.get(k)
  if (!v) keyCache.set(k, (v = Buffer.from(k, 'latin1')))
  return v
}

/** A file holding one integer (cpuacct.usage, memory.current, pids.current, ...). */
export function parseSingleInt(text: Bytes | undefined): number | undefined {
  if (text === undefined) return undefined
  return intAt(bytes(text), 0)
}

/**
 * The value of `key` in a flat-keyed file ("key value\n" lines: cpu.stat, memory.stat).
 * Matches the key only at the start of a line, so "inactive_file" does not match "total_inactive_file".
 */
export function keyedValue(text: Bytes | undefined, key: string): number | undefined {
  if (text === undefined) return undefined
  const b = bytes(text)
  const k = keyBytes(key)
  let at = 0
  for (;;) {
    const i = indexOf(b, k, at)
    if (i < 0) return undefined
    const after = i + k.length
    if ((i === 0 || b[i - 1] === NL) && b[after] === SPACE) return intAt(b, after + 1)
    at = after
  }
}

/**
 * A limit file: "max" (v2) means unlimited, as does v1's huge "no limit" value
 * (PAGE_COUNTER_MAX rounded to pages, e.g. 9223372036854771712). Unlimited is null.
 */
export function parseLimit(text: Bytes | undefined): number | null | undefined {
  if (text === undefined) return undefined
  const b = bytes(text)
  if (b[0] === 109 && b[1] === 97 && b[2] === 120) return null // "max"
  const n = intAt(b, 0)
  if (n === undefined) return undefined
  // v1 writes ~2^63 for "no limit"; anything above 2^60 bytes (an exbibyte) is not a real limit.
  if (n >= 2 ** 60 || n < 0) return null
  return n
}

/** CPU bandwidth limit as quota and period in microseconds; quota null = unlimited. */
export interface CpuLimit {
  quotaUsec: number | null
  periodUsec: number
}

/** v2 cpu.max: "max 100000" or "50000 100000". */
export function parseCpuMax(text: Bytes | undefined): CpuLimit | undefined {
  if (text === undefined) return undefined
  const b = bytes(text)
  const sp = b.indexOf(SPACE)
  if (sp < 0) return undefined
  const period = intAt(b, sp + 1)
  if (period === undefined || period <= 0) return undefined
  if (b[0] === 109) return {quotaUsec: null, periodUsec: period} // "max"
  const quota = intAt(b, 0)
  return quota === undefined ? undefined : {quotaUsec: quota, periodUsec: period}
}

/** v1 cpu.cfs_quota_us (-1 = unlimited) and cpu.cfs_period_us. */
export function parseCfs(quotaText: Bytes | undefined, periodText: Bytes | undefined): CpuLimit | undefined {
  const quota = parseSingleInt(quotaText)
  const period = parseSingleInt(periodText)
  if (quota === undefined || period === undefined || period <= 0) return undefined
  return {quotaUsec: quota < 0 ? null : quota, periodUsec: period}
}

export interface IoBytes {
  readBytes: number
  writeBytes: number
}

/**
 * v2 io.stat: one line per device, "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0".
 * Summed over devices.
 */
export function parseIoStat(text: Bytes | undefined): IoBytes | undefined {
  if (text === undefined) return undefined
  const b = bytes(text)
  const rk = keyBytes('rbytes=')
  const wk = keyBytes('wbytes=')
  let readBytes = 0
  let writeBytes = 0
  let at = 0
  for (;;) {
    const r = indexOf(b, rk, at)
    if (r < 0) break
    readBytes += intAt(b, r + 7) ?? 0
    const w = indexOf(b, wk, r)
    if (w < 0) break
    writeBytes += intAt(b, w + 7) ?? 0
    at = w + 7
  }
  return {readBytes, writeBytes}
}

/**
 * v1 blkio.throttle.io_service_bytes(_recursive): "8:0 Read 123" lines per device and
 * operation, then "Total N". Sums the per-device Read and Write lines.
 */
export function parseBlkioServiceBytes(text: Bytes | undefined): IoBytes | undefined {
  if (text === undefined) return undefined
  const b = bytes(text)
  let readBytes = 0
  let writeBytes = 0
  let start = 0
  while (start < b.length) {
    let end = b.indexOf(NL, start)
    if (end < 0) end = b.length
    const sp = b.indexOf(SPACE, start)
    if (sp > start && sp < end) {
      // "MAJ:MIN Op Value": the op is the second word.
      const op = b[sp + 1]
      const sp2 = b.indexOf(SPACE, sp + 1)
      if (sp2 > sp && sp2 < end) {
        const len = sp2 - sp - 1
        if (op === 82 && len === 4) readBytes += intAt(b, sp2 + 1) ?? 0 // "Read"
        else if (op === 87 && len === 5) writeBytes += intAt(b, sp2 + 1) ?? 0 // "Write"
      }
    }
    start = end + 1
  }
  return {readBytes, writeBytes}
}

/** "some avg10=1.52 avg60=..." in a v2 *.pressure file: the some avg10 percentage. */
export function parsePressureSomeAvg10(text: Bytes | undefined): number | undefined {
  if (text === undefined) return undefined
  const b = bytes(text)
  // "some avg10=" is 11 bytes; the value is "12.34".
  if (b[0] !== 115 || b[5] !== 97 || b[10] !== 61) return undefined
  const whole = intAt(b, 11)
  if (whole === undefined) return undefined
  let i = 11
  while (b[i] >= 48 && b[i] <= 57) i++
  if (b[i] !== 46) return whole
  let frac = 0
  let scale = 1
  for (i++; b[i] >= 48 && b[i] <= 57; i++) {
    frac = frac * 10 + (b[i] - 48)
    scale *= 10
  }
  return whole + frac / scale
}

/** Number of non-empty lines (pids in cgroup.procs). */
export function countLines(text: Bytes | undefined): number | undefined {
  if (text === undefined) return undefined
  const b = bytes(text)
  let n = 0
  let prev = NL
  for (let i = 0; i < b.length; i++) {
    if (b[i] === NL && prev !== NL) n++
    prev = b[i]
  }
  if (b.length > 0 && prev !== NL) n++
  return n
}

/** The pids listed in cgroup.procs. */
export function parsePidList(text: Bytes | undefined): number[] {
  if (text === undefined) return []
  const b = bytes(text)
  const out: number[] = []
  let at = 0
  while (at < b.length) {
    const v = intAt(b, at)
    if (v !== undefined) out.push(v)
    const nl = b.indexOf(NL, at)
    if (nl < 0) break
    at = nl + 1
  }
  return out
}

/** One block device's cumulative IO in a cgroup, by its major:minor ("254:0"). */
export interface IoDeviceBytes {
  device: string
  readBytes: number
  writeBytes: number
}

/** The "MAJ:MIN" word starting a line at `from`, as text, or undefined. */
function deviceAt(b: Uint8Array, from: number, end: number): {device: string; after: number} | undefined {
  let i = from
  let colon = false
  while (i < end && ((b[i] >= 48 && b[i] <= 57) || (b[i] === 58 && !colon))) {
    if (b[i] === 58) colon = true
    i++
  }
  if (!colon || i === from || b[i] !== SPACE) return undefined
  return {device: Buffer.from(b.buffer, b.byteOffset + from, i - from).toString('latin1'), after: i + 1}
}

/** Calls `line` for each line of `b` that starts with a "MAJ:MIN " word (per-device IO files). */
function eachDeviceLine(b: Uint8Array, line: (device: string, after: number, end: number) => void): void {
  let start = 0
  while (start < b.length) {
    let end = b.indexOf(NL, start)
    if (end < 0) end = b.length
    const d = deviceAt(b, start, end)
    if (d !== undefined) line(d.device, d.after, end)
    start = end + 1
  }
}

/** v2 io.stat per device ("8:0 rbytes=1 wbytes=2 ..."), in the kernel's order. */
export function parseIoStatDevices(text: Bytes | undefined): IoDeviceBytes[] | undefined {
  if (text === undefined) return undefined
  const b = bytes(text)
  const out: IoDeviceBytes[] = []
  const rk = keyBytes('rbytes=')
  const wk = keyBytes('wbytes=')
  eachDeviceLine(b, (device, after, end) => {
    const r = indexOf(b, rk, after)
    const w = indexOf(b, wk, after)
    out.push({device, readBytes: r >= 0 && r < end ? (intAt(b, r + 7) ?? 0) : 0, writeBytes: w >= 0 && w < end ? (intAt(b, w + 7) ?? 0) : 0})
  })
  return out
}

/** v1 blkio.throttle.io_service_bytes(_recursive) per device: its "MAJ:MIN Read N" and "MAJ:MIN Write N" lines. */
export function parseBlkioDevices(text: Bytes | undefined): IoDeviceBytes[] | undefined {
  if (text === undefined) return undefined
  const b = bytes(text)
  const out: IoDeviceBytes[] = []
  eachDeviceLine(b, (device, after, end) => {
    const sp = b.indexOf(SPACE, after)
    const len = sp - after
    const read = b[after] === 82 && len === 4 // "Read"
    const write = b[after] === 87 && len === 5 // "Write"
    if (sp < 0 || sp >= end || !(read || write)) return
    let e = out.length > 0 && out[out.length - 1].device === device ? out[out.length - 1] : out.find((x) => x.device === device)
    if (e === undefined) out.push((e = {device, readBytes: 0, writeBytes: 0}))
    if (read) e.readBytes += intAt(b, sp + 1) ?? 0
    else e.writeBytes += intAt(b, sp + 1) ?? 0
  })
  return out
}

/** CPU bandwidth throttling in cpu.stat: v1 nr_periods, nr_throttled, throttled_time (ns); v2 the same with throttled_usec. */
export interface CpuThrottling {
  periods: number
  throttled: number
  throttledUsec: number
}

export function parseCpuThrottling(text: Bytes | undefined): CpuThrottling | undefined {
  if (text === undefined) return undefined
  const periods = keyedValue(text, 'nr_periods')
  const throttled = keyedValue(text, 'nr_throttled')
  if (periods === undefined || throttled === undefined) return undefined
  const usec = keyedValue(text, 'throttled_usec')
  const ns = usec === undefined ? keyedValue(text, 'throttled_time') : undefined
  const throttledUsec = usec ?? (ns === undefined ? undefined : Math.floor(ns / 1000))
  if (throttledUsec === undefined) return undefined
  return {periods, throttled, throttledUsec}
}
