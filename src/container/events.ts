import {type EventSpec, recordEvent} from '../store/events.js'
import type {Store} from '../store/store.js'
import type {Container} from './state.js'

/** docker's attributes of a container event: the container's labels, image and name (as they are at the event). */
export function containerAttributes(c: Pick<Container, 'config'>): Record<string, string> {
  return {...(c.config.labels ?? {}), image: c.config.image ?? '', name: c.config.name}
}

/**
 * Record a container event in the store's journal (src/store/events.ts), with the container's
 * labels, image and name and `attributes` (a kill's signal, a health_status's status): what
 * `docker events` and `nsx events` show. `key` names an event another process may record too (a
 * create, a destroy): it is told once. Best effort: never fails the verb.
 */
export function recordContainerEvent(store: Store, c: Pick<Container, 'config'>, action: string, attributes: Record<string, string> = {}, key?: string): void {
  const e: EventSpec = {Type: 'container', Action: action, id: c.config.id, attributes: {...containerAttributes(c), ...attributes}, ...(key ? {key} : {})}
  recordEvent(store.root, e)
}
