import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import {healthConfigOf, type HealthConfig} from '../image/config.js'
import type {Store} from '../store/store.js'

/**
 * Healthchecks, docker's: what a container is asked to probe (the image's HEALTHCHECK, `--health-*`
 * flags, the Engine API's Healthcheck, merged as docker's daemon merges them), and what its
 * supervisor found (native/ctr-health.c writes `run/<id>/health`; docker keeps it in State.Health).
 */

export type {HealthConfig}

/** docker's defaults (daemon/health.go): 30 s interval and timeout, no start period, 5 s start interval, 3 retries. */
export const HEALTH_DEFAULTS = {interval: 30e9, timeout: 30e9, startPeriod: 0, startInterval: 5e9, retries: 3}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy'

/** One probe's result, as docker's State.Health.Log holds it (oldest first, the last 5). */
export interface HealthResult {
  Start: string
  End: string
  /** The probe's exit code (0 healthy), -1 for one killed at its timeout or that could not start. */
  ExitCode: number
  /** Its stdout and stderr, the first 4096 bytes ("..." when cut). */
  Output: string
}

/** docker's State.Health. */
export interface HealthState {
  Status: HealthStatus
  FailingStreak: number
  Log: HealthResult[]
}

/** The `--health-*` flags as given (docker run's). */
export interface HealthFlags {
  healthCmd?: string
  healthInterval?: string
  healthTimeout?: string
  healthStartPeriod?: string
  healthStartInterval?: string
  healthRetries?: string
  noHealthcheck?: boolean
}

const UNITS: Record<string, number> = {ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9}

/** Go's time.ParseDuration ("1m30s", "1.5s", "500ms", "-2s", "0"), in nanoseconds; undefined when malformed. */
export function parseGoDuration(s: string): number | undefined {
  let rest = s
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1
    rest = rest.slice(1)
  }
  if (rest === '0') return 0
  if (rest === '') return undefined
  let total = 0
  const part = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/
  while (rest !== '') {
    const m = part.exec(rest)
    if (!m || (m[1] === '' && (m[2] ?? '') === '') || UNITS[m[3]] === undefined) return undefined
    total += Number(`${m[1] || '0'}.${m[2] ?? '0'}`) * UNITS[m[3]]
    rest = rest.slice(m[0].length)
  }
  return sign * Math.round(total)
}

const usage = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 125, kind)
}

function durationFlag(v: string | undefined, flag: string): number {
  if (v === undefined) return 0
  const ns = parseGoDuration(v)
  if (ns === undefined) usage(`invalid argument "${v}" for "${flag}" flag: time: invalid duration "${v}"`)
  if (ns! < 0) usage(`${flag} cannot be negative`)
  return ns!
}

/** docker run's `--health-*` and `--no-healthcheck` as a HealthConfig (docker's CLI rules); undefined when none is given. */
export function healthFromFlags(f: HealthFlags): HealthConfig | undefined {
  const retries = f.healthRetries === undefined ? 0 : /^-?\d+$/.test(f.healthRetries) ? Number(f.healthRetries) : usage(`invalid argument "${f.healthRetries}" for "--health-retries" flag: strconv.ParseInt: parsing "${f.healthRetries}": invalid syntax`)
  const given = {
    Interval: durationFlag(f.healthInterval, '--health-interval'),
    Timeout: durationFlag(f.healthTimeout, '--health-timeout'),
    StartPeriod: durationFlag(f.healthStartPeriod, '--health-start-period'),
    StartInterval: durationFlag(f.healthStartInterval, '--health-start-interval'),
  }
  const any = (f.healthCmd ?? '') !== '' || retries !== 0 || Object.values(given).some((v) => v !== 0)
  if (f.noHealthcheck) {
    if (any) usage('--no-healthcheck conflicts with --health-* options')
    return {Test: ['NONE']}
  }
  if (!any) return undefined
  const out: HealthConfig = {...(f.healthCmd ? {Test: ['CMD-SHELL', f.healthCmd]} : {})}
  for (const [k, v] of Object.entries(given)) if (v !== 0) out[k as keyof typeof given] = v
  if (retries !== 0) out.Retries = retries
  return checkHealth(out)
}

/** docker's daemon checks of a HealthConfig (its messages); the config, cleaned of zeros and nulls. */
export function checkHealth(h: HealthConfig): HealthConfig {
  const test = h.Test ?? []
  if (!Array.isArray(test) || test.some((x) => typeof x !== 'string')) usage('invalid Healthcheck: Test is a list of strings')
  if (test.some((x) => x.includes('\0'))) usage('invalid Healthcheck: the command holds a NUL byte')
  if (test.length > 0) {
    if (!['NONE', 'CMD', 'CMD-SHELL'].includes(test[0])) usage(`invalid Healthcheck: unknown type '${test[0]}' (expected CMD, CMD-SHELL or NONE)`)
    if (test[0] !== 'NONE' && (test.length < 2 || (test[0] === 'CMD-SHELL' && test[1].trim() === ''))) usage(`invalid Healthcheck: ${test[0]} needs a command`)
  }
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    const v = h[k]
    if (v === undefined || v === null || v === 0) continue
    if (typeof v !== 'number' || !Number.isFinite(v)) usage(`invalid Healthcheck: ${k} is a number of nanoseconds`)
    if (v < 1e6) usage(`${k} in Healthcheck cannot be less than 1ms`)
  }
  if (h.Retries !== undefined && h.Retries !== null && (typeof h.Retries !== 'number' || !Number.isInteger(h.Retries))) usage('invalid Healthcheck: Retries is a whole number')
  if ((h.Retries ?? 0) < 0) usage('Retries in Healthcheck cannot be negative')
  const out: HealthConfig = {}
  if (test.length > 0) out.Test = [...test]
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) if (h[k]) out[k] = h[k]
  return out
}

