import {FSWatcher, watch} from 'node:fs'

/**
 * Changes in a directory (a file written, renamed or removed there, or the directory removed),
 * through inotify, so a waiter costs no CPU while nothing happens: what a supervisor writes (state,
 * exit record, log) wakes it. Made before the caller's first look, a change between that look and
 * next() is not missed: next() then resolves at once.
 */
export class DirWatch {
  private watcher: FSWatcher | undefined
  private dirty = false
  private wake: (() => void) | undefined

  constructor(readonly dir: string) {
    try {
      this.watcher = watch(dir, {persistent: true}, () => this.changed())
      this.watcher.on('error', () => this.changed())
    } catch {
      this.dirty = true // gone already: the caller's next look says so
    }
  }

  private changed(): void {
    this.dirty = true
    this.wake?.()
  }

  /**
   * Resolves at the next change since the last call (true), or after `timeoutMs` (a safety net)
   * or when `signal` aborts (false).
   */
  next(opts: {timeoutMs?: number; signal?: AbortSignal} = {}): Promise<boolean> {
    if (this.dirty || opts.signal?.aborted) {
      const changed = this.dirty
      this.dirty = false
      return Promise.resolve(changed)
    }
    return new Promise<boolean>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        opts.signal?.removeEventListener('abort', done)
        this.wake = undefined
        const changed = this.dirty
        this.dirty = false
        resolve(changed)
      }
      const timer = setTimeout(done, opts.timeoutMs ?? 2000)
      opts.signal?.addEventListener('abort', done, {once: true})
      this.wake = done
    })
  }

  close(): void {
    this.watcher?.close()
    this.watcher = undefined
    this.wake?.()
  }
}
