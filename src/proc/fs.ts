import {closeSync, openSync, readFileSync, readSync, readlinkSync, readdirSync} from 'node:fs'

/**
 * Reading /proc, which is racy: a process may exit between readdir and open.
 * "Gone" (ENOENT, ESRCH) reads as undefined; "not allowed" (EACCES, EPERM) is
 * counted by the caller's AccessLog and also reads as undefined; anything else throws.
 */

/** Where /proc and /sys are; tests point these at fixture trees. */
export const PROC_ROOT = process.env.NSX_PROC_ROOT ?? '/proc'
export const SYS_ROOT = process.env.NSX_SYS_ROOT ?? '/sys'

/** "processes" -> "process", "directories" -> "directory", "fd tables" -> "fd table". */
export function singular(plural: string): string {
  if (plural.endsWith('sses')) return plural.slice(0, -2)
  if (plural.endsWith('ies')) return `${plural.slice(0, -3)}y`
  if (plural.endsWith('s')) return plural.slice(0, -1)
  return plural
}

export class AccessLog {
  readonly denied = new Map<string, number>()

  record(what: string): void {
    this.denied.set(what, (this.denied.get(what) ?? 0) + 1)
  }

  get total(): number {
    let n = 0
    for (const v of this.denied.values()) n += v
    return n
  }

  /**
   * The summary when it is worth saying: without root, denials hide much, always; as root only a
   * kernel rule or an LSM denies a read (this machine has such a process), which hides nothing the
   * user asked for unless `mayHide` (nothing matched, say) or they asked (`--verbose`).
   */
  report(opts: {verbose?: boolean; mayHide?: boolean} = {}): string | undefined {
    if (!opts.verbose && !opts.mayHide && process.getuid?.() === 0) return undefined
    return this.summary()
  }

  /** One line for stderr, or undefined when nothing was denied. */
  summary(): string | undefined {
    if (this.total === 0) return undefined
    const parts = [...this.denied.entries()].map(([what, n]) => `${n} ${n === 1 ? singular(what) : what}`)
    // As root, the denials come from elsewhere (ptrace rules, LSMs): "run as root" would mislead.
    const hint = process.getuid?.() === 0 ? '' : ' (run as root to see everything)'
    return `permission denied reading ${parts.join(', ')}${hint}`
  }
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR'
}

function isDenied(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'EACCES' || code === 'EPERM'
}

function guarded<T>(fn: () => T, log: AccessLog | undefined, what: string): T | undefined {
  try {
    return fn()
  } catch (err) {
    if (isGone(err)) return undefined
    if (isDenied(err)) {
      log?.record(what)
      return undefined
    }
    // EINVAL on readlink of a non-link, ENXIO etc.: treat as unreadable, not fatal.
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EINVAL' || code === 'ENXIO' || code === 'EIO') return undefined
    throw err
  }
}

export function readText(path: string, log?: AccessLog, what = 'files'): string | undefined {
  return guarded(() => readFileSync(path, 'utf8'), log, what)
}

export function readLink(path: string, log?: AccessLog, what = 'links'): string | undefined {
  return guarded(() => readlinkSync(path), log, what)
}

export function listDir(path: string, log?: AccessLog, what = 'directories'): string[] | undefined {
  return guarded(() => readdirSync(path), log, what)
}

/** Numeric entries of a directory (pids in /proc, tids in /proc/PID/task, fds), ascending. */
export function listNumeric(path: string, log?: AccessLog, what?: string): number[] | undefined {
  const names = listDir(path, log, what)
  if (names === undefined) return undefined
  const out: number[] = []
  for (const n of names) {
    const c = n.charCodeAt(0)
    if (c >= 48 && c <= 57) out.push(Number(n))
  }
  return out.sort((a, b) => a - b)
}

/**
 * A small /proc file (stat, cmdline, ...) read through one reused buffer. readFileSync
 * allocates 64 KiB per call for files whose size procfs reports as 0, which costs more
 * than the read when done for hundreds of processes. Throws like readFileSync (ENOENT: gone).
 */
const smallBuffer = Buffer.allocUnsafe(16384)

export function readProcFile(path: string, encoding: BufferEncoding = 'latin1'): string {
  const fd = openSync(path, 'r')
  try {
    let n = 0
    while (n < smallBuffer.length) {
      const r = readSync(fd, smallBuffer, n, smallBuffer.length - n, null)
      if (r === 0) return smallBuffer.toString(encoding, 0, n)
      n += r
    }
  } finally {
    closeSync(fd)
  }
  // Longer than the buffer (a huge command line): read it whole.
  return readFileSync(path, encoding)
}
