import {NsxError} from '../../cli/errors.js'
import {ApiError, badRequest, readJson, statusOf} from '../http.js'
import type {ApiContext, Route} from '../router.js'
import type {LimitFlags} from '../../container/update.js'
import type {ResourceFlags} from '../../container/resources.js'

/**
 * POST /containers/{id}/update (docker update): the body's resources and restart policy as
 * nsx update's flags, onto the function nsx update calls (src/container/update.ts). A zero, null
 * or empty field is "no change", as docker reads it (its CLI sends every field). What nsx cannot
 * change is refused with 400, never dropped.
 */

type Device = {Path?: string; Weight?: number; Rate?: number}

export interface UpdateBody {
  CpuShares?: number
  Memory?: number
  MemoryReservation?: number
  MemorySwap?: number
  MemorySwappiness?: number | null
  NanoCpus?: number
  CpuPeriod?: number
  CpuQuota?: number
  CpusetCpus?: string
  CpusetMems?: string
  PidsLimit?: number | null
  BlkioWeight?: number
  BlkioWeightDevice?: Device[] | null
  BlkioDeviceReadBps?: Device[] | null
  BlkioDeviceWriteBps?: Device[] | null
  BlkioDeviceReadIOps?: Device[] | null
  BlkioDeviceWriteIOps?: Device[] | null
  OomKillDisable?: boolean | null
  RestartPolicy?: {Name?: string; MaximumRetryCount?: number} | null
  [other: string]: unknown
}

/** Fields of docker's UpdateConfig nsx has no equivalent for: refused when set. */
const UNSUPPORTED = ['KernelMemory', 'KernelMemoryTCP', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'Ulimits', 'CgroupParent']

const set = (v: unknown): boolean => v !== undefined && v !== null && v !== 0 && v !== '' && v !== false && !(Array.isArray(v) && v.length === 0)

/** The body as nsx update's flags and --restart. */
export function updateFlags(b: UpdateBody): {flags: LimitFlags; restart?: string} {
  for (const k of UNSUPPORTED) if (set(b[k])) throw badRequest(`nsx cannot update ${k} of a container`)
  const str = (v: number | string | undefined | null) => (set(v) ? String(v) : undefined)
  const devices = (list: Device[] | null | undefined, value: 'Weight' | 'Rate') => (set(list) ? list!.map((d) => `${d.Path}:${d[value]}`) : undefined)
  const resources: ResourceFlags = {
    memoryReservation: str(b.MemoryReservation),
    memorySwap: str(b.MemorySwap),
    memorySwappiness: typeof b.MemorySwappiness === 'number' && b.MemorySwappiness >= 0 ? String(b.MemorySwappiness) : undefined,
    oomKillDisable: b.OomKillDisable === true ? true : undefined,
    cpuShares: str(b.CpuShares),
    cpuPeriod: str(b.CpuPeriod),
    cpuQuota: str(b.CpuQuota),
    cpusetMems: str(b.CpusetMems),
    blkioWeight: str(b.BlkioWeight),
    blkioWeightDevice: devices(b.BlkioWeightDevice, 'Weight'),
    deviceReadBps: devices(b.BlkioDeviceReadBps, 'Rate'),
    deviceWriteBps: devices(b.BlkioDeviceWriteBps, 'Rate'),
    deviceReadIops: devices(b.BlkioDeviceReadIOps, 'Rate'),
    deviceWriteIops: devices(b.BlkioDeviceWriteIOps, 'Rate'),
  }
  for (const k of Object.keys(resources) as (keyof ResourceFlags)[]) if (resources[k] === undefined) delete resources[k]
  const flags: LimitFlags = {resources}
  if (set(b.Memory)) flags.memory = String(b.Memory)
  if (set(b.NanoCpus)) flags.cpus = String(b.NanoCpus! / 1e9)
  if (set(b.CpusetCpus)) flags.cpusetCpus = b.CpusetCpus
  // docker: null leaves it, 0 or a negative number means no limit.
  if (typeof b.PidsLimit === 'number') flags.pidsLimit = b.PidsLimit > 0 ? String(b.PidsLimit) : '-1'
  const r = b.RestartPolicy
  const restart = r && r.Name !== undefined && r.Name !== '' ? (r.Name === 'on-failure' && r.MaximumRetryCount ? `on-failure:${r.MaximumRetryCount}` : r.Name) : undefined
  return {flags, ...(restart !== undefined ? {restart} : {})}
}

async function update(ctx: ApiContext): Promise<object> {
  const body = await readJson<UpdateBody>(ctx.req, ctx.upgrade)
  const {flags, restart} = updateFlags(body ?? {})
  const [{updateContainer}, {readCgroupLayout}] = await Promise.all([import('../../container/update.js'), import('../../cgroup/hierarchy.js')])
  try {
    await updateContainer(ctx.store(), ctx.params.id, flags, readCgroupLayout(), {restart})
  } catch (err) {
    // docker answers a container it cannot update, or a value it refuses, with 400; a missing one 404.
    if (!(err instanceof NsxError)) throw err
    throw new ApiError(statusOf(err) === 404 ? 404 : 400, err.message)
  }
  return {Warnings: []}
}

export const CONTAINER_UPDATE_ROUTES: Route[] = [
  {method: 'POST', path: '/containers/{id}/update', handler: update, mutates: true},
]
