import {closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, statSync, watch, writeSync, type FSWatcher} from 'node:fs'
import {join} from 'node:path'
import {StringDecoder} from 'node:string_decoder'
import type {Store} from './store.js'

/**
 * The store's event journal: what happened to containers, images, networks and volumes, as the
 * Engine API's event messages (docker's `events.Message`), one per line, in
 * ROOT/events/journal (the one before it in journal.1, where a write past JOURNAL_CAP moves
 * it). Every process that changes the store records there, nsx's CLI and the Engine API alike,
 * so `docker events` sees what `nsx rmi` did in a terminal and `nsx events` what docker-py did.
 * A line is `KEY<TAB>JSON`: KEY (`-` for none) names an event that two processes may both have
 * seen (each one watching the containers' directories); a reader tells it once.
 */

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon'

/** docker's event message (API 1.41), with the deprecated status/id/from of container and image events. */
export interface EventMessage {
  status?: string
  id?: string
  from?: string
  Type: EventType
  Action: string
  Actor: {ID: string; Attributes: Record<string, string>}
  scope: 'local'
  time: number
  timeNano: number
}

/** An event to record: its type, action, actor id and attributes (docker's, per type). */
export interface EventSpec {
  Type: EventType
  Action: string
  id: string
  attributes?: Record<string, string>
  /** Set for an event more than one watcher may see (a container's start, seen by each watcher): told once. */
  key?: string
}

export const eventsDir = (root: string) => join(root, 'events')
export const JOURNAL = 'journal'
export const JOURNAL_OLD = 'journal.1'
/** Past this size a write moves the journal to journal.1 (so the two hold 0.5 to 1 MiB: a few thousand events). */
export const JOURNAL_CAP = 512 * 1024

/** The message docker sends for an event, timed now. */
export function eventMessage(e: EventSpec, ms = Date.now()): EventMessage {
  const attributes = e.attributes ?? {}
  const compat = e.Type === 'container' ? {status: e.Action, id: e.id, from: attributes.image ?? ''} : e.Type === 'image' ? {status: e.Action, id: e.id} : {}
  return {...compat, Type: e.Type, Action: e.Action, Actor: {ID: e.id, Attributes: attributes}, scope: 'local', time: Math.floor(ms / 1000), timeNano: ms * 1e6}
}

/** The journal's line for a message (timeNano written exactly: milliseconds and six zeros). */
export function journalLine(m: EventMessage, key?: string): string {
  const ms = Math.round(m.timeNano / 1e6)
  return `${key ?? '-'}\t${JSON.stringify({...m, timeNano: 0}).replace(/"timeNano":0\}$/, `"timeNano":${ms}000000}`)}\n`
}

/**
 * Record an event in the store's journal. Best effort: an event that cannot be written (a
 * read-only store, a full disk) never fails the verb that made it. One write(2) of one line on an
 * O_APPEND file: lines of concurrent writers never interleave.
 */
export function recordEvent(root: string, e: EventSpec): EventMessage {
  const m = eventMessage(e)
  try {
    appendLine(root, journalLine(m, e.key))
  } catch {
    // not recorded: the verb's work is done all the same
  }
  return m
}

