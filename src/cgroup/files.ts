import {closeSync, openSync, readFileSync, readSync} from 'node:fs'

/**
 * Reads cgroup control files on every refresh through descriptors kept open: one pread at
 * offset 0 regenerates a kernfs file's contents, so a refresh costs one syscall per file
 * instead of open+read+close. Callers hold a ControlFile per file (made once per cgroup), so
 * a read builds no path string and looks nothing up. A file that went away (its cgroup was
 * removed: ENODEV, ENOENT) reads as undefined and its descriptor is closed.
 */
export interface ControlFile {
  readonly path: string
  fd: number
  /** Refresh at which opening last failed with ENOENT; the open is retried later. */
  missingAt: number
  /** Opened for each read and closed after it: a file read now and then keeps no descriptor. */
  readonly transient?: boolean
}

/**
 * How many descriptors to keep open: well below the soft RLIMIT_NOFILE ("Max open files" in
 * /proc/self/limits), which may be as low as 1024, leaving room for everything else.
 */
export function openFileBudget(limitsText: string | undefined, cap = 8192): number {
  const line = limitsText?.split('\n').find((l) => l.startsWith('Max open files'))
  const soft = line === undefined ? Number.NaN : Number(line.slice('Max open files'.length).trim().split(/\s+/)[0])
  if (!Number.isFinite(soft)) return Math.min(cap, 512) // "unlimited" or unreadable: stay modest
  return Math.max(64, Math.min(cap, soft - 512))
}

/** The budget for this process, from its own limits. */
export function defaultOpenFileBudget(): number {
  return openFileBudget(readLimits())
}

export class ControlFiles {
  private readonly openFiles = new Set<ControlFile>()
  private buf = Buffer.allocUnsafe(16 * 1024)
  private generation = 0
  /** Reads this refresh that failed because the cgroup is gone. */
  vanished = 0

  constructor(
    /** Beyond this many open descriptors, files are opened and closed per read. */
    private maxOpen = defaultOpenFileBudget(),
    /** A missing file is tried again after this many refreshes (a controller may be enabled). */
    private readonly retryAfter = 10,
  ) {}

  /** Call once per refresh. */
  nextRefresh(): void {
    this.generation++
    this.vanished = 0
  }

  get openCount(): number {
    return this.openFiles.size
  }

  handle(path: string, transient = false): ControlFile {
    return {path, fd: -1, missingAt: Number.NEGATIVE_INFINITY, transient}
  }

  read(f: ControlFile): string | undefined {
    const b = this.readBytes(f)
    return b === undefined ? undefined : b.toString('latin1')
  }

  /**
   * The file's bytes, in a buffer reused by the next read: parse them at once. Avoiding a
   * string per file per refresh keeps the garbage collector out of the refresh.
   */
  readBytes(f: ControlFile): Buffer | undefined {
    let fd = f.fd
    let transient = false
    if (fd < 0) {
      if (this.generation - f.missingAt < this.retryAfter) return undefined
      try {
        fd = openSync(f.path, 'r')
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENOTDIR') {
          f.missingAt = this.generation
          return undefined
        }
        // Out of descriptors: keep no more open from now on (files are opened per read).
        if (code === 'EMFILE' || code === 'ENFILE') this.maxOpen = Math.min(this.maxOpen, this.openFiles.size)
        // Not allowed, or out of descriptors: no figure this time, try again next refresh.
        if (code === 'EACCES' || code === 'EPERM' || code === 'EMFILE' || code === 'ENFILE') return undefined
        throw err
      }
      if (f.transient !== true && this.openFiles.size < this.maxOpen) {
        f.fd = fd
        this.openFiles.add(f)
      } else transient = true
    }
    try {
      return this.preadAll(fd)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (!transient) this.close(f)
      if (code === 'ENODEV' || code === 'ENOENT' || code === 'ESRCH') this.vanished++
      // EOPNOTSUPP, EINVAL, EACCES: not a readable figure, but not fatal either.
      return undefined
    } finally {
      if (transient) closeSync(fd)
    }
  }

  private preadAll(fd: number): Buffer {
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
    return this.buf.subarray(0, total)
  }

  close(f: ControlFile | undefined): void {
    if (!f || f.fd < 0) return
    try {
      closeSync(f.fd)
    } catch {
      /* already closed */
    }
    f.fd = -1
    this.openFiles.delete(f)
  }

  closeAll(): void {
    for (const f of [...this.openFiles]) this.close(f)
  }
}

function readLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'latin1')
  } catch {
    return undefined
  }
}
