import {existsSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import {VIA_OCLIF} from '../cli/fast.js'
import {PROC_ROOT} from './fs.js'
import {ProcStatus, readStatus} from './process.js'

/** Validate a pid argument: a positive decimal integer, nothing else. */
export function parsePid(arg: string | undefined, what = 'pid'): number {
  if (arg === undefined || arg === '') throw new NsxError(`missing ${what}`)
  if (!/^\d+$/.test(arg)) throw new NsxError(`invalid ${what} '${arg}': expected a positive integer`)
  const pid = Number(arg)
  if (pid <= 0 || !Number.isSafeInteger(pid) || pid > 4194304) {
    throw new NsxError(`invalid ${what} '${arg}': expected a positive integer up to 4194304`)
  }
  return pid
}

/**
 * How an inspection command turns its pid argument into a pid. The commands layer passes the
 * one resolver that also knows containers (src/enter/target.ts resolvePidArg); without it, a
 * pid as typed, and a name (a word that is no number) goes to oclif's command, which has it.
 */
export type PidResolver = (arg: string | undefined, what?: string) => number

export const pidOrOclif: PidResolver = (arg, what) => {
  if (arg !== undefined && arg !== '' && !/^\d+$/.test(arg) && !arg.startsWith('-')) throw VIA_OCLIF
  return parsePid(arg, what)
}

export interface ResolvedProcess {
  pid: number
  status: ProcStatus
}

/**
 * A pid that names a live user-space process the caller may read.
 * Kernel threads have no namespaces of their own worth inspecting and are refused.
 */
export function requireProcess(pid: number, opts: {allowKernelThread?: boolean} = {}, root = PROC_ROOT): ResolvedProcess {
  let status: ProcStatus | undefined
  try {
    status = readStatus(pid, undefined, root)
  } catch (err) {
    throw new NsxError(`cannot read process ${pid}: ${(err as Error).message}`)
  }
  if (status === undefined) {
    if (existsSync(`${root}/${pid}`)) throw new NsxError(`process ${pid}: permission denied`)
    throw new NsxError(`no such process: ${pid}`)
  }
  if (status.tgid !== pid) throw new NsxError(`${pid} is a thread of process ${status.tgid}, not a process`)
  if (status.kernelThread && !opts.allowKernelThread) {
    throw new NsxError(`process ${pid} (${status.name}) is a kernel thread: it has no namespaces of its own to inspect`)
  }
  return {pid, status}
}

/**
 * Resolving what the user named (`nsx enter 1234`, later `nsx enter web`) to a process.
 * The result carries the start time, which the executor re-checks after pidfd_open,
 * so the process entered is provably the one resolved here (native/ops-ns.c).
 */
export interface Target {
  pid: number
  /** Field 22 of /proc/PID/stat (clock ticks after boot). */
  startTime: number
  /** For messages: "process 1234", "container web". */
  label: string
  /** pid is a thread's tid: its own namespaces are entered (a thread may have left its process's). */
  thread?: boolean
}

export interface TargetResolver {
  /** Whether this resolver owns specs of this shape (the first that claims a spec resolves it). */
  claims(spec: string): boolean
  /** The target, or an NsxError naming what is wrong. */
  resolve(spec: string): Target | Promise<Target>
}
