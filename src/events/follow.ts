import {mkdirSync} from 'node:fs'
import {runDir} from '../container/state.js'
import {type EventMessage, type EventSpec, JournalTail, recordEvent} from '../store/events.js'
import type {Store} from '../store/store.js'
import {ContainerWatcher} from './containers.js'
import {type EventFilters, matchesEvent} from './filter.js'

/**
 * The events of one store, as moby's daemon/events keeps them: the last RING events in memory
 * (filled from the store's journal when opened), each new one told to every subscriber. What is
 * new comes from the journal (every process's verbs record there) and from a watcher of the
 * containers' directories (what supervisors do: a die, a --rm's destroy). Started with the
 * service (`nsx system service`), so `since` replays what happened before the first subscriber;
 * `nsx events` opens its own. Nothing polls: inotify wakes it.
 */
export const RING = 256

export interface EventEntry {
  message: EventMessage
  /** The message's JSON as recorded (its timeNano exact). */
  json: string
}

export class EventHub {
  private readonly ring: EventEntry[] = []
  private readonly listeners = new Set<(e: EventEntry) => void>()
  private readonly tail: JournalTail
  private readonly watcher: ContainerWatcher

  constructor(readonly store: Store) {
    this.tail = new JournalTail(store.root, (e) => this.push({message: e.message, json: e.json}))
    this.watcher = new ContainerWatcher(store)
  }

  open(): this {
    mkdirSync(runDir(this.store), {recursive: true, mode: 0o700})
    this.tail.open(true)
    this.watcher.start()
    return this
  }

  close(): void {
    this.watcher.close()
    this.tail.close()
    this.listeners.clear()
  }

  /** Record an event now and tell it at once (not at the journal's next wake-up). */
  publish(e: EventSpec): void {
    recordEvent(this.store.root, e)
    this.tail.drain()
  }

  /** Attributes of a container the hub saw, for an event of one gone. */
  containerAttributes(id: string): Record<string, string> | undefined {
    return this.watcher.attributesOf(id)
  }

  private push(e: EventEntry): void {
    this.ring.push(e)
    if (this.ring.length > RING) this.ring.shift()
    for (const l of this.listeners) l(e)
  }

  /**
   * Subscribe: the ring's events between since and until (milliseconds; none without either,
   * as moby's loadBufferedEvents) that match, then each new one. Returns the replay and a stop.
   */
  subscribe(o: {since?: number; until?: number; filters: EventFilters}, onEvent: (e: EventEntry) => void): {replay: EventEntry[]; stop: () => void} {
    this.tail.drain()
    const inTime = (e: EventEntry) => (o.since === undefined || Math.round(e.message.timeNano / 1e6) >= o.since) && (o.until === undefined || Math.round(e.message.timeNano / 1e6) <= o.until)
    const replay = o.since === undefined && o.until === undefined ? [] : this.ring.filter((e) => inTime(e) && matchesEvent(e.message, o.filters))
    const listener = (e: EventEntry) => {
      if (matchesEvent(e.message, o.filters)) onEvent(e)
    }
    this.listeners.add(listener)
    return {replay, stop: () => this.listeners.delete(listener)}
  }
}

const hubs = new Map<string, EventHub>()

/** The hub of a store, opened on first use and kept for the process's life (the service opens it at its start). */
export function eventHub(store: Store): EventHub {
  let h = hubs.get(store.root)
  if (!h) {
    h = new EventHub(store).open()
    hubs.set(store.root, h)
  }
  return h
}

export function closeEventHub(store: Store): void {
  hubs.get(store.root)?.close()
  hubs.delete(store.root)
}

export interface FollowOptions {
  /** Milliseconds since the epoch. */
  since?: number
  until?: number
  filters: EventFilters
  signal?: AbortSignal
}

/**
 * The events `docker events` and `nsx events` show: replayed from `since` (when given), then as
 * they come, until `until` (a finite stream when it is past) or the signal. `write` is awaited
 * (a slow client holds its own queue, never the others).
 */
export async function followEvents(store: Store, o: FollowOptions, write: (e: EventEntry) => Promise<void> | void): Promise<void> {
  const hub = eventHub(store)
  const queue: EventEntry[] = []
  let wake: (() => void) | undefined
  const {replay, stop} = hub.subscribe(o, (e) => {
    queue.push(e)
    wake?.()
  })
  queue.unshift(...replay)
  try {
    for (;;) {
      while (queue.length > 0) {
        const e = queue.shift()!
        if (o.until !== undefined && Math.round(e.message.timeNano / 1e6) > o.until) continue
        await write(e)
      }
      if (o.signal?.aborted || (o.until !== undefined && Date.now() >= o.until)) break
      // Until an event, the signal, or `until` (its timer made here, so it cannot fire unheard).
      await new Promise<void>((resolve) => {
        const timer = o.until !== undefined ? setTimeout(done, Math.max(0, o.until - Date.now())) : undefined
        function done(): void {
          if (timer) clearTimeout(timer)
          o.signal?.removeEventListener('abort', done)
          wake = undefined
          resolve()
        }
        wake = done
        o.signal?.addEventListener('abort', done, {once: true})
      })
    }
  } finally {
    stop()
  }
}
