/**
 * Parsers for cgroup control files, v1 and v2. They run for every cgroup on every refresh,
 * so they scan with indexOf/charCodeAt instead of splitting whole files or using regexes.
 * A value that is absent or unparsable reads as undefined, never as 0: a missing figure
 * must not look like an idle cgroup.
 */

/** Parse a decimal integer starting at `from`, stopping at the first non-digit. */
function intAt(text: string, from: number): number | undefined {
  let n = 0
  let i = from
  let any = false
  const neg = text.charCodeAt(i) === 45 // '-'
  if (neg) i++
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 48 || c > 57) break
    n = n * 10 + (c - 48)
    any = true
  }
  if (!any) return undefined
  return neg ? -n : n
}

/** A file holding one integer (cpuacct.usage, memory.current, pids.current, ...). */
export function parseSingleInt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  return intAt(text, 0)
}

/**
 * The value of `key` in a flat-keyed file ("key value\n" lines: cpu.stat, memory.stat).
 * Matches the key only at the start of a line, so "inactive_file" does not match "total_inactive_file".
 */
export function keyedValue(text: string | undefined, key: string): number | undefined {
  if (text === undefined) return undefined
  let at = 0
  for (;;) {
    const i = text.indexOf(key, at)
    if (i < 0) return undefined
    const startOfLine = i === 0 || text.charCodeAt(i - 1) === 10
    const after = i + key.length
    if (startOfLine && text.charCodeAt(after) === 32) return intAt(text, after + 1)
    at = after
  }
}

/**
 * A limit file: "max" (v2) means unlimited, as does v1's huge "no limit" value
 * (PAGE_COUNTER_MAX rounded to pages, e.g. 9223372036854771712). Unlimited is null.
 */
export function parseLimit(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined
  if (text.startsWith('max')) return null
  const n = intAt(text, 0)
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
export function parseCpuMax(text: string | undefined): CpuLimit | undefined {
  if (text === undefined) return undefined
  const sp = text.indexOf(' ')
  if (sp < 0) return undefined
  const period = intAt(text, sp + 1)
  if (period === undefined || period <= 0) return undefined
  if (text.startsWith('max')) return {quotaUsec: null, periodUsec: period}
  const quota = intAt(text, 0)
  return quota === undefined ? undefined : {quotaUsec: quota, periodUsec: period}
}

/** v1 cpu.cfs_quota_us (-1 = unlimited) and cpu.cfs_period_us. */
export function parseCfs(quotaText: string | undefined, periodText: string | undefined): CpuLimit | undefined {
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
export function parseIoStat(text: string | undefined): IoBytes | undefined {
  if (text === undefined) return undefined
  let readBytes = 0
  let writeBytes = 0
  let at = 0
  for (;;) {
    const r = text.indexOf('rbytes=', at)
    if (r < 0) break
    readBytes += intAt(text, r + 7) ?? 0
    const w = text.indexOf('wbytes=', r)
    if (w < 0) break
    writeBytes += intAt(text, w + 7) ?? 0
    at = w + 7
  }
  return {readBytes, writeBytes}
}

/**
 * v1 blkio.throttle.io_service_bytes(_recursive): "8:0 Read 123" lines per device and
 * operation, then "Total N". Sums the per-device Read and Write lines.
 */
export function parseBlkioServiceBytes(text: string | undefined): IoBytes | undefined {
  if (text === undefined) return undefined
  let readBytes = 0
  let writeBytes = 0
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    const sp = text.indexOf(' ', start)
    if (sp > start && sp < end) {
      // "MAJ:MIN Op Value": the op is the second word.
      const sp2 = text.indexOf(' ', sp + 1)
      if (sp2 > sp && sp2 < end) {
        const op = text.slice(sp + 1, sp2)
        if (op === 'Read') readBytes += intAt(text, sp2 + 1) ?? 0
        else if (op === 'Write') writeBytes += intAt(text, sp2 + 1) ?? 0
      }
    }
    start = end + 1
  }
  return {readBytes, writeBytes}
}

/** "some avg10=1.52 avg60=..." in a v2 *.pressure file: the some avg10 percentage. */
export function parsePressureSomeAvg10(text: string | undefined): number | undefined {
  if (text === undefined || !text.startsWith('some ')) return undefined
  const i = text.indexOf('avg10=')
  if (i < 0) return undefined
  const end = text.indexOf(' ', i)
  const v = Number(text.slice(i + 6, end < 0 ? undefined : end))
  return Number.isFinite(v) ? v : undefined
}

/** Number of lines holding a pid in cgroup.procs. */
export function countLines(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  let n = 0
  let at = 0
  for (;;) {
    const i = text.indexOf('\n', at)
    if (i < 0) break
    if (i > at) n++
    at = i + 1
  }
  if (at < text.length) n++
  return n
}

/** The pids listed in cgroup.procs. */
export function parsePidList(text: string | undefined): number[] {
  if (text === undefined) return []
  const out: number[] = []
  let at = 0
  while (at < text.length) {
    const v = intAt(text, at)
    if (v !== undefined) out.push(v)
    const nl = text.indexOf('\n', at)
    if (nl < 0) break
    at = nl + 1
  }
  return out
}
