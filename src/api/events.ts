import {FSWatcher, readFileSync, watch} from 'node:fs'
import {join} from 'node:path'
import type {Store} from '../store/store.js'
import {badRequest, queryFilters} from './http.js'
import type {ApiContext} from './router.js'
import {writeOut} from './streams.js'

/**
 * GET /events: what happens to containers, as docker's event stream (one JSON document per line).
 * Two sources, so both front doors are seen: the store's run/ directory and each container's
 * directory, through inotify (create, start, die, destroy, whoever made them: the docker CLI or
 * nsx's own), and what the service does that leaves no trace there (kill, stop, pause, unpause,
 * rename, exec). No listener, no watch: an idle service costs nothing.
 */
export interface EngineEvent {
  Type: 'container' | 'image' | 'volume' | 'network'
  Action: string
  id: string
  attributes?: Record<string, string>
}

interface Wire {
  status?: string
  id?: string
  from?: string
  Type: string
  Action: string
  Actor: {ID: string; Attributes: Record<string, string>}
  scope: 'local'
  time: number
  timeNano: number
}

type Listener = (e: Wire) => void
const listeners = new Set<Listener>()
/** The last events, for `since` (docker keeps a ring of them too). */
const recent: Wire[] = []
const RECENT = 256

interface Seen {
  status: string
  startedAt?: string
  finishedAt?: string
  exitCode?: number
  name: string
  image: string
  labels: Record<string, string>
  /** The startedAt whose start event went out, and the one whose die did. */
  startTold?: string
  dieTold?: string
}

let watcher: StoreWatcher | undefined

/** Publish an event; `attributes` of a container event get its name, image and labels from what is known of it. */
export function publish(e: EngineEvent): void {
  const known = watcher?.seen.get(e.id)
  const attributes = {...(known ? {...known.labels, image: known.image, name: known.name} : {}), ...(e.attributes ?? {})}
  const now = Date.now()
  const w: Wire = {
    ...(e.Type === 'container' ? {status: e.Action, id: e.id, from: attributes.image ?? ''} : {}),
    Type: e.Type,
    Action: e.Action,
    Actor: {ID: e.id, Attributes: attributes},
    scope: 'local',
    time: Math.floor(now / 1000),
    timeNano: now * 1e6,
  }
  recent.push(w)
  if (recent.length > RECENT) recent.shift()
  for (const l of listeners) l(w)
}

/** Watches the store while someone listens: run/ for containers coming and going, each container's directory for its state. */
class StoreWatcher {
  readonly seen = new Map<string, Seen>()
  private readonly dirs = new Map<string, FSWatcher>()
  private top: FSWatcher | undefined
  private scheduled = false

  constructor(private readonly store: Store) {}

  async start(): Promise<void> {
    const {runDir} = await import('../container/state.js')
    const {mkdirSync} = await import('node:fs')
    mkdirSync(runDir(this.store), {recursive: true, mode: 0o700})
    this.top = watch(runDir(this.store), () => this.schedule())
    this.top.on('error', () => undefined)
    await this.scan(false)
    for (const s of this.seen.values()) {
      s.startTold = s.startedAt
      if (s.status === 'exited') s.dieTold = s.startedAt
    }
  }

  stop(): void {
    this.top?.close()
    for (const w of this.dirs.values()) w.close()
    this.dirs.clear()
  }

