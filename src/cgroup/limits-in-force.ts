import {readText} from '../proc/fs.js'
import type {CgroupMembership} from './membership.js'

/**
 * The limits the kernel enforces on a process's own cgroups, read from their control files
 * (v1: memory.limit_in_bytes, pids.max, cpu.cfs_quota_us and cpu.cfs_period_us, cpuset.cpus;
 * v2: memory.max, pids.max, cpu.max, cpuset.cpus). null: no limit, or no such controller
 * holding the process; a limit set only on an ancestor cgroup is not counted.
 */
export interface CgroupLimits {
  /** Bytes. */
  memory: number | null
  /** Tasks. */
  pids: number | null
  /** CFS bandwidth: quota per period, in microseconds. */
  cpu: {quota: number; period: number} | null
  /** The cpuset's CPU list ("0-1"); null when not set or not readable. */
  cpusetCpus: string | null
}

// v1's memory.limit_in_bytes "unlimited" is PAGE_COUNTER_MAX pages: anything this large means none.
const V1_UNLIMITED = 2 ** 62

/** The directory of the process's cgroup where `controller` applies: its v1 hierarchy, else the v2 tree. */
function dirFor(members: readonly CgroupMembership[], controller: string): {dir: string; version: 1 | 2} | undefined {
  const v1 = members.find((m) => m.version === 1 && m.controllers.includes(controller) && m.directory)
  if (v1) return {dir: v1.directory!, version: 1}
  const v2 = members.find((m) => m.version === 2 && m.directory)
  return v2 ? {dir: v2.directory!, version: 2} : undefined
}

function read(dir: string, file: string): string | undefined {
  return readText(`${dir}/${file}`)?.trim()
}

function count(text: string | undefined): number | null {
  if (text === undefined || text === '' || text === 'max') return null
  const n = Number(text)
  return Number.isFinite(n) && n >= 0 && n < V1_UNLIMITED ? n : null
}

export function readCgroupLimits(members: readonly CgroupMembership[]): CgroupLimits {
  const out: CgroupLimits = {memory: null, pids: null, cpu: null, cpusetCpus: null}
  const mem = dirFor(members, 'memory')
  if (mem) out.memory = count(read(mem.dir, mem.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'))
  const pids = dirFor(members, 'pids')
  if (pids) out.pids = count(read(pids.dir, 'pids.max'))
  const cpu = dirFor(members, 'cpu')
  if (cpu) {
    let quota: number | null
    let period: number | null
    if (cpu.version === 1) {
      const q = Number(read(cpu.dir, 'cpu.cfs_quota_us'))
      quota = Number.isFinite(q) && q > 0 ? q : null
      period = count(read(cpu.dir, 'cpu.cfs_period_us'))
    } else {
      const [q, p] = (read(cpu.dir, 'cpu.max') ?? '').split(' ')
      quota = count(q)
      period = count(p)
    }
    if (quota !== null && period !== null) out.cpu = {quota, period}
  }
  const cpuset = dirFor(members, 'cpuset')
  if (cpuset) out.cpusetCpus = read(cpuset.dir, 'cpuset.cpus') || null
  return out
}
