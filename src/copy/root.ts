import {spawn} from 'node:child_process'
import {closeSync, constants, openSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import {containerPaths, rootMountOps} from '../container/plan.js'
import {alive, type Container, withContainer} from '../container/state.js'
import type {IdMapping} from '../plan/ops.js'
import {encodePlan} from '../plan/encode.js'
import {executorPath} from '../plan/executor.js'
import {validatePlan} from '../plan/validate.js'
import type {Store} from '../store/store.js'
import {InRootError, resolveInRoot} from './resolve.js'

/**
 * A container's root filesystem as one directory fd, the whole view its processes have: the
 * overlay of its layers and upper directory, and its volumes and binds. A running container's is
 * its init's root (`/proc/PID/root`, the pid checked by start time after the open). A stopped one
 * has no mount: the executor mounts it (the same ops as a start: overlay, /etc files, volumes) in
 * a mount namespace of its own and holds it there, and the root is opened through its
 * `/proc/PID/root`; the namespace, and every mount in it, goes when that helper's stdin closes
 * (or nsx dies). The container's lock is held meanwhile, so no start mounts the same upper
 * directory at once.
 */

export interface ContainerRoot {
  fd: number
  container: Container
  /** ids on disk ↔ ids in the container (a --userns container's files are stored shifted). */
  toHost(uid: number, gid: number): {uid: number; gid: number}
  fromHost(uid: number, gid: number): {uid: number; gid: number}
}

function mapper(uidMap: IdMapping[] | undefined, gidMap: IdMapping[] | undefined) {
  const through = (m: IdMapping[] | undefined, id: number, from: 'inside' | 'outside', to: 'inside' | 'outside') => {
    if (!m) return id
    const e = m.find((x) => id >= x[from] && id < x[from] + x.count)
    return e ? e[to] + (id - e[from]) : 65534
  }
  return {
    toHost: (uid: number, gid: number) => ({uid: through(uidMap, uid, 'inside', 'outside'), gid: through(gidMap, gid, 'inside', 'outside')}),
    fromHost: (uid: number, gid: number) => ({uid: through(uidMap, uid, 'outside', 'inside'), gid: through(gidMap, gid, 'outside', 'inside')}),
  }
}

const DIR = constants.O_RDONLY | constants.O_DIRECTORY

/** Resolve REF, lock it, open its root, run fn, close everything. */
export async function withContainerRoot<T>(store: Store, ref: string, fn: (root: ContainerRoot) => Promise<T>): Promise<T> {
  return withContainer(store, ref, async (c) => {
    const userns = c.config.spec.userns
    const ids = userns?.rootless ? mapper(undefined, undefined) : mapper(userns?.uidMap, userns?.gidMap)
    if (c.status === 'running' && c.pids) {
      let fd: number | undefined
      try {
        fd = openSync(`/proc/${c.pids.init.pid}/root`, DIR)
      } catch {
        fd = undefined
      }
      if (fd !== undefined && alive(c.pids.init)) {
        try {
          return await fn({fd, container: c, ...ids})
        } finally {
          closeSync(fd)
        }
      }
      if (fd !== undefined) closeSync(fd)
    }
    return withMountedRoot(c, (fd) => fn({fd, container: c, ...ids}))
  })
}

/** A stopped container's root, mounted by the executor in a private mount namespace for as long as fn runs. */
async function withMountedRoot<T>(c: Container, fn: (fd: number) => Promise<T>): Promise<T> {
  const spec = c.config.spec
  if ((process.geteuid?.() ?? 0) !== 0) throw NsxError.invalid(`copying files of a stopped container needs root (its root is mounted for the copy): start ${c.config.name} first`, 125)
  if (spec.userns && !spec.userns.rootless) throw NsxError.conflict(`copying files of a stopped --userns container is not supported: start ${c.config.name} first`, 125)
  const rootfs = containerPaths(c.dir, '').rootfs
  const plan = {
    command: 'nsx cp',
    ops: [
      {op: 'unshare' as const, ns: ['mnt' as const]},
      {op: 'propagation' as const, mode: 'private' as const, path: '/'},
      ...rootMountOps(spec, c.config.lowerDirs, containerPaths(c.dir, '')),
      {op: 'exec' as const, argv: ['/bin/sh', '-c', 'echo ready; exec cat >/dev/null']},
    ],
  }
  validatePlan(plan)
  const [argv0, ...args] = encodePlan(plan)
  const helper = spawn(executorPath(), args, {argv0, stdio: ['pipe', 'pipe', 'pipe']})
  let err = ''
  helper.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<void>((resolve) => helper.on('close', () => resolve()))
  try {
    await new Promise<void>((resolve, reject) => {
      let out = ''
      helper.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.includes('ready\n')) resolve()
      })
      helper.on('error', (e) => reject(NsxError.internal(`cannot mount ${c.config.name}'s root: ${e.message}`, 125)))
      helper.on('close', (code) => reject(NsxError.internal(`cannot mount ${c.config.name}'s root: ${err.trim().split('\n').pop() || `the executor exited with ${code}`}`.replace(/nsx cp: /, ''), 125)))
    })
    const fd = openSync(`/proc/${helper.pid}/root${rootfs}`, DIR)
    try {
      return await fn(fd)
    } finally {
      closeSync(fd)
    }
  } finally {
    helper.stdin!.end()
    await exited
  }
}

/**
 * docker's refusal to write where the container cannot: a path on a read-only volume ("mounted
 * volume is marked read-only"), or outside any volume of a --read-only container ("container
 * rootfs is marked read-only"). A running container's mounts would refuse anyway; a stopped
 * one's root is mounted for the copy without --read-only, so this says it first.
 */
export function checkWritable(root: ContainerRoot, path: string): void {
  let canonical = path
  try {
    const r = resolveInRoot(root.fd, path, {followLast: true})
    canonical = r.path
    r.release()
  } catch (err) {
    if (!(err instanceof InRootError)) throw err
  }
  const spec = root.container.config.spec
  const under = (target: string) => canonical === target || canonical.startsWith(target.endsWith('/') ? target : `${target}/`)
  const volume = [...spec.volumes].sort((a, b) => b.target.length - a.target.length).find((v) => under(v.target))
  if (volume?.readOnly) throw NsxError.forbidden('mounted volume is marked read-only', 1)
  if (!volume && spec.security?.readOnly) throw NsxError.forbidden('container rootfs is marked read-only', 1)
}

/** A file system error of a copy as one line (`read-only file system: /x`), an NsxError; others as they are. */
export function copyFailure(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException
  if (err instanceof NsxError || typeof e?.code !== 'string' || !e.code.startsWith('E')) return err
  const m = /^E[A-Z]+: ([^,]+)/.exec(e.message)
  const kind = e.code === 'ENOENT' ? 'not-found' : e.code === 'EROFS' || e.code === 'EACCES' || e.code === 'EPERM' ? 'forbidden' : 'invalid'
  return new NsxError(m ? m[1] : e.message, 1, kind)
}
