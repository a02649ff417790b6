import {readFileSync} from 'node:fs'
import {Container, isRestarting, listContainers, shortContainerId} from './state.js'
import {HEALTH_FILTER_VALUES, healthOf, healthSuffix, type HealthStatus} from './health.js'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {endpointOfContainerDir} from '../network/records.js'
import {unpublishedKeys} from '../network/ports.js'
import type {PortMapping} from '../network/types.js'

/** One container, as nsx ps --json prints it (schema in docs/containers.md and docs/schemas/). */
export interface ContainerEntry {
  name: string
  /** The full id (64 hex digits); any unique prefix names the container too. */
  id: string
  /** created, running or exited (docker's State). */
  state: 'created' | 'running' | 'restarting' | 'exited'
  /** docker's STATUS column: "Up 5 minutes", "Exited (0) 2 seconds ago", "Created". */
  status: string
  exitCode: number | null
  /** Host pid of the container's init (PID 1 inside) while running, else 0. */
  pid: number
  /** Host pid of its supervisor while running, else 0. */
  supervisorPid: number
  hostname: string
  image: string | null
  layers: number
  command: string[]
  created: string
  startedAt: string | null
  finishedAt: string | null
  /** Seconds since the init started (0 unless running). */
  uptime: number
  detached: boolean
  autoRemove: boolean
  cgroups: string[]
  /** docker's labels (--label KEY=VALUE). */
  labels: Record<string, string>
  /** docker's network mode: none, host, bridge, container:NAME or a network's name. */
  network: string
  /** Its addresses (CIDR) on its networks while it runs. */
  addresses: string[]
  /** Published ports while it runs (docker ps's PORTS). */
  ports: PortMapping[]
  /** Its healthcheck's status (docker ps --filter health=): starting, healthy or unhealthy while it runs; none without a healthcheck. */
  health: 'none' | HealthStatus
  /** While it runs on a network, the exposed ports (the image's EXPOSE) that no mapping publishes, as "443/tcp" (docker ps lists them after the mappings). */
  unpublishedPorts: string[]
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
  return secondsSinceStart(startTime, up)
}

/**
 * Seconds a process has run: boot-relative start (clock ticks) to `uptime` (seconds), not
 * rounded (humanDuration floors, as it does CREATED's: rounding made "Up 2 seconds" of a
 * container created "1 second ago").
 */
export function secondsSinceStart(startTicks: number, uptime: number): number {
  return Math.max(0, uptime - startTicks / HZ)
}

