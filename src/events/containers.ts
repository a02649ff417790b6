import {type FSWatcher, readFileSync, watch} from 'node:fs'
import {join} from 'node:path'
import {containerAttributes} from '../container/events.js'
import {healthChange} from '../container/health.js'
import {type Container, containerDir, listContainers, readContainer, readTombstone, runDir} from '../container/state.js'
import {type EventSpec, recordEvent} from '../store/events.js'
import type {Store} from '../store/store.js'

/**
 * A container's create, start, die and destroy (and its named volumes' mount and unmount), told
 * from the store, whoever made them (the Engine API, `nsx run` in a terminal, a supervisor's
 * --rm): inotify on run/ and on each container's directory, a scan of the containers on each
 * change. Each is recorded in the store's journal with a key, so two watchers (the service and an
 * `nsx events`) are told once. Labels, name and image are the container's at the event: a
 * destroy carries those of the container gone.
 */
interface Seen {
  status: Container['status']
  startedAt?: string
  exitCode?: number
  attributes: Record<string, string>
  volumes: {name: string; destination: string; rw: boolean}[]
  /** The startedAt whose start event went out, and the one whose die did. */
  startTold?: string
  dieTold?: string
  /** A running container's healthcheck status, as its supervisor recorded it (and the probe that decided it). */
  health?: {status: string; at: string}
}

/** What inotify showed of a container between two scans, kept for one gone before the next scan looked. */
interface Evidence {
  seen?: Seen
  started?: boolean
  startedAt?: string
  exitCode?: number
}

function seenOf(c: Container): Seen {
  return {
    status: c.status, startedAt: c.run?.startedAt, exitCode: c.exitCode, attributes: containerAttributes(c),
    volumes: (c.config.spec.volumes ?? []).filter((v) => v.volume !== undefined).map((v) => ({name: v.volume!, destination: v.target, rw: !v.readOnly})),
    ...(c.status === 'running' && c.config.healthcheck ? {health: healthChange(c.dir)} : {}),
  }
}

/** The files of a container's directory whose change is a change of its state: a start, an exit, a rename, a healthcheck's result. */
const STATE_FILES = new Set(['pids', 'state.json', 'exit', 'config.json', 'health'])

export class ContainerWatcher {
  private readonly seen = new Map<string, Seen>()
  private readonly dirs = new Map<string, FSWatcher>()
  private readonly evidence = new Map<string, Evidence>()
  private top: FSWatcher | undefined
  private scheduled = false
  private closed = false
  private chain: Promise<void> = Promise.resolve()
  /** How many scans of the store it made (for tests: a log line must not cause one). */
  scans = 0

  constructor(private readonly store: Store) {}

  /** What is there now is the baseline (no events for it); changes from here on are told. */
  start(): void {
    const run = runDir(this.store)
    this.top = watch(run, {persistent: false}, (_type, file) => {
      // A container's directory renamed into place: read it now, in case it is gone by the scan.
      if (typeof file === 'string' && /^[0-9a-f]{64}$/.test(file) && !this.seen.has(file) && !this.evidence.get(file)?.seen) {
        const c = readContainer(containerDir(this.store, file))
        if (c) this.note(file, {seen: seenOf(c)})
      }
      this.schedule()
    })
    this.top.on('error', () => undefined)
    this.scan(false)
  }

  close(): void {
    this.closed = true
    this.top?.close()
    for (const w of this.dirs.values()) w.close()
    this.dirs.clear()
  }

