import {spawnSync} from 'node:child_process'
import {chmodSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {flock, LOCK_EX, LOCK_NB, LOCK_SH} from '../ffi/libc.js'

/**
 * The content-addressed store of layers and images:
 *
 *   ROOT/lock                          flock: shared while importing, exclusive for rmi/gc
 *   ROOT/tmp/                          extractions in progress (a crash leaves them here, gc removes them)
 *   ROOT/layers/sha256/<hex>/root/     an extracted layer, keyed by its diff_id (uncompressed sha256)
 *   ROOT/layers/sha256/<hex>/meta.json written last, inside tmp/, before the rename that publishes it
 *   ROOT/images/sha256/<hex>/          an image, keyed by its config digest (docker's image id)
 *   ROOT/repositories.json             "name:tag" -> image id
 *   ROOT/containers/<id>.json          pins by running containers (see pins.ts)
 *
 * ROOT is $NSX_ROOT, else /var/lib/nsx for root and $XDG_DATA_HOME/nsx otherwise.
 */

export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (env.NSX_ROOT) return env.NSX_ROOT
  if (uid === 0) return '/var/lib/nsx'
  const data = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share')
  return join(data, 'nsx')
}

export const hexOf = (digest: string) => digest.slice('sha256:'.length)
export const shortId = (digest: string) => hexOf(digest).slice(0, 12)

/**
 * Root in the initial user namespace: only then can extraction chown to any id, create
 * device nodes and set trusted.* xattrs. Root inside a user namespace (unshare -r) cannot.
 */
export function fullyPrivileged(): boolean {
  if ((process.geteuid?.() ?? 0) !== 0) return false
  try {
    const map = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/)
    return map[0] === '0' && map[1] === '0' && map[2] === '4294967295'
  } catch {
    return true
  }
}

export class Store {
  readonly privileged = fullyPrivileged()
  private lockFd: number | undefined

  constructor(readonly root: string) {}

  /**
   * The store at its default place. Importing creates it (0700) if missing; listing and
   * removing do not, so `nsx images` never creates /var/lib/nsx as a side effect.
   */
  static open(root = defaultStoreRoot(), opts: {create?: boolean} = {}): Store {
    const s = new Store(root)
    if (opts.create !== false) s.ensureLayout()
    return s
  }

  get exists(): boolean {
    return exists(join(this.root, 'layers'))
  }

  ensureLayout(): void {
    try {
      mkdirSync(this.root, {recursive: true, mode: 0o700})
      for (const d of ['tmp', 'layers/sha256', 'images/sha256', 'containers']) mkdirSync(join(this.root, d), {recursive: true, mode: 0o700})
    } catch (err) {
      throw NsxError.internal(`cannot create the image store at ${this.root}: ${(err as Error).message} (set NSX_ROOT to use another place)`)
    }
  }

  get tmpDir(): string {
    return join(this.root, 'tmp')
  }

  layerDir(diffId: string): string {
    return join(this.root, 'layers', 'sha256', hexOf(diffId))
  }

  layerRoot(diffId: string): string {
    return join(this.layerDir(diffId), 'root')
  }

  imageDir(id: string): string {
    return join(this.root, 'images', 'sha256', hexOf(id))
  }

  /**
   * Take the store lock for the rest of this process (released at exit). Imports share it;
   * rmi and gc take it exclusively so they never sweep a layer an import is about to use.
   */
  lock(mode: 'shared' | 'exclusive'): void {
    if (this.lockFd !== undefined || !this.exists) return
    let fd: number
    try {
      fd = openSync(join(this.root, 'lock'), 'a', 0o600)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
        throw NsxError.internal(`cannot use the image store at ${this.root}: ${code === 'EROFS' ? 'read-only file system' : 'permission denied (it belongs to another user)'}; set NSX_ROOT`)
      throw err
    }
    const op = mode === 'shared' ? LOCK_SH : LOCK_EX
    if (!flock(fd, op | LOCK_NB)) {
      process.stderr.write(`nsx: waiting for another nsx using the image store at ${this.root}\n`)
      flock(fd, op)
    }
    this.lockFd = fd
  }

