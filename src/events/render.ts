import {NsxError} from '../cli/errors.js'
import {executeTemplate, parseTemplate, TemplateError} from '../render/go-template.js'
import type {EventMessage} from '../store/events.js'

/** Go's RFC3339Nano with nine digits always, in local time, as the docker CLI prints an event's time. */
export function eventTime(timeNano: number, offsetMinutes = -new Date(timeNano / 1e6).getTimezoneOffset()): string {
  const ms = Math.round(timeNano / 1e6)
  const local = new Date(ms + offsetMinutes * 60_000)
  const nanos = String(ms % 1000).padStart(3, '0') + '000000'
  const zone = offsetMinutes === 0 ? 'Z' : `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0')}:${String(Math.abs(offsetMinutes) % 60).padStart(2, '0')}`
  return `${local.toISOString().slice(0, 19)}.${nanos}${zone}`
}

/** docker events' line: `TIME TYPE ACTION ID (k=v, ...)`, the attributes sorted by key. */
export function eventLine(m: EventMessage): string {
  const attrs = Object.keys(m.Actor.Attributes).sort().map((k) => `${k}=${m.Actor.Attributes[k]}`)
  return `${eventTime(m.timeNano)} ${m.Type} ${m.Action} ${m.Actor.ID}${attrs.length > 0 ? ` (${attrs.join(', ')})` : ''}\n`
}

/** The renderer of `nsx events [--format TEMPLATE]`: docker's line, or the Go template over docker's message (`{{json .}}` for JSON lines). */
export function eventRenderer(format?: string): (m: EventMessage) => string {
  if (format === undefined || format === '') return eventLine
  let t: ReturnType<typeof parseTemplate>
  try {
    t = parseTemplate(format)
  } catch (err) {
    throw new NsxError(`invalid --format: ${(err as Error).message}`, 125)
  }
  return (m) => {
    try {
      return `${executeTemplate(t, m)}\n`
    } catch (err) {
      if (err instanceof TemplateError) throw new NsxError(`invalid --format: ${err.message}`, 125)
      throw err
    }
  }
}
