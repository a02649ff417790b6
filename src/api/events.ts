import type {ApiContext} from './router.js'

/**
 * GET /events: what happens to containers, as docker's event stream (one JSON document per line).
 * Two sources, so both front doors are seen: the changes in the store's run/ directory and in each
 * container's directory (inotify: create, start, die, destroy, whoever made them), and what the
 * service itself does that leaves no trace there (pause, unpause, rename, exec). No listener, no
 * watch: an idle service costs nothing.
 */
export interface EngineEvent {
  Type: 'container' | 'image' | 'volume' | 'network'
  Action: string
  id: string
  attributes?: Record<string, string>
}

type Listener = (e: EngineEvent) => void
const listeners = new Set<Listener>()

export function publish(e: EngineEvent): void {
  for (const l of listeners) l(e)
}

export function listenerCount(): number {
  return listeners.size
}

export function subscribe(l: Listener): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}

export type {ApiContext}