  /**
   * Take the lock only if it is free now (a long-lived process, the Engine API service, waits
   * for it without blocking its event loop). True when taken or already held.
   */
  tryLock(mode: 'shared' | 'exclusive'): boolean {
    if (this.lockFd !== undefined || !this.exists) return true
    const fd = openSync(join(this.root, 'lock'), 'a', 0o600)
    if (!flock(fd, (mode === 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
      closeSync(fd)
      return false
    }
    this.lockFd = fd
    return true
  }

  /** Whether this process holds the store lock (a verb that takes it for itself releases only its own). */
  get locked(): boolean {
    return this.lockFd !== undefined
  }

  unlock(): void {
    if (this.lockFd === undefined) return
    closeSync(this.lockFd)
    this.lockFd = undefined
  }

  /** Digests (sha256:...) of the entries of layers/ or images/ that are complete. */
  listDigests(kind: 'layers' | 'images'): string[] {
    let names: string[]
    try {
      names = readdirSync(join(this.root, kind, 'sha256'))
    } catch {
      return []
    }
    const marker = kind === 'layers' ? 'meta.json' : 'image.json'
    return names.filter((n) => /^[0-9a-f]{64}$/.test(n) && exists(join(this.root, kind, 'sha256', n, marker))).map((n) => `sha256:${n}`)
  }

  readJson<T>(path: string): T | undefined {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return undefined
      if (code === 'EACCES' || code === 'EPERM') throw NsxError.internal(`cannot read ${path}: permission denied (the image store at ${this.root} belongs to another user; set NSX_ROOT)`)
      throw NsxError.internal(`corrupt store file ${path}: ${(err as Error).message}`)
    }
  }

  /** Write a file so readers see the old or the new content, never half of it. */
  writeJsonAtomic(path: string, value: unknown): void {
    const tmp = `${path}.tmp-${process.pid}`
    writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', {mode: 0o600})
    renameSync(tmp, path)
  }

  /** Move a directory out of its published place first, so a crash mid-delete never leaves a half entry that looks whole. */
  retire(dir: string): void {
    const dest = join(this.tmpDir, `retired-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`)
    try {
      renameSync(dir, dest)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    removeTree(dest)
  }
}

export function exists(p: string): boolean {
  try {
    lstatSync(p)
    return true
  } catch {
    return false
  }
}

/**
 * rm -rf that also works rootless, where an extracted directory may be read-only
 * (0555, as in many images) and so cannot be emptied until it is made writable, and on
 * trees Node's recursive rm cannot walk: it recurses on the JavaScript stack, which a
 * layer nesting a couple of thousand directories overflows. coreutils walk those with openat.
 */
export function removeTree(dir: string): void {
  let first: unknown
  try {
    rmSync(dir, {recursive: true, force: true})
    return
  } catch (err) {
    first = err
  }
  const code = (first as NodeJS.ErrnoException).code
  if (code === 'EACCES' || code === 'EPERM') {
    try {
      makeWritable(dir)
      rmSync(dir, {recursive: true, force: true})
      return
    } catch {
      // too deep for these too: coreutils below
    }
  }
  const rm = () => spawnSync('rm', ['-rf', '--', dir], {stdio: 'ignore'}).status === 0 && !exists(dir)
  if (rm()) return
  // chmod -R changes no symlink it meets, so nothing outside the tree.
  spawnSync('chmod', ['-R', 'u+rwx', '--', dir], {stdio: 'ignore'})
  if (rm()) return
  throw first
}

function makeWritable(dir: string): void {
  const st = lstatSync(dir)
  if (!st.isDirectory()) return
  if ((st.mode & 0o700) !== 0o700) chmodSync(dir, (st.mode & 0o7777) | 0o700)
  for (const e of readdirSync(dir, {withFileTypes: true})) if (e.isDirectory()) makeWritable(join(dir, e.name))
}

/** Disk usage of a tree in bytes (allocated blocks, each inode once), for `nsx images`. */
export function diskUsage(dir: string): number {
  const seen = new Set<string>()
  let total = 0
  const walk = (d: string) => {
    let entries: string[]
    try {
      entries = readdirSync(d)
    } catch {
      return
    }
    for (const name of entries) {
      const p = join(d, name)
      const st = lstatSync(p, {bigint: false})
      const key = `${st.dev}:${st.ino}`
      if (st.nlink > 1) {
        if (seen.has(key)) continue
        seen.add(key)
      }
      total += st.blocks * 512
      if (st.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return total
}
