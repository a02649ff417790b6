import {closeSync, fstatSync, openSync, readSync, statSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {Container, readContainer, resolveContainer} from '../container/state.js'

/**
 * docker logs: the entries the supervisor wrote to container.log (docker's json-file format,
 * rotated to container.log.1, .2, ...), oldest first, each on its own stream.
 */
export interface LogEntry {
  stream: 'stdout' | 'stderr'
  /** RFC 3339 with nanoseconds, as the supervisor wrote it. */
  time: string
  /** The bytes of one line, its newline included (a partial line has none). */
  log: string
}

export interface LogsOptions {
  follow?: boolean
  /** Only the last N entries ('all' or undefined: every one). */
  tail?: number
  /** Only entries at or after this time: RFC 3339, a Unix time in seconds, or a duration back from now (10m, 1h30m). */
  since?: string
  until?: string
  /** For follow: stop when it is aborted. */
  signal?: AbortSignal
}

/** --since/--until: RFC 3339, Unix seconds (with a fraction), or a Go duration before now. Returns ms since the epoch. */
export function parseLogTime(s: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000
  const units: Record<string, number> = {ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000}
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) {
    let ms = 0
    for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * units[m[2]]
    return now - ms
  }
  const t = Date.parse(s)
  if (Number.isNaN(t)) throw NsxError.invalid(`invalid time '${s}': expected RFC 3339 (2024-01-02T15:04:05Z), Unix seconds, or a duration such as 10m`, 1)
  return t
}

/** Nanosecond-precise comparison key of an entry's time, in ms (the fraction kept). */
function timeMs(t: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(t)
  if (!m) return Date.parse(t)
  return Date.parse(`${m[1]}Z`) + (m[2] ? Number(`0${m[2]}`) * 1000 : 0)
}

function parseLine(line: string): LogEntry | undefined {
  try {
    const e = JSON.parse(line) as LogEntry
    return typeof e.log === 'string' && (e.stream === 'stdout' || e.stream === 'stderr') ? e : undefined
  } catch {
    return undefined
  }
}

/** Reads a file from an offset, returning whole lines and the offset after the last one. */
function readLines(path: string, from: number): {lines: string[]; next: number; inode: number} | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return undefined
  }
  try {
    const st = fstatSync(fd)
    const size = st.size
    if (size <= from) return {lines: [], next: from, inode: st.ino}
    const buf = Buffer.alloc(size - from)
    let got = 0
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, from + got)
      if (n === 0) break
      got += n
    }
    const text = buf.subarray(0, got).toString('utf8')
    const end = text.lastIndexOf('\n')
    if (end < 0) return {lines: [], next: from, inode: st.ino}
    return {lines: text.slice(0, end).split('\n'), next: from + Buffer.byteLength(text.slice(0, end + 1)), inode: st.ino}
  } finally {
    closeSync(fd)
  }
}

/** docker's --tail (the API's tail=): a count, "all", or a negative count (all); anything else is refused. */
export function parseTail(v: string | null | undefined): number | undefined {
  if (v === null || v === undefined || v === '' || v === 'all') return undefined
  if (!/^-?\d+$/.test(v)) throw NsxError.invalid(`invalid --tail '${v}': a number or "all"`)
  const n = Number(v)
  return n < 0 ? undefined : n
}

/** docker's answer for a container whose log driver keeps nothing to read (none; moby's ErrReadLogsNotSupported, 501 through the API). */
export function checkLogsReadable(c: Pick<Container, 'config'>): void {
  if (c.config.log?.driver === 'none') throw NsxError.unsupported('configured logging driver does not support reading', 1)
}

/**
 * The container's log entries, oldest first: everything kept (with --tail, the last N; with
 * --since/--until, that window), then, with follow, new entries as the supervisor writes them,
 * across rotations, until the container is no longer running.
 */
export async function* containerLogs(store: Store, ref: string, opts: LogsOptions = {}): AsyncGenerator<LogEntry> {
  const c = resolveContainer(store, ref)
  checkLogsReadable(c)
  const base = `${c.dir}/container.log`
  const since = opts.since !== undefined ? parseLogTime(opts.since) : undefined
  const until = opts.until !== undefined ? parseLogTime(opts.until) : undefined
  const keep = (e: LogEntry) => (since === undefined || timeMs(e.time) >= since) && (until === undefined || timeMs(e.time) <= until)
  const maxFiles = c.config.log?.maxFiles ?? 3
  let entries: LogEntry[] = []
  for (let i = maxFiles - 1; i >= 1; i--) {
    const r = readLines(`${base}.${i}`, 0)
    if (r) for (const l of r.lines) entries.push(parseLine(l)!)
  }
  const current = readLines(base, 0)
  if (current) for (const l of current.lines) entries.push(parseLine(l)!)
  entries = entries.filter((e) => e !== undefined && keep(e))
  if (opts.tail !== undefined) entries = opts.tail <= 0 ? [] : entries.slice(-opts.tail)
  yield* entries
  if (!opts.follow) return
  let offset = current?.next ?? 0
  let inode = current?.inode ?? 0
  // Woken by inotify when the supervisor writes the log or its exit: no polling while idle.
  const {DirWatch} = await import('../container/watch.js')
  const changes = new DirWatch(c.dir)
  try {
  for (;;) {
    const running = readContainer(c.dir)
    const r = readLines(base, offset)
    if (r && r.inode !== inode) {
      // Rotated: what was left in the old file is now in .1, then the new file from its start.
      const old = readLines(`${base}.1`, offset)
      if (old) for (const l of old.lines) {
        const e = parseLine(l)
        if (e && keep(e)) yield e
      }
      offset = 0
      inode = r.inode
      continue
    }
    if (r) {
      for (const l of r.lines) {
        const e = parseLine(l)
        if (e && keep(e)) yield e
      }
      offset = r.next
    }
    if (!running || (running.status !== 'running' && running.status !== 'starting')) {
      // One last read: what the supervisor wrote as it ended.
      const last = readLines(base, offset)
      if (last && last.inode === inode) for (const l of last.lines) {
        const e = parseLine(l)
        if (e && keep(e)) yield e
      }
      return
    }
    if (opts.signal?.aborted) return
    await changes.next({timeoutMs: 1000, signal: opts.signal})
  }
  } finally {
    changes.close()
  }
}

/** Whether a log file exists for the container (for a clear message when it never ran detached). */
export function hasLog(dir: string): boolean {
  try {
    return statSync(`${dir}/container.log`).isFile()
  } catch {
    return false
  }
}