function appendLine(root: string, line: string): void {
  const dir = eventsDir(root)
  const path = join(dir, JOURNAL)
  let fd: number
  try {
    fd = openSync(path, 'a', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    mkdirSync(dir, {recursive: true, mode: 0o700})
    fd = openSync(path, 'a', 0o600)
  }
  try {
    const st = fstatSync(fd)
    if (st.size >= JOURNAL_CAP) {
      // Only the writer whose file is still the journal moves it (two at once would move the new one too).
      if (statSync(path).ino === st.ino) renameSync(path, join(dir, JOURNAL_OLD))
      closeSync(fd)
      fd = openSync(path, 'a', 0o600)
    }
    writeSync(fd, line)
  } finally {
    closeSync(fd)
  }
}

/** One line of the journal read back: its key, its message and the message's JSON as written. */
export interface JournalEntry {
  key?: string
  message: EventMessage
  json: string
}

export function parseJournalLine(line: string): JournalEntry | undefined {
  const tab = line.indexOf('\t')
  if (tab < 0) return undefined
  const json = line.slice(tab + 1)
  try {
    const message = JSON.parse(json) as EventMessage
    if (typeof message.Action !== 'string' || typeof message.timeNano !== 'number') return undefined
    const key = line.slice(0, tab)
    return {...(key !== '-' ? {key} : {}), message, json}
  } catch {
    return undefined
  }
}

interface OpenFile {
  fd: number
  ino: number
  pos: number
  rest: string
  decoder: StringDecoder
}

/**
 * Follows the journal: what is in it when opened (journal.1, then journal), then each line as it
 * is written, woken by inotify on ROOT/events (no polling: an idle reader costs nothing). A line
 * whose key was told already is dropped. The file a writer moved to journal.1 is read to its end
 * (a writer that opened it before the move may still append to it).
 */
export class JournalTail {
  private current: OpenFile | undefined
  private previous: OpenFile | undefined
  private watcher: FSWatcher | undefined
  private readonly keys = new Map<string, true>()
  private static readonly KEYS_KEPT = 4096

  constructor(private readonly root: string, private readonly onEntry: (e: JournalEntry) => void) {}

  /** Start following; `replay`: tell what the journal holds already (else start at its end). */
  open(replay: boolean): void {
    const dir = eventsDir(this.root)
    mkdirSync(dir, {recursive: true, mode: 0o700})
    // Watch first, then read: a line written between the two is read by the first wake-up.
    this.watcher = watch(dir, () => this.drain())
    this.watcher.on('error', () => undefined)
    const old = this.openFile(join(dir, JOURNAL_OLD))
    if (old) {
      if (replay) this.read(old)
      else old.pos = fstatSync(old.fd).size
      this.previous = old
    }
    this.current = this.openFile(join(dir, JOURNAL))
    if (this.current) {
      if (replay) this.read(this.current)
      else this.current.pos = fstatSync(this.current.fd).size
    }
  }

  /** Read what is new (also called by the watcher). */
  drain(): void {
    const dir = eventsDir(this.root)
    if (this.previous) this.read(this.previous)
    if (this.current) this.read(this.current)
    let ino: number | undefined
    try {
      ino = statSync(join(dir, JOURNAL)).ino
    } catch {
      ino = undefined
    }
    if (ino !== undefined && ino !== this.current?.ino) {
      // Moved to journal.1 (the current file is read to its end above) and a new one begun.
      if (this.previous) closeSync(this.previous.fd)
      this.previous = this.current
      this.current = this.openFile(join(dir, JOURNAL))
      if (this.current) this.read(this.current)
    }
  }

  close(): void {
    this.watcher?.close()
    this.watcher = undefined
    for (const f of [this.previous, this.current]) if (f) closeSync(f.fd)
    this.previous = this.current = undefined
  }

  private openFile(path: string): OpenFile | undefined {
    try {
      const fd = openSync(path, 'r')
      return {fd, ino: fstatSync(fd).ino, pos: 0, rest: '', decoder: new StringDecoder('utf8')}
    } catch {
      return undefined
    }
  }

  private read(f: OpenFile): void {
    const buf = Buffer.allocUnsafe(64 * 1024)
    for (;;) {
      let n: number
      try {
        n = readSync(f.fd, buf, 0, buf.length, f.pos)
      } catch {
        return
      }
      if (n <= 0) return
      f.pos += n
      const text = f.rest + f.decoder.write(buf.subarray(0, n))
      const lines = text.split('\n')
      // A line is whole once its newline is there (one write, but a read may see part of it).
      f.rest = lines.pop() ?? ''
      for (const line of lines) {
        const e = parseJournalLine(line)
        if (!e) continue
        if (e.key !== undefined) {
          if (this.keys.has(e.key)) continue
          this.keys.set(e.key, true)
          if (this.keys.size > JournalTail.KEYS_KEPT) this.keys.delete(this.keys.keys().next().value as string)
        }
        this.onEntry(e)
      }
    }
  }
}

/**
 * Record an image event as moby does: the actor is a reference (pull, push, load of a named
 * image) or the image id (tag, untag, delete, save, import); `name` the reference it concerns;
 * the image's labels (its config's) are added when its id is known.
 */
export function recordImageEvent(store: Store, action: string, actor: string, o: {name?: string; imageId?: string} = {}): void {
  let labels: Record<string, string> = {}
  if (o.imageId !== undefined) {
    try {
      labels = store.readJson<{config?: {Labels?: Record<string, string> | null}}>(join(store.imageDir(o.imageId), 'config.json'))?.config?.Labels ?? {}
    } catch {
      // gone (a delete): no labels
    }
  }
  recordEvent(store.root, {Type: 'image', Action: action, id: actor, attributes: {...labels, name: o.name ?? actor}})
}
