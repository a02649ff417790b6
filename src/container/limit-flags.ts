import {Flags} from '@oclif/core'
import type {LimitFlags} from './update.js'
import type {ResourceFlags} from './resources.js'

/**
 * oclif definitions of the limit flags that nsx run, nsx update and nsx group share (their help
 * and man pages); run parses its arguments on its fast path (src/container/options.ts).
 */
export const RESOURCE_FLAGS = {
    'memory-reservation': Flags.string({description: 'Soft memory limit, reclaimed down to under pressure (v1 memory.soft_limit_in_bytes, v2 memory.low)', helpValue: 'SIZE'}),
    'memory-swap': Flags.string({description: 'Memory plus swap, at least --memory: equal to it means no swap, -1 unlimited swap (default: no swap)', helpValue: 'SIZE|-1'}),
    'memory-swappiness': Flags.string({description: 'How readily the container\'s memory is swapped, 0 to 100 (cgroup v1 only)', helpValue: 'N'}),
    'oom-kill-disable': Flags.boolean({description: 'Past --memory, pause instead of being OOM-killed (cgroup v1 only)'}),
    'cpu-shares': Flags.string({char: 'c', description: 'Relative CPU weight when CPUs are contended, 1024 the default (v2: cpu.weight, converted as runc does)', helpValue: 'N'}),
    'cpu-period': Flags.string({description: 'CFS period in microseconds, 1000 to 1000000 (with --cpu-quota; not with --cpus)', helpValue: 'US'}),
    'cpu-quota': Flags.string({description: 'CPU time in microseconds per period (-1: none)', helpValue: 'US'}),
    'cpuset-mems': Flags.string({description: 'Memory nodes the container may use, e.g. 0', helpValue: 'LIST'}),
    'blkio-weight': Flags.string({description: 'Relative block IO weight, 10 to 1000 (needs the BFQ scheduler)', helpValue: 'N'}),
    'blkio-weight-device': Flags.string({description: 'Block IO weight for one device (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'DEVICE:N'}),
    'device-read-bps': Flags.string({description: 'Read rate limit of a device, e.g. /dev/vda:1mb (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'DEVICE:RATE'}),
    'device-write-bps': Flags.string({description: 'Write rate limit of a device (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'DEVICE:RATE'}),
    'device-read-iops': Flags.string({description: 'Read operations per second limit of a device (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'DEVICE:N'}),
    'device-write-iops': Flags.string({description: 'Write operations per second limit of a device (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'DEVICE:N'}),
}

export const BASE_LIMIT_FLAGS = {
  memory: Flags.string({char: 'm', description: 'Memory limit (b, k, m, g; at least 6m); past it the command is OOM-killed (status 137)', helpValue: 'SIZE'}),
  cpus: Flags.string({description: 'CPU limit, in CPUs (0.5: half of one)', helpValue: 'N'}),
  'pids-limit': Flags.string({description: 'Maximum number of processes and threads (-1: none)', helpValue: 'N'}),
  'cpuset-cpus': Flags.string({description: 'CPUs the container may use, e.g. 0-1,3', helpValue: 'LIST'}),
}

/** Parsed oclif flags to the domain's LimitFlags. */
export function limitFlagsFrom(f: Record<string, unknown>): LimitFlags {
  const str = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined)
  const list = (k: string) => (Array.isArray(f[k]) ? (f[k] as string[]) : undefined)
  const resources: ResourceFlags = {
    memoryReservation: str('memory-reservation'),
    memorySwap: str('memory-swap'),
    memorySwappiness: str('memory-swappiness'),
    oomKillDisable: f['oom-kill-disable'] === true ? true : undefined,
    cpuShares: str('cpu-shares'),
    cpuPeriod: str('cpu-period'),
    cpuQuota: str('cpu-quota'),
    cpusetMems: str('cpuset-mems'),
    blkioWeight: str('blkio-weight'),
    blkioWeightDevice: list('blkio-weight-device'),
    deviceReadBps: list('device-read-bps'),
    deviceWriteBps: list('device-write-bps'),
    deviceReadIops: list('device-read-iops'),
    deviceWriteIops: list('device-write-iops'),
  }
  for (const k of Object.keys(resources) as (keyof ResourceFlags)[]) if (resources[k] === undefined) delete resources[k]
  return {memory: str('memory'), cpus: str('cpus'), pidsLimit: str('pids-limit'), cpusetCpus: str('cpuset-cpus'), resources}
}
