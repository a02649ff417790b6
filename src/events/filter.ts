import {NsxError} from '../cli/errors.js'
import type {EventMessage} from '../store/events.js'

/**
 * docker's event filters (moby daemon/events/filter.go): each key given must match (any of its
 * values), `type`, `event` (an action; `exec_create` also matches `exec_create: CMD`),
 * `container`, `image`, `label`, `network`, `volume`, `scope`, `daemon`.
 */
export type EventFilters = Map<string, string[]>

export const FILTER_KEYS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'] as const

/** `KEY=VALUE` words (nsx events --filter, as the docker CLI takes them). */
export function parseFilterWords(words: readonly string[]): EventFilters {
  const out: EventFilters = new Map()
  for (const w of words) {
    const i = w.indexOf('=')
    if (i <= 0) throw NsxError.invalid(`invalid filter '${w}': expected KEY=VALUE`, 125)
    addFilter(out, w.slice(0, i), w.slice(i + 1))
  }
  return out
}

export function addFilter(out: EventFilters, key: string, value: string): void {
  if (!(FILTER_KEYS as readonly string[]).includes(key)) throw NsxError.invalid(`invalid filter '${key}'`, 125)
  out.set(key, [...(out.get(key) ?? []), value])
}

/** An image reference without its :latest (docker matches `busybox` and `busybox:latest` alike). */
const bare = (ref: string) => ref.replace(/:latest$/, '')

export function matchesEvent(m: EventMessage, filters: EventFilters): boolean {
  const a = m.Actor.Attributes
  for (const [key, values] of filters) {
    const ok = values.some((v) => {
      switch (key) {
        case 'type': return m.Type === v
        case 'event': return m.Action === v || m.Action.startsWith(`${v}:`)
        case 'container': return m.Type === 'container' ? (m.Actor.ID.startsWith(v) || a.name === v) : a.container !== undefined && a.container.startsWith(v)
        case 'image': {
          const refs = m.Type === 'image' ? [m.Actor.ID, a.name] : [a.image]
          return refs.some((r) => r !== undefined && r !== '' && (bare(r) === bare(v) || r.startsWith(`sha256:${v}`) || r === `sha256:${v}` || r === v))
        }
        case 'label': {
          const i = v.indexOf('=')
          return i < 0 ? v in a : a[v.slice(0, i)] === v.slice(i + 1)
        }
        case 'volume': case 'network': return m.Type === key && (m.Actor.ID.startsWith(v) || a.name === v)
        case 'scope': return v === 'local'
        case 'daemon': return m.Type === 'daemon'
        default: return false
      }
    })
    if (!ok) return false
  }
  return true
}

/**
 * A time as docker's `since`/`until` take it, in milliseconds since the epoch: Unix seconds
 * (`1700000000`, `1700000000.5`), an RFC 3339 date or time, or, for the CLI (the docker CLI turns
 * them into seconds before it asks), a duration before now (`10m`, `1h30m`, `90s`).
 */
export function parseEventTime(v: string, what: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Math.floor(Number(v) * 1000)
  const d = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(v) ? durationMs(v) : undefined
  if (d !== undefined) return now - d
  const t = Date.parse(v)
  if (Number.isNaN(t)) throw NsxError.invalid(`invalid ${what} '${v}': expected Unix seconds, an RFC 3339 time or a duration (10m)`, 125)
  return t
}

function durationMs(v: string): number {
  const unit: Record<string, number> = {ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000}
  let ms = 0
  for (const [, n, u] of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * unit[u]
  return ms
}
