import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {encodePlan} from '../plan/encode.js'
import {executorPath} from '../plan/executor.js'
import type {Op} from '../plan/ops.js'
import {decodeBpfProgram, runDeviceProgram} from './devices.js'
import {AUDIT_ARCH_X86_64, decodeFilter, verdictOf, X86_64_SYSCALLS} from './seccomp-bpf.js'

/**
 * What `nsx inspect` reports of a process's security settings beyond /proc/PID/status: its
 * seccomp filters read back from the kernel and run over well-known syscalls, its device
 * rules (cgroup v1 devices.list, or the cgroup2 device programs run over well-known devices),
 * and whether its root is mounted read-only.
 */
export interface SeccompReadback {
  /** Instructions of each filter, newest first. */
  instructions: number[]
  /** What the filters answer for each syscall (called with zero arguments); x86_64 only. */
  verdicts: {syscall: string; verdict: string}[]
}

export interface DeviceReport {
  /** v1: the devices cgroup's list; v2: the cgroup2 device programs; none: no rules (all allowed). */
  source: 'v1' | 'v2' | 'none'
  /** v1: devices.list lines ("c 1:3 rwm"); v2: the well-known devices the programs allow, with the access. */
  rules: string[]
  /** v2: how many programs are in effect. */
  programs?: number
}

function runExecutor(op: Op): {ok: boolean; stdout: string; error: string} {
  const [argv0, ...args] = encodePlan({command: 'nsx inspect', ops: [op]})
  const r = spawnSync(executorPath(), args, {encoding: 'utf8', argv0, timeout: 10000})
  const error = (r.stderr ?? '').trim().split('\n').pop()?.replace(/^nsx inspect: /, '') || `the executor failed (status ${r.status})`
  return {ok: r.status === 0, stdout: r.stdout ?? '', error}
}

/** The process's filters, through the executor's seccomp-dump (ptrace: root only). */
export function readSeccompFilters(pid: number): SeccompReadback | {error: string} {
  if (process.geteuid?.() !== 0) return {error: 'reading filters back needs root (CAP_SYS_ADMIN)'}
  let r
  try {
    r = runExecutor({op: 'seccomp-dump', pid})
  } catch (err) {
    return {error: (err as Error).message}
  }
  if (!r.ok) return {error: r.error}
  const filters = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('filter '))
    .map((l) => decodeFilter(l.split(' ')[2]))
  const verdicts: SeccompReadback['verdicts'] = []
  if (process.arch === 'x64' && filters.length > 0) {
    try {
      for (const [syscall, nr] of Object.entries(X86_64_SYSCALLS)) verdicts.push({syscall, verdict: verdictOf(filters, {nr, arch: AUDIT_ARCH_X86_64})})
    } catch (err) {
      return {instructions: filters.map((f) => f.length), verdicts: [{syscall: '*', verdict: `not evaluated: ${(err as Error).message}`}]}
    }
  }
  return {instructions: filters.map((f) => f.length), verdicts}
}

/** Well-known device nodes, for the verdicts of a v2 device program. */
export const KNOWN_DEVICES: Array<{name: string; type: 'c' | 'b'; major: number; minor: number}> = [
  {name: 'null', type: 'c', major: 1, minor: 3},
  {name: 'zero', type: 'c', major: 1, minor: 5},
  {name: 'full', type: 'c', major: 1, minor: 7},
  {name: 'random', type: 'c', major: 1, minor: 8},
  {name: 'urandom', type: 'c', major: 1, minor: 9},
  {name: 'tty', type: 'c', major: 5, minor: 0},
  {name: 'console', type: 'c', major: 5, minor: 1},
  {name: 'ptmx', type: 'c', major: 5, minor: 2},
  {name: 'pts/0', type: 'c', major: 136, minor: 0},
  {name: 'mem', type: 'c', major: 1, minor: 1},
  {name: 'kmsg', type: 'c', major: 1, minor: 11},
  {name: 'fuse', type: 'c', major: 10, minor: 229},
  {name: 'net/tun', type: 'c', major: 10, minor: 200},
  {name: 'kvm', type: 'c', major: 10, minor: 232},
  {name: 'loop-control', type: 'c', major: 10, minor: 237},
  {name: 'sda', type: 'b', major: 8, minor: 0},
  {name: 'loop0', type: 'b', major: 7, minor: 0},
]

/** Device rules of the process's cgroups: `memberships` as nsx inspect located them. */
export function readDeviceRules(memberships: ReadonlyArray<{version: 1 | 2; controllers: string[]; directory?: string}>): DeviceReport | {error: string} {
  const v1 = memberships.find((m) => m.version === 1 && m.controllers.includes('devices') && m.directory !== undefined)
  const v2 = memberships.find((m) => m.version === 2 && m.directory !== undefined)
  if (v2 && process.geteuid?.() === 0) {
    let r
    try {
      r = runExecutor({op: 'devices-dump', cgroup: v2.directory!})
    } catch (err) {
      return {error: (err as Error).message}
    }
    if (!r.ok) return {error: r.error}
    const programs = r.stdout.trim().split('\n').filter((l) => l.startsWith('program ')).map((l) => decodeBpfProgram(l.split(' ')[2]))
    if (programs.length > 0) {
      const rules: string[] = []
      for (const d of KNOWN_DEVICES) {
        try {
          // Every program in effect must allow an access (the kernel runs them all).
          const acc = ['r', 'w', 'm'].filter((a) => programs.every((p) => runDeviceProgram(p, d.type, d.major, d.minor, a) === 1)).join('')
          if (acc) rules.push(`${d.name} (${d.type} ${d.major}:${d.minor}) ${acc}`)
        } catch (err) {
          return {source: 'v2', programs: programs.length, rules: [`not evaluated: ${(err as Error).message}`]}
        }
      }
      return {source: 'v2', programs: programs.length, rules}
    }
  }
  if (v1) {
    try {
      const list = readFileSync(`${v1.directory}/devices.list`, 'utf8').trim().split('\n').filter(Boolean)
      if (list.length === 1 && list[0] === 'a *:* rwm') return {source: 'none', rules: []}
      return {source: 'v1', rules: list}
    } catch (err) {
      return {error: `cannot read devices.list: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`}
    }
  }
  return {source: 'none', rules: []}
}

/**
 * Whether the process's root is mounted read-only: the mount on its "/" in its own mount
 * namespace (/proc/PID/mountinfo, the last mount of "/" being the one on top). null: unreadable.
 */
export function readRootReadOnly(pid: number, procRoot = '/proc'): boolean | null {
  let text: string
  try {
    text = readFileSync(`${procRoot}/${pid}/mountinfo`, 'utf8')
  } catch {
    return null
  }
  let ro: boolean | null = null
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    if (f[4] === '/') ro = f[5].split(',').includes('ro')
  }
  return ro
}