/** docker's human durations (go-units HumanDuration): "Less than a second", "5 seconds", "About a minute", ... */
export function humanDuration(seconds: number): string {
  const s = Math.floor(seconds)
  if (s < 1) return 'Less than a second'
  if (s === 1) return '1 second'
  if (s < 60) return `${s} seconds`
  const m = Math.floor(s / 60)
  if (m === 1) return 'About a minute'
  if (m < 60) return `${m} minutes`
  const h = Math.round(s / 3600)
  if (h === 1) return 'About an hour'
  if (h < 48) return `${h} hours`
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`
  return `${Math.floor(h / 24 / 365)} years`
}

export function toEntry(c: Container, now = Date.now()): ContainerEntry {
  const s = c.config
  const running = c.status === 'running' || c.status === 'starting'
  const state = running ? 'running' : c.status === 'created' ? 'created' : 'exited'
  const uptime = running && c.pids ? uptimeOf(c.pids.init.startTime) : 0
  const finishedAt = c.status === 'exited' ? (c.exit?.finishedAt ?? null) : null
  const ep = running ? endpointOfContainerDir(c.dir) : undefined
  const ports = ep ? ep.attachments.flatMap((a) => a.ports) : []
  let status: string
  const restarting = isRestarting(c)
  const health = healthOf(c.dir, s.healthcheck, state === 'running' && !restarting)
  if (restarting) status = `Restarting (${c.exit?.code ?? 0}) ${humanDuration((now - Date.parse(c.exit?.finishedAt ?? new Date(now).toISOString())) / 1000)} ago`
  else if (state === 'running') status = c.status === 'starting' ? 'Starting' : `Up ${humanDuration(uptime)}${state === 'running' ? healthSuffix(health) : ''}`
  else if (state === 'created') status = 'Created'
  else status = `Exited (${c.exitCode ?? 0}) ${finishedAt ? `${humanDuration((now - Date.parse(finishedAt)) / 1000)} ago` : ''}`.trimEnd()
  return {
    name: s.name,
    id: s.id,
    state: restarting ? 'restarting' : state,
    status,
    exitCode: state === 'exited' ? (c.exitCode ?? null) : null,
    pid: running && c.pids ? c.pids.init.pid : 0,
    supervisorPid: running && c.pids ? c.pids.supervisor.pid : 0,
    hostname: s.spec.hostname,
    image: s.image ?? null,
    layers: s.lowerDirs.length,
    command: s.spec.argv,
    created: s.created,
    startedAt: c.run?.startedAt ?? null,
    finishedAt,
    uptime,
    detached: c.run?.detached ?? false,
    autoRemove: s.autoRemove,
    cgroups: running ? (c.run?.cgroups ?? []) : [],
    labels: s.labels ?? {},
    network: s.spec.network ?? 'none',
    addresses: ep ? ep.attachments.map((a) => a.address).filter(Boolean) : [],
    ports,
    unpublishedPorts: ep ? unpublishedKeys(s.spec.net, ports) : [],
    health: health?.Status ?? 'none',
  }
}

export interface ListOptions {
  /** -a: every container, not only the running ones. */
  all?: boolean
  /** --filter KEY=VALUE: name, id, status, exited, ancestor (docker's keys). */
  filters?: string[]
}

function matches(e: ContainerEntry, key: string, value: string): boolean {
  switch (key) {
    case 'name':
      return e.name.includes(value)
    case 'id':
      return e.id.startsWith(value)
    case 'status':
      return e.state === value || (value === 'running' && e.state === 'restarting')
    case 'exited':
      return e.state === 'exited' && String(e.exitCode) === value
    case 'ancestor':
      return e.image === value
    case 'health':
      return e.health === value
    case 'label': {
      // KEY or KEY=VALUE, as docker's label filter.
      const i = value.indexOf('=')
      return i < 0 ? value in e.labels : e.labels[value.slice(0, i)] === value.slice(i + 1)
    }
    default:
      return false
  }
}

export const FILTER_KEYS = ['name', 'id', 'status', 'exited', 'ancestor', 'label', 'health']

/** docker ps: the containers, oldest last as docker lists them (newest first). */
export function listEntries(store: Store, opts: ListOptions = {}): ContainerEntry[] {
  const parsed = (opts.filters ?? []).map((f) => {
    const i = f.indexOf('=')
    return {key: i < 0 ? f : f.slice(0, i), value: i < 0 ? '' : f.slice(i + 1)}
  })
  // docker: filters of one key are or'ed, different keys and'ed.
  const byKey = new Map<string, string[]>()
  for (const {key, value} of parsed) byKey.set(key, [...(byKey.get(key) ?? []), value])
  for (const v of byKey.get('health') ?? []) if (!(HEALTH_FILTER_VALUES as readonly string[]).includes(v)) throw NsxError.invalid(`Unrecognised filter value for health: ${v}`, 1)
  const explicitState = byKey.has('status') || byKey.has('exited')
  return listContainers(store)
    .map((c) => toEntry(c))
    .filter((e) => opts.all || explicitState || e.state === 'running' || e.state === 'restarting')
    // ... except labels, which must all match.
    .filter((e) => [...byKey].every(([k, vs]) => (k === 'label' ? vs.every((v) => matches(e, k, v)) : vs.some((v) => matches(e, k, v)))))
    .reverse()
}

/** Only the running ones: what nsx top and the older callers want. */
export function runningContainers(store: Store): ContainerEntry[] {
  return listEntries(store)
}

export const shortId = shortContainerId

/** "45s", "12m", "3h", "2d": a short uptime. */
export function formatUptime(s: number): string {
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86400) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}
