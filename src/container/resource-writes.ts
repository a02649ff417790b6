import type {CgroupPlace, CgroupWrite} from './cgroup-place.js'
import {CFS_PERIOD_US, DeviceRate, Limits} from './limits.js'
import {cpuWeightFromShares, ioWeightFromBlkio} from './resources.js'

/**
 * The cgroup files of the resource flags beyond --memory/--cpus/--pids-limit/--cpuset-cpus, on
 * v1 or v2 (the place of each controller decides), in the order the kernel accepts them.
 * A file the kernel may lack is a required write with the reason: applying it fails with one
 * line naming the file, never a silent no-op.
 */
export function planResourceWrites(limits: Limits, need: (controller: string, flag: string) => CgroupPlace): CgroupWrite[] {
  const out: CgroupWrite[] = []
  const w = (p: CgroupPlace, file: string, value: string, why?: string) => out.push({dir: p.dir, file, value, ...(why ? {why} : {})})
  if (limits.memorySwap !== undefined) {
    const p = need('memory', '--memory-swap')
    const unlimited = limits.memorySwap === -1
    if (p.version === 1) {
      // memsw counts memory and swap together, docker's meaning of the flag; -1 where there is no
      // swap accounting is what the kernel does anyway.
      if (unlimited) out.push({dir: p.dir, file: 'memory.memsw.limit_in_bytes', value: '-1', optional: true})
      else w(p, 'memory.memsw.limit_in_bytes', String(limits.memorySwap), 'swap accounting is off: boot with swapaccount=1')
    } else {
      // v2 limits swap alone: the total less the memory limit (runc's conversion).
      if (unlimited) out.push({dir: p.dir, file: 'memory.swap.max', value: 'max', optional: true})
      else w(p, 'memory.swap.max', String(limits.memorySwap - (limits.memory ?? 0)), 'the kernel has no swap accounting')
    }
  }
  if (limits.memoryReservation !== undefined) {
    const p = need('memory', '--memory-reservation')
    w(p, p.version === 1 ? 'memory.soft_limit_in_bytes' : 'memory.low', String(limits.memoryReservation))
  }
  if (limits.memorySwappiness !== undefined) {
    const p = need('memory', '--memory-swappiness')
    w(p, 'memory.swappiness', String(limits.memorySwappiness), p.version === 2 ? 'cgroup v2 has no per-cgroup swappiness' : undefined)
  }
  if (limits.oomKillDisable) {
    const p = need('memory', '--oom-kill-disable')
    w(p, 'memory.oom_control', '1', p.version === 2 ? 'cgroup v2 cannot turn the OOM killer off' : undefined)
  }
  if (limits.cpuShares !== undefined) {
    const p = need('cpu', '--cpu-shares')
    if (p.version === 1) w(p, 'cpu.shares', String(limits.cpuShares))
    else w(p, 'cpu.weight', String(cpuWeightFromShares(limits.cpuShares)))
  }
  if (limits.cpuPeriod !== undefined || limits.cpuQuota !== undefined) {
    const p = need('cpu', limits.cpuQuota !== undefined ? '--cpu-quota' : '--cpu-period')
    if (p.version === 1) {
      // The period first: a quota is checked against the period in force.
      if (limits.cpuPeriod !== undefined) w(p, 'cpu.cfs_period_us', String(limits.cpuPeriod))
      if (limits.cpuQuota !== undefined) w(p, 'cpu.cfs_quota_us', String(limits.cpuQuota))
    } else {
      const quota = limits.cpuQuota === undefined || limits.cpuQuota < 0 ? 'max' : String(limits.cpuQuota)
      w(p, 'cpu.max', `${quota} ${limits.cpuPeriod ?? CFS_PERIOD_US}`)
    }
  }
  if (limits.cpusetMems !== undefined) w(need('cpuset', '--cpuset-mems'), 'cpuset.mems', limits.cpusetMems)
  const dev = (d: DeviceRate) => `${d.major}:${d.minor}`
  if (limits.blkioWeight !== undefined) {
    const p = need('blkio', '--blkio-weight')
    const why = 'weights need the BFQ I/O scheduler on the disks'
    if (p.version === 1) w(p, 'blkio.weight', String(limits.blkioWeight), why)
    else w(p, 'io.weight', `default ${ioWeightFromBlkio(limits.blkioWeight)}`, why)
  }
  for (const d of limits.blkioWeightDevice ?? []) {
    const p = need('blkio', '--blkio-weight-device')
    const why = 'weights need the BFQ I/O scheduler on the disks'
    if (p.version === 1) w(p, 'blkio.weight_device', `${dev(d)} ${d.value}`, why)
    else w(p, 'io.weight', `${dev(d)} ${ioWeightFromBlkio(d.value)}`, why)
  }
  const throttles: [keyof Limits, string, string, string][] = [
    ['deviceReadBps', '--device-read-bps', 'blkio.throttle.read_bps_device', 'rbps'],
    ['deviceWriteBps', '--device-write-bps', 'blkio.throttle.write_bps_device', 'wbps'],
    ['deviceReadIops', '--device-read-iops', 'blkio.throttle.read_iops_device', 'riops'],
    ['deviceWriteIops', '--device-write-iops', 'blkio.throttle.write_iops_device', 'wiops'],
  ]
  for (const [key, flag, v1File, v2Key] of throttles) {
    for (const d of (limits[key] as DeviceRate[] | undefined) ?? []) {
      const p = need('blkio', flag)
      const why = 'the kernel was built without block IO throttling (CONFIG_BLK_DEV_THROTTLING)'
      if (p.version === 1) w(p, v1File, `${dev(d)} ${d.value}`, why)
      else w(p, 'io.max', `${dev(d)} ${v2Key}=${d.value}`, why)
    }
  }
  return out
}
