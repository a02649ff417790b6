import {closeSync, openSync, readSync} from 'node:fs'

/**
 * Reads cgroup control files on every refresh through descriptors kept open: one pread at
 * offset 0 regenerates a kernfs file's contents, so a refresh costs one syscall per file
 * instead of open+read+close. A file that went away (its cgroup was removed: ENODEV, ENOENT)
 * reads as undefined and its descriptor is closed.
 */
export class ControlFiles {
  private readonly fds = new Map<string, number>()
  /** Files that did not exist when last tried; retried every `retryAfter` refreshes. */
  private readonly missing = new Map<string, number>()
  private buf = Buffer.allocUnsafe(16 * 1024)
  private generation = 0
  /** Paths that failed in a way meaning "the cgroup is gone" during this refresh. */
  readonly vanished = new Set<string>()

  constructor(
    /** Beyond this many open descriptors, files are opened and closed per read. */
    private readonly maxOpen = 8192,
    private readonly retryAfter = 10,
  ) {}

  /** Call once per refresh: ages the negative cache. */
  nextRefresh(): void {
    this.generation++
    this.vanished.clear()
  }

  get openCount(): number {
    return this.fds.size
  }

  read(path: string): string | undefined {
    let fd = this.fds.get(path)
    let transient = false
    if (fd === undefined) {
      const missedAt = this.missing.get(path)
      if (missedAt !== undefined && this.generation - missedAt < this.retryAfter) return undefined
      try {
        fd = openSync(path, 'r')
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENOTDIR') {
          this.missing.set(path, this.generation)
          return undefined
        }
        if (code === 'EACCES' || code === 'EPERM') return undefined
        if (code === 'EMFILE' || code === 'ENFILE') return undefined
        throw err
      }
      this.missing.delete(path)
      if (this.fds.size < this.maxOpen) this.fds.set(path, fd)
      else transient = true
    }
    try {
      return this.preadAll(fd)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      this.forget(path, fd, transient)
      transient = false
      if (code === 'ENODEV' || code === 'ENOENT' || code === 'ESRCH') {
        this.vanished.add(path)
        return undefined
      }
      // EOPNOTSUPP, EINVAL, EACCES: not a readable figure, but not fatal either.
      return undefined
    } finally {
      if (transient) closeSync(fd)
    }
  }

  private preadAll(fd: number): string {
    let total = 0
    for (;;) {
      const n = readSync(fd, this.buf, total, this.buf.length - total, total)
      total += n
      if (n === 0 || total < this.buf.length) break
      // Larger than the buffer (a big cgroup.procs): grow and keep reading.
      const bigger = Buffer.allocUnsafe(this.buf.length * 2)
      this.buf.copy(bigger, 0, 0, total)
      this.buf = bigger
    }
    return this.buf.toString('latin1', 0, total)
  }

  private forget(path: string, fd: number, transient: boolean): void {
    if (!transient) {
      this.fds.delete(path)
      try {
        closeSync(fd)
      } catch {
        /* already closed */
      }
    }
  }

  /** Close every descriptor of files in `dir` (a cgroup that was removed or re-created). */
  closeDir(dir: string): void {
    const prefix = `${dir}/`
    for (const [path, fd] of this.fds) {
      if (path.startsWith(prefix) && path.indexOf('/', prefix.length) < 0) {
        this.fds.delete(path)
        try {
          closeSync(fd)
        } catch {
          /* already closed */
        }
      }
    }
    for (const path of this.missing.keys()) if (path.startsWith(prefix)) this.missing.delete(path)
  }

  closeAll(): void {
    for (const fd of this.fds.values()) {
      try {
        closeSync(fd)
      } catch {
        /* already closed */
      }
    }
    this.fds.clear()
    this.missing.clear()
  }
}
