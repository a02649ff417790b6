import {spawn} from 'node:child_process'
import {NsxError} from '../cli/errors.js'
import {executorPath} from '../plan/executor.js'
import type {ProcRef} from './state.js'

/**
 * Resolves once process P (a pid and its start time: another process under that pid is not it)
 * has ended, or at once if it has; a zombie counts as ended, as `alive` says. The executor waits
 * on the process's pidfd (`nsx-exec --wait-gone`), so the end arrives as an event, a child's
 * exit, with no look again: a supervisor's end changes no file inotify could report. SIGNAL's
 * abort ends the wait (and the executor) at once.
 */
export function processGone(p: ProcRef, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve()
  return new Promise<void>((resolve, reject) => {
    const c = spawn(executorPath(), ['--wait-gone', String(p.pid), String(p.startTime)], {stdio: ['ignore', 'ignore', 'pipe']})
    let err = ''
    const abort = () => c.kill('SIGKILL')
    signal?.addEventListener('abort', abort, {once: true})
    c.stderr.on('data', (d: Buffer) => (err += d.toString()))
    c.on('error', (e) => reject(NsxError.internal(`cannot wait for process ${p.pid}: ${e.message}`, 125)))
    c.on('close', (code) => {
      signal?.removeEventListener('abort', abort)
      if (code === 0 || signal?.aborted) resolve()
      else reject(NsxError.internal(`cannot wait for process ${p.pid}: ${err.trim() || `the executor exited with ${code}`}`, 125))
    })
  })
}
