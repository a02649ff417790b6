import {addFilter, type EventFilters, parseEventTime} from '../events/filter.js'
import {closeEventHub, type EventHub, eventHub, followEvents} from '../events/follow.js'
import {NsxError} from '../cli/errors.js'
import type {EventSpec} from '../store/events.js'
import type {Store} from '../store/store.js'
import {badRequest, queryFilters} from './http.js'
import type {ApiContext} from './router.js'
import {writeOut} from './streams.js'

/**
 * GET /events: docker's event stream (one JSON message per line) over the store's events
 * (src/events/follow.ts, the function `nsx events` calls): `since`/`until` replay the last 256,
 * then what comes, filtered.
 */
export async function events(ctx: ApiContext): Promise<undefined> {
  const filters: EventFilters = new Map()
  let since: number | undefined
  let until: number | undefined
  try {
    for (const [k, vs] of queryFilters(ctx.query)) for (const v of vs) addFilter(filters, k, v)
    const s = ctx.query.get('since')
    const u = ctx.query.get('until')
    if (s) since = parseEventTime(s, 'since')
    if (u) until = parseEventTime(u, 'until')
  } catch (err) {
    throw err instanceof NsxError ? badRequest(err.message) : err
  }
  const {res} = ctx
  res.writeHead(200, {'Content-Type': 'application/json'})
  res.flushHeaders()
  await followEvents(ctx.store(), {since, until, filters, signal: ctx.signal}, (e) => writeOut(res, Buffer.from(`${e.json}\n`), ctx.signal))
  res.end()
  return undefined
}

let hub: EventHub | undefined

/** Open the store's events with the service (so `since` replays what came before the first subscriber). */
export function startEvents(store: Store): void {
  hub = eventHub(store)
}

/** At the service's end. */
export function stopEvents(): void {
  if (hub) closeEventHub(hub.store)
  hub = undefined
}

/**
 * Publish an event of what the service did that leaves no trace in the store (a container's
 * kill, pause, exec, a health status): recorded in the store's journal and told at once. A
 * container event's attributes get the container's labels, image and name (as they are now).
 */
export function publish(e: EventSpec): void {
  if (!hub) return
  const attributes = e.Type === 'container' ? {...(hub.containerAttributes(e.id) ?? {}), ...(e.attributes ?? {})} : e.attributes
  hub.publish({...e, ...(attributes ? {attributes} : {})})
}
