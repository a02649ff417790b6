import {NsxError} from '../cli/errors.js'

/**
 * docker's prune filters, one reading for every area (containers, images, networks, volumes, the
 * build cache) and both doors (`--filter KEY=VALUE` words and the API's `filters` JSON): which keys
 * each area takes, docker 20.10's checks and messages, and the tests (`until`: created at or before
 * a time; `label` / `label!`: the object's own labels, as moby's MatchKVList reads them).
 */

/** key → values, as docker's filters.Args holds them (a set of values per key). */
export type FilterArgs = Map<string, string[]>

/** The keys each area's prune takes in docker 20.10 (daemon/prune.go, image_prune.go, volume/service, builder-next). */
export const PRUNE_KEYS = {
  containers: ['label', 'label!', 'until'],
  networks: ['label', 'label!', 'until'],
  volumes: ['label', 'label!'],
  images: ['dangling', 'label', 'label!', 'until'],
  build: ['until', 'unused-for', 'label', 'label!', 'id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'],
} as const

export type PruneArea = keyof typeof PRUNE_KEYS

/**
 * The docker CLI's `--filter` words: `KEY=VALUE`, the key lower-cased and both trimmed. A word
 * without `=` is the CLI's own usage error (exit 125), as docker's flag parser reports it.
 */
export function filterArgsOfWords(words: readonly string[] = []): FilterArgs {
  const out: FilterArgs = new Map()
  for (const w of words) {
    if (w === '') continue
    const eq = w.indexOf('=')
    if (eq < 0) throw NsxError.invalid(`invalid argument "${w}" for "--filter" flag: bad format of filter (expected name=value)`, 125)
    addFilter(out, w.slice(0, eq).trim().toLowerCase(), w.slice(eq + 1).trim())
  }
  return out
}

/** One value more (a set: a value given twice counts once). */
export function addFilter(f: FilterArgs, key: string, value: string): void {
  const vs = f.get(key) ?? []
  if (!vs.includes(value)) vs.push(value)
  f.set(key, vs)
}

/** docker's `Invalid filter 'KEY'` (400 through the API, exit 1 from the CLI) for a key the area does not take. */
export function validateFilters(f: FilterArgs, area: PruneArea): void {
  const accepted: readonly string[] = PRUNE_KEYS[area]
  for (const k of f.keys()) if (!accepted.includes(k)) throw NsxError.invalid(`Invalid filter '${k}'`)
}

/** What a container, network, volume or image prune tests each object against. */
export interface PruneSelector {
  /** ms since the epoch: only objects created at or before it (docker skips those created after). */
  until?: number
  labels: string[]
  notLabels: string[]
}

/** The area's keys checked, `until` read as docker reads it (a duration before now, an RFC 3339 time, Unix seconds). */
export function pruneSelector(f: FilterArgs, area: Exclude<PruneArea, 'build'>, now = Date.now()): PruneSelector {
  validateFilters(f, area)
  const until = f.get('until') ?? []
  if (until.length > 1) throw NsxError.invalid('more than one until filter specified')
  return {until: until.length === 1 ? dockerTimestamp(until[0], now) : undefined, labels: f.get('label') ?? [], notLabels: f.get('label!') ?? []}
}

/** docker's test: created at or before `until`, its labels matching every `label` and not every `label!`. */
export function selects(s: PruneSelector, obj: {created?: string | number; labels?: Record<string, string> | null}): boolean {
  if (s.until !== undefined) {
    const t = typeof obj.created === 'number' ? obj.created : Date.parse(obj.created ?? '')
    if (Number.isFinite(t) && t > s.until) return false
  }
  const labels = obj.labels ?? {}
  if (!matchKVList(s.labels, labels)) return false
  return !(s.notLabels.length > 0 && matchKVList(s.notLabels, labels))
}

/** moby's MatchKVList: every `KEY` or `KEY=VALUE` present (true when there are none; false on no labels). */
function matchKVList(values: readonly string[], labels: Record<string, string>): boolean {
  if (values.length === 0) return true
  if (Object.keys(labels).length === 0) return false
  return values.every((v) => {
    const eq = v.indexOf('=')
    if (eq < 0) return v in labels
    const k = v.slice(0, eq)
    return k in labels && labels[k] === v.slice(eq + 1)
  })
}

/** docker image prune's `dangling`: true (the default) for only the untagged images, false for every unused one. */
export function danglingOnly(f: FilterArgs): boolean {
  const vs = f.get('dangling')
  if (vs === undefined) return true
  if (vs.some((v) => v === 'false' || v === '0')) return false
  if (vs.some((v) => v === 'true' || v === '1')) return true
  throw NsxError.invalid(`Invalid filter 'dangling=[${vs.join(' ')}]'`)
}

const DURATION_UNITS: Record<string, number> = {ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/** Go's time.ParseDuration, in ms (undefined for what it refuses): `90s`, `1h30m`, `-5m`, `1.5h`, `0`. */
export function goDuration(v: string): number | undefined {
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(v)
  if (!m) return undefined
  let ms = 0
  for (const [, n, u] of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(n) * DURATION_UNITS[u]
  return m[1] === '-' ? -ms : ms
}

/**
 * docker's GetTimestamp then ParseTimestamps, in ms since the epoch: a Go duration is that long
 * before now (to the second); an RFC 3339 time or date (without a zone: local time); else Unix
 * seconds with an optional fraction. The errors are docker's.
 */
export function dockerTimestamp(value: string, now = Date.now()): number {
  const d = value !== '0' ? goDuration(value) : undefined
  if (d !== undefined) return Math.floor((now - d) / 1000) * 1000
  const t = rfc3339(value)
  if (t !== undefined) return t
  if (value.includes('-')) throw NsxError.invalid(`parsing time ${JSON.stringify(value)}: not an RFC 3339 time`)
  const m = /^(\d+)(?:\.(\d+))?$/.exec(value)
  if (!m) throw NsxError.invalid(`failed to parse value as time or duration: ${JSON.stringify(value)}`)
  return Number(m[1]) * 1000 + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0)
}

/** The layouts GetTimestamp tries: a date, a date and hour[:minute[:second[.fraction]]], each with or without a zone. */
function rfc3339(v: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(v)
  if (!m) return undefined
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m
  const n = [y, mo, d, h, mi, s].map(Number)
  if (n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > new Date(Date.UTC(n[0], n[1], 0)).getUTCDate() || n[3] > 23 || n[4] > 59 || n[5] > 59) return undefined
  const ms = frac ? Number(frac) * 1000 : 0
  if (!zone) return new Date(n[0], n[1] - 1, n[2], n[3], n[4], n[5]).getTime() + ms
  const off = /^[zZ]$/.test(zone) ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000
  return Date.UTC(n[0], n[1] - 1, n[2], n[3], n[4], n[5]) + ms - off
}
