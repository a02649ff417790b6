import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {alive, readContainer, readTombstone, resolveContainer, type ProcRef} from '../container/state.js'
import {processGone} from '../container/process-end.js'
import {DirWatch} from '../container/watch.js'

/**
 * docker wait: blocks until the container is not running and returns its exit code. Takes
 * no lock (a stop or kill goes on meanwhile). A created container is waited for until it
 * has run, as docker's default condition does. Nothing polls: what the supervisor writes in the
 * container's directory wakes it (inotify), and the supervisor's own end, which changes no
 * file, arrives from its pidfd (processGone).
 */
export async function waitContainer(store: Store, ref: string, opts: {signal?: AbortSignal} = {}): Promise<{name: string; id: string; exitCode: number}> {
  const c = resolveContainer(store, ref)
  let last = c
  // The supervisor is the container's life. An --rm one removes the directory as its last act,
  // file by file (pids or config.json may go before the rest): what is read meanwhile is not
  // the end, so its supervisor, once seen, is waited for.
  let supervisor = c.pids?.supervisor
  const changes = new DirWatch(c.dir)
  const done = new AbortController()
  const stop = () => done.abort()
  opts.signal?.addEventListener('abort', stop, {once: true})
  // One waiter per supervisor, kept across wake-ups (the log's writes wake the loop too).
  let gone: {of: ProcRef; end: Promise<void>} | undefined
  let quiet = false
  const supervisorEnd = (p: ProcRef) => {
    if (gone?.of.pid !== p.pid || gone.of.startTime !== p.startTime) gone = {of: p, end: processGone(p, done.signal)}
    return gone.end
  }
  try {
    for (;;) {
      const now = readContainer(c.dir)
      if (now?.pids) supervisor = now.pids.supervisor
      if ((!now || now.status === 'exited') && supervisor && alive(supervisor)) {
        if (opts.signal?.aborted) throw NsxError.internal('interrupted', 1)
        await supervisorEnd(supervisor)
        continue
      }
      if (!now) {
        // A detached --rm container removed itself; its supervisor left the code beside its directory.
        const tomb = readTombstone(c.dir)
        if (tomb) {
          last = {...last, status: 'exited', exitCode: tomb.code}
          break
        }
        if (last.status === 'exited' && last.exitCode !== undefined) break
        throw NsxError.internal(`container ${ref} was removed before its exit code could be read`, 1)
      }
      last = now
      if (now.status === 'exited') break
      if (opts.signal?.aborted) throw NsxError.internal('interrupted', 1)
      // Running: its exit is recorded in the directory, but its end (the cleanup after) is the
      // supervisor's. Its pidfd is waited on once the exit is recorded, or once the directory has
      // been quiet for 2 s (a SIGKILLed supervisor records nothing); not before, so a short
      // `start -a` pays no executor for it.
      const watchEnd = now.status === 'running' && supervisor && (now.exit !== undefined || quiet)
      const changed = await Promise.race([changes.next({timeoutMs: 2000, signal: opts.signal}), ...(watchEnd ? [supervisorEnd(supervisor!).then(() => true)] : [])])
      if (!changed) quiet = true
    }
  } finally {
    opts.signal?.removeEventListener('abort', stop)
    done.abort()
    changes.close()
  }
  return {name: c.config.name, id: c.config.id, exitCode: last.exitCode ?? 0}
}
