import type {CgroupProcess} from '../cgroup/processes.js'
import type {CgroupStats} from '../cgroup/rates.js'
import {blockDeviceName} from '../cgroup/devices.js'
import {formatBytes, formatPercent} from '../cgroup/report.js'
import {printable} from '../render/printable.js'
import {narrow} from './narrow.js'

/** A process list line: `rest` (a command) is marked when the process is in namespaces of its own. */
export interface ProcessLine {
  left: string
  rest: string
  bold: boolean
  mark: boolean
}

/**
 * The lines of the dashboard's process list for the selected cgroup `row`: its memory (when
 * no gauge shows it), a header, then as many processes as fit in `height`, each command
 * shortened to `width`, with the namespace types it does not share with pid 1.
 */
export function processLines(
  row: CgroupStats | undefined,
  processes: readonly CgroupProcess[],
  width: number,
  height: number,
  opts: {gauge: boolean; colour: boolean},
): ProcessLine[] {
  if (!row) return []
  const lines: ProcessLine[] = []
  const limit = row.memoryLimitBytes
  const memLine = `mem ${formatBytes(row.memoryBytes)} wset ${formatBytes(row.workingSetBytes)} / ${limit === undefined ? '-' : limit === null ? 'max' : formatBytes(limit)}`
  if (!opts.gauge) lines.push({left: memLine, rest: '', bold: false, mark: false})
  for (const l of pressureLines(row, width)) lines.push({left: l, rest: '', bold: false, mark: false})
  lines.push({left: `${'PID'.padStart(7)} ${'CPU%'.padStart(5)} ${'RSS'.padStart(6)} NS/COMMAND`, rest: '', bold: true, mark: false})
  for (let i = 0; i < processes.length && lines.length < height; i++) {
    const p = processes[i]
    const ns = p.namespaces.length > 0 ? `[${p.namespaces.join(',')}] ` : ''
    const left = `${String(p.pid).padStart(7)} ${formatPercent(p.cpuPercent).padStart(5)} ${formatBytes(p.rssBytes).padStart(6)} `
    const rest = ellipsizeRight(`${ns}${narrow(printable(p.command))}`, Math.max(4, width - left.length))
    lines.push({left, rest, bold: false, mark: opts.colour && p.namespaces.length > 0})
  }
  if (processes.length === 0 && row.tasks === 0) lines.push({left: '(no processes)', rest: '', bold: false, mark: false})
  return lines
}

/**
 * What the selected cgroup ran into, above its processes: CPU throttling under its quota,
 * memory events (limits hit, OOM kills) and IO per device, each only where the kernel gives it.
 */
export function pressureLines(row: CgroupStats, width: number): string[] {
  const out: string[] = []
  if (row.cpuThrottled !== undefined && row.cpuPeriods !== undefined) {
    const pct = row.cpuThrottledPercent === null ? '' : ` (${row.cpuThrottledPercent.toFixed(0)}% now)`
    out.push(`cpu throttled ${row.cpuThrottled}/${row.cpuPeriods} periods${pct}, ${((row.cpuThrottledUsec ?? 0) / 1e6).toFixed(1)}s`)
  }
  const ev: string[] = []
  if (row.memoryHighEvents !== undefined) ev.push(`high ${row.memoryHighEvents}`)
  if (row.memoryMaxEvents !== undefined) ev.push(`max ${row.memoryMaxEvents}`)
  if (row.memoryOomKills !== undefined) ev.push(`oom_kill ${row.memoryOomKills}`)
  if (ev.length > 0) out.push(`mem events ${ev.join(' ')}`)
  const rate = (v: number | null) => (v === null ? '-' : `${formatBytes(Math.round(v))}/s`)
  for (const d of row.ioDeviceRates ?? []) {
    if (d.readBytes === 0 && d.writeBytes === 0) continue
    out.push(`io ${narrow(printable(blockDeviceName(d.device) ?? d.device))} r ${rate(d.readBytesPerSec)} w ${rate(d.writeBytesPerSec)}`)
  }
  return out.map((l) => ellipsizeRight(l, Math.max(4, width)))
}

function ellipsizeRight(s: string, w: number): string {
  return s.length <= w ? s : `${s.slice(0, Math.max(0, w - 1))}…`
}
