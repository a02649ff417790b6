import {mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {readStat} from '../proc/process.js'
import {unpin} from '../store/pins.js'
import {exists, removeTree, Store} from '../store/store.js'
import {removeCgroups} from './cgroups.js'

/**
 * Containers in the store (NSX_ROOT):
 *
 *   ROOT/run/<name>/state.json   what was started (written before the executor runs)
 *   ROOT/run/<name>/pids         "SUPERVISOR START INIT START", written by the supervisor after its fork
 *   ROOT/run/<name>/env          the container's environment, NUL-separated (read before pivot_root)
 *   ROOT/run/<name>/{upper,work,rootfs}  overlay upper and work directories, and the mount point
 *   ROOT/containers/<name>.json  the layer pin (src/store/pins.ts)
 *
 * The directory is prepared in ROOT/tmp and renamed into run/ (atomic: the name is taken
 * or not). A process is named by pid and start time, so a reused pid never keeps a
 * dead container "running". A container is live while its supervisor or its init
 * lives; otherwise its leftovers (cgroups, directory, pin) are swept by the next
 * nsx run, nsx ps or nsx gc. Sweepers first move the directory away (retire), so a new
 * container of the same name never shares a directory with a dead one.
 */

export interface ContainerState {
  version: 1
  name: string
  id: string
  created: string
  command: string[]
  image?: string
  layers: number
  hostname: string
  detached: boolean
  /** Cgroup directories, removed by the supervisor (or a sweep). */
  cgroups: string[]
  /** The limits in force (docker's HostConfig resources): set by run, changed by nsx update; devices excluded. */
  limits?: import('./limits.js').Limits
  /** The named group it runs in (nsx run --group; src/group/groups.ts). */
  group?: string
  /** The process that started it (nsx itself; for a foreground run also the supervisor, after execve). */
  creator: {pid: number; startTime: number}
  /** The restrictions of the container's command, which nsx exec gives every process it adds (absent: an older nsx). */
  process?: ProcessConfig
}

/** What `run` applied to the container's first process, saved so that exec applies the same (docker: Config + HostConfig). */
export interface ProcessConfig {
  uid: number
  gid: number
  groups: number[]
  /** Capability numbers: the bounding set, and the effective and permitted sets of root. */
  caps: number[]
  workdir: string
  noNewPrivs: boolean
  privileged: boolean
  /** The container has a user namespace of its own: exec enters it and sets ids inside. */
  userns: boolean
  /** The container's seccomp filter (plan data, src/security/seccomp-plan.ts); absent: unfiltered. exec loads the same one. */
  seccomp?: import('../security/seccomp-plan.js').SeccompFilter
}

export interface Pids {
  supervisor: {pid: number; startTime: number}
  init: {pid: number; startTime: number}
}

export type Liveness = 'running' | 'starting' | 'orphaned' | 'dead'

export interface Container {
  dir: string
  state: ContainerState
  pids?: Pids
  liveness: Liveness
}

export const runDir = (store: Store) => join(store.root, 'run')
export const containerDir = (store: Store, name: string) => join(runDir(store), name)

function alive(p: {pid: number; startTime: number} | undefined): boolean {
  if (!p || p.pid <= 0) return false
  const st = readStat(p.pid)
  // A zombie has released its namespaces and cgroups already: it only waits to be reaped.
  return st !== undefined && st.starttime === p.startTime && st.state !== 'Z' && st.state !== 'X'
}

export function parsePids(text: string): Pids | undefined {
  const f = text.trim().split(/\s+/).map(Number)
  if (f.length !== 4 || f.some((n) => !Number.isInteger(n) || n < 0)) return undefined
  return {supervisor: {pid: f[0], startTime: f[1]}, init: {pid: f[2], startTime: f[3]}}
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

export function readContainer(dir: string): Container | undefined {
  const text = readOptional(join(dir, 'state.json'))
  if (text === undefined) return undefined
  let state: ContainerState
  try {
    state = JSON.parse(text) as ContainerState
  } catch {
    return undefined
  }
  const pidsText = readOptional(join(dir, 'pids'))
  const pids = pidsText === undefined ? undefined : parsePids(pidsText)
  let liveness: Liveness
  if (pids) {
    const sup = alive(pids.supervisor)
    const init = alive(pids.init)
    liveness = sup ? 'running' : init ? 'orphaned' : 'dead'
  } else {
    liveness = alive(state.creator) ? 'starting' : 'dead'
  }
  return {dir, state, pids, liveness}
}

export function listContainers(store: Store): Container[] {
  let names: string[]
  try {
    names = readdirSync(runDir(store)).sort()
  } catch {
    return []
  }
  const out: Container[] = []
  for (const n of names) {
    const c = readContainer(join(runDir(store), n))
    if (c) out.push(c)
  }
  return out
}

/**
 * Remove what dead containers left (nsx killed by SIGKILL, a crash): cgroups, directory,
 * pin. An orphaned init (its supervisor gone) is killed first. Returns the names swept.
 */
export function sweepStale(store: Store): string[] {
  const swept: string[] = []
  for (const c of listContainers(store)) {
    if (c.liveness === 'orphaned' && c.pids) {
      // Its supervisor died and PDEATHSIG is on its way, or was lost: make sure, then wait a moment.
      killIfSame(c.pids.init, 'SIGKILL')
      const init = c.pids.init
      if (!waitUntil(() => !alive(init), 2000)) continue // the next sweep removes the rest
    } else if (c.liveness !== 'dead') continue
    removeContainer(store, c)
    swept.push(c.state.name)
  }
  // Directories without a state.json are preparations in tmp/ only; run/ never holds one for long.
  return swept
}

export function removeContainer(store: Store, c: Container): void {
  removeCgroups(c.state.cgroups ?? [])
  store.retire(c.dir)
  unpin(store, c.state.name)
}

function waitUntil(cond: () => boolean, ms: number): boolean {
  const end = Date.now() + ms
  const cell = new Int32Array(new SharedArrayBuffer(4))
  while (!cond()) {
    if (Date.now() > end) return false
    Atomics.wait(cell, 0, 0, 10)
  }
  return true
}

/** Signal a process only if it is still the one recorded (pid and start time). */
export function killIfSame(p: {pid: number; startTime: number}, signal: NodeJS.Signals): boolean {
  if (!alive(p)) return false
  try {
    process.kill(p.pid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * Take the name: a directory prepared in tmp/ (state.json inside) renamed into run/<name>.
 * A dead container of the same name is swept first; a live one makes this fail.
 */
/** FILES: env and any other file of the container's directory (hosts, hostname, resolv.conf), by name. */
export function claimContainer(store: Store, state: ContainerState, files: {env: string; [name: string]: string}): string {
  mkdirSync(runDir(store), {recursive: true, mode: 0o700})
  const work = mkdtempSync(join(store.tmpDir, 'container-'))
  try {
    for (const d of ['upper', 'work', 'rootfs']) mkdirSync(join(work, d), {mode: 0o755})
    writeFileSync(join(work, 'env'), files.env, {mode: 0o600})
    // The container's /etc files are bound into it: readable there, as the image's would be.
    for (const [file, text] of Object.entries(files)) if (file !== 'env') writeFileSync(join(work, file), text, {mode: 0o644})
    writeFileSync(join(work, 'state.json'), JSON.stringify(state, null, 2) + '\n', {mode: 0o600})
    const dest = containerDir(store, state.name)
    for (let attempt = 0; ; attempt++) {
      try {
        renameSync(work, dest)
        return dest
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err
      }
      const old = readContainer(dest)
      if (attempt === 0 && (!old || old.liveness === 'dead')) {
        if (old) removeContainer(store, old)
        else store.retire(dest)
        continue
      }
      throw new NsxError(`the container name '${state.name}' is already in use${old?.pids ? ` (init pid ${old.pids.init.pid})` : ''}: choose another with --name, or nsx stop ${state.name}`, 125)
    }
  } finally {
    if (exists(work)) removeTree(work)
  }
}

export function findContainer(store: Store, name: string): Container | undefined {
  const c = readContainer(containerDir(store, name))
  return c && c.liveness !== 'dead' ? c : undefined
}

/** For messages: the names of live containers, or "none". */
export function liveNames(store: Store): string {
  const names = listContainers(store)
    .filter((c) => c.liveness === 'running')
    .map((c) => c.state.name)
  return names.length > 0 ? names.join(', ') : 'none'
}
