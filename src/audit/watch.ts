import {FSWatcher, watch} from 'node:fs'
import {readCgroupLayout} from '../cgroup/hierarchy.js'
import {AuditOptions, auditContext, runAudit} from './audit.js'
import type {AuditEvent, AuditReport} from './types.js'

/**
 * `nsx audit --watch`: audit, then audit again as workloads start, reporting each finding once
 * (a workload and a rule). Event-driven: every runtime makes a cgroup directory for a new
 * container before its first process joins, so an inotify watch on the cgroup trees (the
 * cgroup2 tree and the v1 pids or memory hierarchy) wakes nsx when one is made; a new audit
 * follows shortly after, and once more a little later for a process that joins late.
 * Hand-made namespaces make no cgroup: a full audit every `interval` seconds catches them.
 */
export interface WatchOptions extends AuditOptions {
  /** Seconds between full audits when no cgroup event came (default 60). */
  interval?: number
  /** Milliseconds after a cgroup event before the audit (default 250), and its repeat (default 2000). */
  settle?: number
  again?: number
}

export interface Watching {
  /** Resolves when stop() is called, or rejects with the audit's error. */
  done: Promise<void>
  stop(): void
}

export function watchAudit(opts: WatchOptions, emit: (e: AuditEvent) => void, onReport?: (r: AuditReport) => void): Watching {
  const ctx = auditContext(opts)
  const seen = new Set<string>()
  const watchers: FSWatcher[] = []
  const timers = new Set<NodeJS.Timeout>()
  let stopped = false
  let resolve!: () => void
  let reject!: (e: unknown) => void
  const done = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  /** Ends the watch: resolved by stop(), rejected with an audit's error (never both). */
  const finish = (err?: unknown) => {
    if (stopped) return
    stopped = true
    for (const w of watchers) w.close()
    for (const t of timers) clearTimeout(t)
    clearInterval(tick)
    if (err === undefined) resolve()
    else reject(err)
  }
  const stop = () => finish()

  const audit = () => {
    if (stopped) return
    let report: AuditReport
    try {
      report = runAudit(opts, ctx)
    } catch (err) {
      finish(err)
      return
    }
    onReport?.(report)
    const byKey = new Map(report.workloads.map((w) => [w.key, w]))
    for (const f of report.findings) {
      if (seen.has(f.fingerprint)) continue
      seen.add(f.fingerprint)
      emit({schemaVersion: report.schemaVersion, time: report.time, host: report.host.hostname, workload: byKey.get(f.workload)!, finding: f})
    }
  }
  const later = (ms: number) => {
    const t = setTimeout(() => {
      timers.delete(t)
      audit()
    }, ms)
    timers.add(t)
  }
  let pending = false
  const onCgroupEvent = (_event: string, file: string | Buffer | null) => {
    // Only a directory made or removed matters; its control files come with it.
    const name = String(file ?? '')
    if (name.slice(name.lastIndexOf('/') + 1).includes('.') && !/\.(scope|service|slice)$/.test(name)) return
    if (pending) return
    pending = true
    const t = setTimeout(() => {
      timers.delete(t)
      pending = false
      audit()
      later(opts.again ?? 2000)
    }, opts.settle ?? 250)
    timers.add(t)
  }

  const layout = readCgroupLayout(ctx.procRoot, ctx.sysRoot)
  const roots = [layout.v2, (layout.v1.find((h) => h.controllers.includes('pids')) ?? layout.v1.find((h) => h.controllers.includes('memory')))?.mountpoint].filter((d): d is string => d !== undefined)
  for (const dir of roots) {
    try {
      const w = watch(dir, {recursive: true}, onCgroupEvent)
      w.on('error', () => w.close())
      watchers.push(w)
    } catch {
      // not watchable (no inotify here): the interval still audits
    }
  }
  const tick = setInterval(audit, Math.max(1, opts.interval ?? 60) * 1000)
  audit()
  return {done, stop}
}