  /** What inotify said of containers between scans: a start (its pids file) or an exit record, seen even if it is gone by the scan. */
  private readonly evidence = new Map<string, {started?: boolean; exitCode?: number}>()
  private chain: Promise<void> = Promise.resolve()

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      // One scan at a time, in order: two at once could tell an event twice.
      this.chain = this.chain.then(() => this.scan(true)).catch(() => undefined)
    })
  }

  private watchDir(id: string, dir: string): void {
    try {
      const w = watch(dir, (_type, file) => {
        if (file === 'pids') this.note(id, {started: true})
        else if (file === 'exit') {
          let code: number | undefined
          try {
            code = Number(/^-?\d+/.exec(readFileSync(join(dir, 'exit'), 'utf8'))?.[0] ?? NaN)
          } catch {
            // gone already
          }
          this.note(id, {started: true, ...(code !== undefined && !Number.isNaN(code) ? {exitCode: code} : {})})
        }
        this.schedule()
      })
      w.on('error', () => undefined)
      this.dirs.set(id, w)
    } catch {
      // gone meanwhile
    }
  }

  private note(id: string, e: {started?: boolean; exitCode?: number}): void {
    this.evidence.set(id, {...this.evidence.get(id), ...e})
  }

  private async scan(emit: boolean): Promise<void> {
    const {listContainers} = await import('../container/state.js')
    const now = new Map<string, Seen>()
    for (const c of listContainers(this.store)) {
      now.set(c.config.id, {
        status: c.status, startedAt: c.run?.startedAt, finishedAt: c.exit?.finishedAt, exitCode: c.exitCode,
        name: c.config.name, image: c.config.image ?? '', labels: c.config.labels ?? {},
      })
      if (!this.dirs.has(c.config.id)) this.watchDir(c.config.id, c.dir)
    }
    const events: EngineEvent[] = []
    for (const [id, s] of now) {
      const before = this.seen.get(id)
      if (!before) events.push({Type: 'container', Action: 'create', id})
      // A start is told once its container is seen running (or already ended), once per start.
      s.startTold = before?.startTold
      if (s.startedAt && s.startedAt !== s.startTold && (s.status === 'running' || s.status === 'exited')) {
        s.startTold = s.startedAt
        events.push({Type: 'container', Action: 'start', id})
      }
      // And its end once per start (an exit record or not: a --rm container may go before one is seen).
      s.dieTold = before?.dieTold
      if (s.status === 'exited' && s.startTold !== undefined && s.dieTold !== s.startTold) {
        s.dieTold = s.startTold
        events.push({Type: 'container', Action: 'die', id, attributes: {exitCode: String(s.exitCode ?? 0)}})
      }
    }
    for (const id of now.keys()) this.evidence.delete(id)
    const gone = [...this.seen.keys()].filter((id) => !now.has(id))
    // Names and labels of those going are still known while their events go out.
    for (const [id, s] of now) this.seen.set(id, s)
    if (emit) {
      for (const e of events) publish(e)
      for (const id of gone) {
        const s = this.seen.get(id)
        const ev = this.evidence.get(id)
        // Gone between two scans: what inotify saw of it says whether it ran.
        const startUntold = ev?.started && (s?.startTold === undefined || s.startTold === s.dieTold)
        if (startUntold) publish({Type: 'container', Action: 'start', id})
        if (startUntold || (s?.startTold !== undefined && s.dieTold !== s.startTold)) publish({Type: 'container', Action: 'die', id, attributes: {exitCode: String(ev?.exitCode ?? s?.exitCode ?? 0)}})
        publish({Type: 'container', Action: 'destroy', id})
        this.evidence.delete(id)
      }
    }
    for (const id of gone) {
      this.seen.delete(id)
      this.dirs.get(id)?.close()
      this.dirs.delete(id)
    }
  }
}

function matches(w: Wire, filters: Map<string, string[]>): boolean {
  for (const [key, values] of filters) {
    const a = w.Actor.Attributes
    const ok = values.some((v) => {
      switch (key) {
        case 'type': return w.Type === v
        case 'event': return w.Action === v || w.Action.startsWith(`${v}:`)
        case 'container': return w.Type === 'container' && (w.Actor.ID.startsWith(v) || a.name === v)
        case 'image': return a.image === v || w.from === v
        case 'label': {
          const i = v.indexOf('=')
          return i < 0 ? v in a : a[v.slice(0, i)] === v.slice(i + 1)
        }
        case 'volume': case 'network': return w.Type === key && (w.Actor.ID === v || a.name === v)
        case 'scope': return v === 'local'
        default: return false
      }
    })
    if (!ok) return false
  }
  return true
}

const KEYS = new Set(['type', 'event', 'container', 'image', 'label', 'volume', 'network', 'scope', 'daemon', 'node', 'service', 'secret', 'config', 'plugin'])

function timeParam(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined
  if (!/^\d+(\.\d+)?$/.test(v)) {
    const t = Date.parse(v)
    if (Number.isNaN(t)) throw badRequest(`invalid ${name}: ${v}`)
    return t
  }
  return Number(v) * 1000
}

export async function events(ctx: ApiContext): Promise<undefined> {
  const filters = queryFilters(ctx.query)
  for (const k of filters.keys()) if (!KEYS.has(k)) throw badRequest(`invalid filter '${k}'`)
  const since = timeParam(ctx.query.get('since'), 'since')
  const until = timeParam(ctx.query.get('until'), 'until')
  if (!watcher) {
    const w = new StoreWatcher(ctx.store())
    watcher = w
    await w.start()
  }
  const {res} = ctx
  res.writeHead(200, {'Content-Type': 'application/json'})
  res.flushHeaders()
  const queue: Wire[] = since !== undefined ? recent.filter((w) => w.time * 1000 >= Math.floor(since / 1000) * 1000 && (until === undefined || w.time * 1000 <= until)) : []
  let wake: (() => void) | undefined
  const listener: Listener = (w) => {
    queue.push(w)
    wake?.()
  }
  listeners.add(listener)
  try {
    for (;;) {
      while (queue.length > 0) {
        const w = queue.shift()!
        if (until !== undefined && w.time * 1000 > until) continue
        if (matches(w, filters)) await writeOut(res, Buffer.from(`${JSON.stringify(w)}\n`), ctx.signal)
      }
      if (ctx.signal.aborted || (until !== undefined && Date.now() >= until)) break
      // Until an event, the client's going, or `until` (its timer made here, so it cannot fire unheard).
      await new Promise<void>((resolve) => {
        const timer = until !== undefined ? setTimeout(done, Math.max(0, until - Date.now())) : undefined
        function done(): void {
          if (timer) clearTimeout(timer)
          ctx.signal.removeEventListener('abort', done)
          wake = undefined
          resolve()
        }
        wake = done
        ctx.signal.addEventListener('abort', done, {once: true})
      })
    }
  } finally {
    listeners.delete(listener)
    if (listeners.size === 0 && watcher) {
      watcher.stop()
      watcher = undefined
    }
  }
  res.end()
  return undefined
}