  /** Attributes of a container known to the watcher (the ones it had when last seen), for events of one gone. */
  attributesOf(id: string): Record<string, string> | undefined {
    return (this.seen.get(id) ?? this.evidence.get(id)?.seen)?.attributes
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      // One scan at a time, in order: two at once could tell an event twice.
      this.chain = this.chain.then(() => this.scan(true)).catch(() => undefined)
    })
  }

  private watchDir(id: string, dir: string): void {
    try {
      const w = watch(dir, {persistent: false}, (_type, file) => {
        // Only what says a container's state changed: its log and its attach socket change often and
        // say nothing of it (a chatty container must not make the service scan).
        if (typeof file !== 'string' || !STATE_FILES.has(file)) return
        if (file === 'pids' || file === 'state.json') this.note(id, {started: true, ...this.startedAtIn(dir)})
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

  private startedAtIn(dir: string): {startedAt?: string} {
    try {
      const s = (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {startedAt?: string}).startedAt
      return s ? {startedAt: s} : {}
    } catch {
      return {}
    }
  }

  private note(id: string, e: Evidence): void {
    this.evidence.set(id, {...this.evidence.get(id), ...e})
  }

  private tell(e: EventSpec): void {
    recordEvent(this.store.root, e)
  }

  private started(id: string, s: Seen, at: string): void {
    for (const v of s.volumes) {
      this.tell({Type: 'volume', Action: 'mount', id: v.name, key: `${id}/mount/${v.name}/${at}`, attributes: {container: id, destination: v.destination, driver: 'local', propagation: '', 'read/write': String(v.rw)}})
    }
    this.tell({Type: 'container', Action: 'start', id, key: `${id}/start/${at}`, attributes: s.attributes})
  }

  private died(id: string, s: Seen, at: string, exitCode: number): void {
    this.tell({Type: 'container', Action: 'die', id, key: `${id}/die/${at}`, attributes: {...s.attributes, exitCode: String(exitCode)}})
    for (const v of s.volumes) this.tell({Type: 'volume', Action: 'unmount', id: v.name, key: `${id}/unmount/${v.name}/${at}`, attributes: {container: id, driver: 'local'}})
  }

  private scan(emit: boolean): void {
    if (this.closed) return
    this.scans++
    const now = new Map<string, Seen>()
    for (const c of listContainers(this.store)) {
      now.set(c.config.id, seenOf(c))
      if (!this.dirs.has(c.config.id)) this.watchDir(c.config.id, c.dir)
    }
    for (const [id, s] of now) {
      const before = this.seen.get(id)
      s.startTold = before?.startTold
      s.dieTold = before?.dieTold
      if (!emit) {
        // The baseline: what has happened already is not told.
        s.startTold = s.startedAt
        if (s.status === 'exited') s.dieTold = s.startedAt
        continue
      }
      if (!before) this.tell({Type: 'container', Action: 'create', id, key: `${id}/create`, attributes: s.attributes})
      // A start is told once its container is seen running (or already ended), once per start.
      if (s.startedAt && s.startedAt !== s.startTold && (s.status === 'running' || s.status === 'exited')) {
        if (s.startTold !== undefined && s.dieTold !== s.startTold) this.died(id, s, s.startTold, before?.exitCode ?? 0)
        s.startTold = s.startedAt
        this.started(id, s, s.startedAt)
      }
      // A healthcheck's status changed by a probe (docker tells no "starting": a start resets it silently).
      if (s.status === 'running' && s.health && s.health.status !== 'starting' && s.health.status !== before?.health?.status) {
        this.tell({Type: 'container', Action: `health_status: ${s.health.status}`, id, key: `${id}/health/${s.health.at}/${s.health.status}`, attributes: s.attributes})
      }
      // And its end once per start (an exit record or not: a --rm container may go before one is seen).
      if (s.status === 'exited' && s.startTold !== undefined && s.dieTold !== s.startTold) {
        s.dieTold = s.startTold
        this.died(id, s, s.startTold, s.exitCode ?? 0)
      }
    }
    const gone = new Set([...this.seen.keys(), ...[...this.evidence.keys()].filter((id) => this.evidence.get(id)?.seen)].filter((id) => !now.has(id)))
    if (emit) {
      for (const id of gone) {
        const ev = this.evidence.get(id)
        const s = this.seen.get(id) ?? ev?.seen
        if (!s) continue
        // Never seen by a scan (its whole life between two): told from what inotify showed of it.
        if (!this.seen.has(id)) this.tell({Type: 'container', Action: 'create', id, key: `${id}/create`, attributes: s.attributes})
        // A detached --rm container's exit record outlives it (run/ID.exit): it ran, even if no scan saw it run.
        const tomb = readTombstone(containerDir(this.store, id))
        const startUntold = (ev?.started || tomb !== undefined) && (s.startTold === undefined || s.startTold === s.dieTold)
        const at = startUntold ? (ev?.startedAt ?? s.startedAt ?? 'unseen') : s.startTold
        if (startUntold) this.started(id, s, at!)
        if (startUntold || (s.startTold !== undefined && s.dieTold !== s.startTold)) this.died(id, s, at!, ev?.exitCode ?? tomb?.code ?? s.exitCode ?? 0)
        this.tell({Type: 'container', Action: 'destroy', id, key: `${id}/destroy`, attributes: s.attributes})
      }
    }
    this.evidence.clear()
    this.seen.clear()
    for (const [id, s] of now) this.seen.set(id, s)
    for (const id of gone) {
      this.dirs.get(id)?.close()
      this.dirs.delete(id)
    }
  }
}