/** The Healthcheck of a stored image, from its config (records of images loaded before nsx kept it have none). */
export function imageHealth(store: Store, id: string): HealthConfig | undefined {
  try {
    const j = JSON.parse(readFileSync(join(store.imageDir(id), 'config.json'), 'utf8')) as {config?: {Healthcheck?: unknown}}
    return healthConfigOf(j.config?.Healthcheck)
  } catch {
    return undefined
  }
}

/** docker's merge of the container's Healthcheck over the image's: what the container leaves empty or 0, the image gives. */
export function mergeHealth(image: HealthConfig | undefined, given: HealthConfig | undefined): HealthConfig | undefined {
  if (!given) return image
  if (!image) return given
  const out: HealthConfig = {...given}
  if (!out.Test || out.Test.length === 0) out.Test = image.Test
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) if (!out[k] && image[k]) out[k] = image[k]
  return out
}

/** What the supervisor runs: the probe's command and its times in ms, defaults filled in; undefined for none (no Test, or NONE). */
export interface HealthProbe {
  argv: string[]
  intervalMs: number
  timeoutMs: number
  startPeriodMs: number
  startIntervalMs: number
  retries: number
}

const ms = (ns: number) => Math.max(1, Math.round(ns / 1e6))

export function healthProbe(h: HealthConfig | undefined): HealthProbe | undefined {
  const test = h?.Test ?? []
  if (test.length < 2 || (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL')) return undefined
  return {
    argv: test[0] === 'CMD' ? test.slice(1) : ['/bin/sh', '-c', test[1]],
    intervalMs: ms(h!.Interval || HEALTH_DEFAULTS.interval),
    timeoutMs: ms(h!.Timeout || HEALTH_DEFAULTS.timeout),
    startPeriodMs: h!.StartPeriod ? ms(h!.StartPeriod) : 0,
    startIntervalMs: ms(h!.StartInterval || HEALTH_DEFAULTS.startInterval),
    retries: h!.Retries || HEALTH_DEFAULTS.retries,
  }
}

/** The supervisor's record of the container in DIR (run/<id>/health), or undefined when it has none. */
export function readHealthRecord(dir: string): HealthState | undefined {
  let text: string
  try {
    text = readFileSync(join(dir, 'health'), 'utf8')
  } catch {
    return undefined
  }
  const lines = text.split('\n').filter((l) => l !== '')
  try {
    const head = JSON.parse(lines[0]) as {Status?: string; FailingStreak?: number}
    const status = (['starting', 'healthy', 'unhealthy'] as const).find((s) => s === head.Status) ?? 'starting'
    const log: HealthResult[] = []
    for (const l of lines.slice(1)) {
      try {
        log.push(JSON.parse(l) as HealthResult)
      } catch {
        // a line cut by a full disk: the others stand
      }
    }
    return {Status: status, FailingStreak: head.FailingStreak ?? 0, Log: log}
  } catch {
    return undefined
  }
}

/**
 * docker's State.Health of a container with a healthcheck: undefined before its first start (or
 * without one). The supervisor's record is believed only while the container runs: a stopped
 * container, or one whose supervisor was killed, is never healthy (nor starting).
 */
export function healthOf(dir: string, config: HealthConfig | undefined, running: boolean): HealthState | undefined {
  if (!healthProbe(config)) return undefined
  const rec = readHealthRecord(dir)
  if (running) return rec ?? {Status: 'starting', FailingStreak: 0, Log: []}
  if (!rec) return undefined
  return {...rec, Status: 'unhealthy'}
}

/** docker ps's suffix of "Up 5 seconds": "(healthy)", "(unhealthy)", "(health: starting)". */
export function healthSuffix(h: HealthState | undefined): string {
  if (!h) return ''
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`
}

export const HEALTH_FILTER_VALUES = ['starting', 'healthy', 'unhealthy', 'none'] as const

/**
 * For the event watchers (docker's `health_status: healthy` events): the status the supervisor
 * recorded in DIR and the end of the probe that decided it, which names the change (two watchers
 * of one store tell it once). Undefined without a record.
 */
export function healthChange(dir: string): {status: HealthStatus; at: string} | undefined {
  const rec = readHealthRecord(dir)
  if (!rec) return undefined
  return {status: rec.Status, at: rec.Log.at(-1)?.End ?? 'start'}
}
