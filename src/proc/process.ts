import {AccessLog, PROC_ROOT, listNumeric, readLink, readText} from './fs.js'

/** The parts of /proc/PID/status nsx uses. */
export interface ProcStatus {
  name: string
  /** State letter: R, S, D, Z (zombie), T, ... */
  state: string
  pid: number
  tgid: number
  ppid: number
  /** real, effective, saved, filesystem */
  uid: [number, number, number, number]
  gid: [number, number, number, number]
  groups: number[]
  /** pid as seen in each pid namespace, outermost first (NSpid). */
  nspid: number[]
  nstgid: number[]
  threads: number
  capInh: bigint
  capPrm: bigint
  capEff: bigint
  capBnd: bigint
  capAmb: bigint
  noNewPrivs: boolean
  /** 0 disabled, 1 strict, 2 filter */
  seccomp: number
  seccompFilters: number
  /** From the Kthread field (Linux 6.x); older kernels: no VmSize and not a zombie (zombies lose VmSize too). */
  kernelThread: boolean
}

const nums = (s: string | undefined): number[] =>
  s === undefined || s.trim() === '' ? [] : s.trim().split(/\s+/).map(Number)

/** The fields parseStatus reads (the rest of the ~55 lines are skipped unsliced: nsx audit parses every process's). */
const STATUS_FIELDS: ReadonlySet<string> = new Set(['Name', 'State', 'Tgid', 'Pid', 'PPid', 'Uid', 'Gid', 'Groups', 'NStgid', 'NSpid', 'Kthread', 'VmSize', 'Threads', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters'])

export function parseStatus(text: string): ProcStatus {
  const fields = new Map<string, string>()
  for (let at = 0; at < text.length; ) {
    let end = text.indexOf('\n', at)
    if (end < 0) end = text.length
    const i = text.indexOf(':', at)
    if (i > at && i < end) {
      const key = text.slice(at, i)
      if (STATUS_FIELDS.has(key)) fields.set(key, text.slice(i + 1, end).trim())
    }
    at = end + 1
  }
  const quad = (k: string): [number, number, number, number] => {
    const v = nums(fields.get(k))
    return [v[0] ?? -1, v[1] ?? -1, v[2] ?? -1, v[3] ?? -1]
  }
  const hex = (k: string) => BigInt(`0x${fields.get(k) ?? '0'}`)
  const pid = Number(fields.get('Pid') ?? -1)
  const nspid = nums(fields.get('NSpid'))
  const state = (fields.get('State') ?? '?').charAt(0)
  const kthread = fields.get('Kthread')
  return {
    name: fields.get('Name') ?? '',
    state,
    pid,
    tgid: Number(fields.get('Tgid') ?? pid),
    ppid: Number(fields.get('PPid') ?? 0),
    uid: quad('Uid'),
    gid: quad('Gid'),
    groups: nums(fields.get('Groups')),
    nspid: nspid.length > 0 ? nspid : [pid],
    nstgid: nums(fields.get('NStgid')),
    threads: Number(fields.get('Threads') ?? 1),
    capInh: hex('CapInh'),
    capPrm: hex('CapPrm'),
    capEff: hex('CapEff'),
    capBnd: hex('CapBnd'),
    capAmb: hex('CapAmb'),
    noNewPrivs: fields.get('NoNewPrivs') === '1',
    seccomp: Number(fields.get('Seccomp') ?? 0),
    seccompFilters: Number(fields.get('Seccomp_filters') ?? 0),
    kernelThread: kthread !== undefined ? kthread === '1' : !fields.has('VmSize') && state !== 'Z',
  }
}

export function readStatus(pid: number, log?: AccessLog, root = PROC_ROOT): ProcStatus | undefined {
  const text = readText(`${root}/${pid}/status`, log, 'process status files')
  return text === undefined ? undefined : parseStatus(text)
}

/** Command line with NULs as spaces; falls back to [comm] like ps for kernel threads. */
export function readCommandLine(pid: number, root = PROC_ROOT): string | undefined {
  const raw = readText(`${root}/${pid}/cmdline`)
  if (raw === undefined) return undefined
  return raw.replace(/\0+$/, '').replace(/\0/g, ' ')
}

export function readComm(pid: number, root = PROC_ROOT): string | undefined {
  return readText(`${root}/${pid}/comm`)?.replace(/\n$/, '')
}

/** Fields of /proc/PID/stat after the command name (which may hold spaces and parens). */
export interface ProcStat {
  comm: string
  state: string
  ppid: number
  pgrp: number
  session: number
  utime: number
  stime: number
  starttime: number
  rss: number
}

export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  const rest = text.slice(close + 2).split(' ')
  return {
    comm: text.slice(open + 1, close),
    state: rest[0],
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    utime: Number(rest[11]),
    stime: Number(rest[12]),
    starttime: Number(rest[19]),
    rss: Number(rest[21]),
  }
}

export function readStat(pid: number, root = PROC_ROOT): ProcStat | undefined {
  const text = readText(`${root}/${pid}/stat`)
  return text === undefined ? undefined : parseStat(text)
}

export function listPids(log?: AccessLog, root = PROC_ROOT): number[] {
  return listNumeric(root, log) ?? []
}

export function listTasks(pid: number, log?: AccessLog, root = PROC_ROOT): number[] {
  return listNumeric(`${root}/${pid}/task`, log, 'task lists') ?? []
}

export function readRoot(pid: number, log?: AccessLog, root = PROC_ROOT): string | undefined {
  return readLink(`${root}/${pid}/root`, log, 'root links')
}

export function readCwd(pid: number, log?: AccessLog, root = PROC_ROOT): string | undefined {
  return readLink(`${root}/${pid}/cwd`, log, 'cwd links')
}
