import {readFileSync} from 'node:fs'
import {Container, listContainers} from './state.js'
import type {Store} from '../store/store.js'

/** One running container, as nsx ps --json prints it (schema in docs/containers.md and docs/schemas/). */
export interface ContainerEntry {
  name: string
  id: string
  /** Host pid of the container's init (PID 1 inside); what nsx enter NAME enters. */
  pid: number
  /** Host pid of the supervisor (the nsx process that started it). */
  supervisorPid: number
  hostname: string
  image: string | null
  layers: number
  command: string[]
  created: string
  /** Seconds since the init started. */
  uptime: number
  detached: boolean
  cgroups: string[]
}

/** Clock ticks per second for /proc/PID/stat start times: 100 on every Linux we run on. */
const HZ = 100

function uptimeOf(startTime: number): number {
  let up = 0
  try {
    up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])
  } catch {
    return 0
  }
  return Math.max(0, Math.round(up - startTime / HZ))
}

export function toEntry(c: Container): ContainerEntry | undefined {
  if (c.liveness !== 'running' || !c.pids) return undefined
  const s = c.state
  return {
    name: s.name,
    id: s.id,
    pid: c.pids.init.pid,
    supervisorPid: c.pids.supervisor.pid,
    hostname: s.hostname,
    image: s.image ?? null,
    layers: s.layers,
    command: s.command,
    created: s.created,
    uptime: uptimeOf(c.pids.init.startTime),
    detached: s.detached,
    cgroups: s.cgroups,
  }
}

export function runningContainers(store: Store): ContainerEntry[] {
  return listContainers(store)
    .map(toEntry)
    .filter((e): e is ContainerEntry => e !== undefined)
}

/** "45s", "12m", "3h", "2d": how docker ps says "Up ...". */
export function formatUptime(s: number): string {
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86400) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}
