import {closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import {readStat} from '../proc/process.js'
import {exists, removeTree, Store} from '../store/store.js'
import type {Limits} from './limits.js'
import type {RunSpec} from './spec.js'

/**
 * The container state model. nsx has no daemon: every verb reads and writes the store.
 *
 *   ROOT/run/<id>/              one directory per container (id: 64 hex digits), made in ROOT/tmp and
 *                               renamed in whole, so it exists complete or not at all
 *     config.json               what to run (ContainerConfig: the RunSpec, the lower layers, limits):
 *                               enough to rebuild the plan on every start; rewritten only by rename
 *     lock                      flock(LOCK_EX): verbs that change a container (start, stop, kill, rm,
 *                               rename, restart) hold it, so two of them on one container are serialised
 *     state.json                the last start (RunRecord), written by nsx before the executor runs
 *     pids                      "SUPERVISOR START INIT START", written by the supervisor after its fork
 *     exit                      "CODE FINISHED_MS restarts=N [oom]", written by the supervisor each time
 *                               the command ends
 *     stop-requested            written by stop, kill and rm before they signal: no --restart after it
 *     restart-policy            "POLICY MAX", written by nsx update --restart while it runs: read by the
 *                               supervisor before a restart, in place of the policy it started with
 *     container.log[.N]         stdout and stderr of detached starts, docker's json-file format, written
 *                               and rotated by the supervisor (native/ctr-log.c)
 *     supervisor.log            what the executor itself said (setup errors, cleanup warnings)
 *     health, health-probe      the healthcheck's record, written by the supervisor after each probe, and
 *                               the probe's plan, written at each start (src/container/health.ts)
 *     env, upper/, work/, rootfs/   the environment, the overlay's directories
 *   ROOT/names/<name> -> <id>   symlink: a name is taken atomically (symlink(2) fails with EEXIST);
 *                               one whose container directory is gone is free
 *   ROOT/containers/<id>.json   the layer pin (src/store/pins.ts), live while run/<id> exists
 *
 * Every file is written to a temporary name and renamed. The status is derived, never stored:
 * a process is named by pid and start time, so a reused pid never keeps a dead container
 * "running"; the supervisor's life is what "running" means. Whatever a SIGKILL leaves (nsx,
 * the supervisor or the init killed at any point), the container reads as exited: no start
 * record = created; a start record whose creator, supervisor and exit record are all gone =
 * exited (code 137 if the supervisor had started, 125 if nsx died while starting it).
 */

export interface ProcRef {
  pid: number
  startTime: number
}

export interface ContainerConfig {
  version: 2
  id: string
  name: string
  created: string
  /** The image as given (a stored name, id or path), or undefined for --layer only. */
  image?: string
  imageIds: string[]
  /** diff_ids of stored layers it uses (pinned). */
  layers: string[]
  /** Read-only layers, lowest first, as the overlay takes them. */
  lowerDirs: string[]
  spec: RunSpec
  limits: Limits
  cgroupParent?: string
  /** --rm: removed by its supervisor when it ends. */
  autoRemove: boolean
  /** --stop-timeout: a foreground start's grace between a SIGTERM to nsx and the SIGKILL. */
  stopTimeout?: number
  /** The named group it runs in (nsx run --group; src/group/groups.ts). */
  group?: string
  /** --restart, applied by the supervisor of a detached start. */
  restart?: RestartPolicy
  /** The json-file log of detached starts: rotated past maxSize bytes, maxFiles files kept. */
  log: LogConfig
  /** --label KEY=VALUE: docker's Config.Labels. */
  labels?: Record<string, string>
  /** docker's Config.Healthcheck: the image's HEALTHCHECK under --health-* (or the API's), merged (src/container/health.ts). */
  healthcheck?: import('../image/config.js').HealthConfig
  /** --isolation as given (docker's on Linux: default), shown as HostConfig.Isolation. */
  isolation?: string
  /** --volume-driver as given (local, or one no volume of this container needs), shown as HostConfig.VolumeDriver. */
  volumeDriver?: string
}

export interface RestartPolicy {
  policy: 'no' | 'on-failure' | 'always' | 'unless-stopped'
  /** on-failure:N: at most N restarts (0: no limit). */
  maxRetries: number
}

/** docker's --restart: no, on-failure[:N], always, unless-stopped. */
export function parseRestart(s: string): RestartPolicy {
  const m = /^(no|on-failure|always|unless-stopped)(?::(\d+))?$/.exec(s)
  if (!m || (m[2] !== undefined && m[1] !== 'on-failure')) throw NsxError.invalid(`invalid --restart '${s}': expected no, on-failure[:MAX-RETRIES], always or unless-stopped`, 125)
  return {policy: m[1] as RestartPolicy['policy'], maxRetries: m[2] ? Number(m[2]) : 0}
}

/** Between two runs of a --restart policy: the supervisor waits (back-off) with no init. */
export function isRestarting(c: Container): boolean {
  return c.status === 'running' && (c.config.restart?.policy ?? 'no') !== 'no' && c.exit !== undefined && c.pids !== undefined && !alive(c.pids.init)
}

/** Stop, kill and rm say so before they signal: the supervisor then restarts nothing. */
export function requestStop(dir: string): void {
  try {
    writeFileSync(join(dir, 'stop-requested'), '', {mode: 0o600})
  } catch {
    // removed meanwhile
  }
}

export interface LogConfig {
  maxSize: number
  maxFiles: number
  /** --log-driver: absent is json-file; local is kept in the json-file format (shown as local); none keeps no log. */
  driver?: 'local' | 'none'
}

/** docker's json-file options, with a cap by default (docker has none) so a chatty container cannot fill the disk. */
export const DEFAULT_LOG: LogConfig = {maxSize: 10 * 1024 * 1024, maxFiles: 3}

/** What the container's first process runs with, which nsx exec gives every process it adds (docker: Config + HostConfig). */
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
  seccomp?: import('../plan/security-ops.js').SeccompFilter
}

/** The first process's restrictions, from the saved spec. */
export function processConfigOf(config: ContainerConfig): ProcessConfig {
  const s = config.spec
  return {
    uid: s.uid,
    gid: s.gid,
    groups: s.groups,
    caps: s.caps,
    workdir: s.workdir,
    noNewPrivs: true,
    privileged: s.privileged,
    userns: s.userns !== undefined,
    ...(s.security?.seccomp ? {seccomp: s.security.seccomp} : {}),
  }
}

/** state.json: the last start. */
export interface RunRecord {
  startedAt: string
  /** The nsx process that started it (for a foreground start also the supervisor, after execve). */
  creator: ProcRef
  /** Cgroup directories made for this start (removed by the supervisor, or by a sweep). */
  cgroups: string[]
  /** Where nsx update may make a cgroup for a limit the container started without (CgroupSetup.spare). */
  spareCgroups?: string[]
  detached: boolean
}

export interface ExitRecord {
  code: number
  finishedAt: string
  /** The kernel's OOM killer killed in the container's memory cgroup. */
  oomKilled: boolean
  /** Restarts by the supervisor's --restart policy so far in this start. */
  restarts: number
}

export interface Pids {
  supervisor: ProcRef
  init: ProcRef
}

export type Status = 'created' | 'starting' | 'running' | 'exited'

export interface Container {
  dir: string
  config: ContainerConfig
  run?: RunRecord
  pids?: Pids
  exit?: ExitRecord
  status: Status
  /** Exited, but its init still lives (its supervisor was killed; PDEATHSIG is on its way). */
  orphanInit?: ProcRef
  /** For an exited container: docker's exit code (128+N for signal N). */
  exitCode?: number
  /** Why an exited container has no recorded exit, for inspect's State.Error. */
  error?: string
}

export const runDir = (store: Store) => join(store.root, 'run')
export const containerDir = (store: Store, id: string) => join(runDir(store), id)
export const namesDir = (store: Store) => join(store.root, 'names')
export const nameLink = (store: Store, name: string) => join(namesDir(store), name)
export const pinPath = (store: Store, id: string) => join(store.root, 'containers', `${id}.json`)
export const shortContainerId = (id: string) => id.slice(0, 12)

export function alive(p: ProcRef | undefined): boolean {
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

export function parseExit(text: string): ExitRecord | undefined {
  const m = /^(-?\d+) (\d+)((?: [a-z]+(?:=\d+)?)*)\n?$/.exec(text)
  if (!m) return undefined
  const words = m[3].trim().split(' ')
  const restarts = words.find((w) => w.startsWith('restarts='))
  return {code: Number(m[1]), finishedAt: new Date(Number(m[2])).toISOString(), oomKilled: words.includes('oom'), restarts: restarts ? Number(restarts.slice(9)) : 0}
}

/**
 * The status from what the files say and which processes live (pure but for `isAlive`).
 * The supervisor is the container's life: running while it lives; its exit record is read
 * only once it is gone.
 */
export function deriveStatus(
  files: {run?: RunRecord; pids?: Pids; exit?: ExitRecord},
  isAlive: (p: ProcRef) => boolean = alive,
): Pick<Container, 'status' | 'orphanInit' | 'exitCode' | 'error'> {
  if (!files.run) return {status: 'created'}
  if (files.pids) {
    if (isAlive(files.pids.supervisor)) return {status: 'running'}
    const orphanInit = isAlive(files.pids.init) ? files.pids.init : undefined
    if (files.exit) return {status: 'exited', exitCode: files.exit.code, orphanInit}
    return {status: 'exited', exitCode: 137, error: 'its supervisor was killed', orphanInit}
  }
  if (isAlive(files.run.creator)) return {status: 'starting'}
  if (files.exit) return {status: 'exited', exitCode: files.exit.code}
  return {status: 'exited', exitCode: 125, error: 'nsx was killed while starting it'}
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

function readJsonOptional<T>(path: string): T | undefined {
  const text = readOptional(path)
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as T
  } catch {
    return undefined
  }
}

export function readContainer(dir: string): Container | undefined {
  const config = readJsonOptional<ContainerConfig>(join(dir, 'config.json'))
  if (!config || config.version !== 2) return undefined
  const run = readJsonOptional<RunRecord>(join(dir, 'state.json'))
  const pidsText = readOptional(join(dir, 'pids'))
  const pids = pidsText === undefined ? undefined : parsePids(pidsText)
  const exitText = readOptional(join(dir, 'exit'))
  const exit = exitText === undefined ? undefined : parseExit(exitText)
  return {dir, config, run, pids, exit, ...deriveStatus({run, pids, exit})}
}

/** Every container of the store, oldest first. */
export function listContainers(store: Store): Container[] {
  let ids: string[]
  try {
    ids = readdirSync(runDir(store))
  } catch {
    return []
  }
  const out: Container[] = []
  for (const id of ids) {
    if (!/^[0-9a-f]{64}$/.test(id)) continue
    const c = readContainer(join(runDir(store), id))
    if (c) out.push(c)
  }
  return out.sort((a, b) => a.config.created.localeCompare(b.config.created) || a.config.id.localeCompare(b.config.id))
}

/** The id a name points to, when that container still exists. */
export function idOfName(store: Store, name: string): string | undefined {
  let id: string
  try {
    id = readlinkSync(nameLink(store, name))
  } catch {
    return undefined
  }
  return /^[0-9a-f]{64}$/.test(id) && exists(join(containerDir(store, id), 'config.json')) ? id : undefined
}

/**
 * docker's resolution: a full id, then a name, then a unique prefix of an id.
 * Errors (exit 1, as docker's daemon errors): no such container, an ambiguous prefix.
 */
export function resolveContainer(store: Store, ref: string): Container {
  const fail = (msg: string, kind: ErrorKind = 'not-found'): never => {
    throw new NsxError(msg, 1, kind)
  }
  if (ref === '' || ref.includes('/') || ref.startsWith('.')) fail(`No such container: ${ref}`)
  const exact = /^[0-9a-f]{64}$/.test(ref) ? ref : idOfName(store, ref)
  const c = exact === undefined ? undefined : readContainer(containerDir(store, exact))
  if (c) return c
  if (/^[0-9a-f]+$/.test(ref)) {
    let ids: string[] = []
    try {
      ids = readdirSync(runDir(store)).filter((id) => /^[0-9a-f]{64}$/.test(id) && id.startsWith(ref))
    } catch {
      // no containers
    }
    const found = ids.map((id) => readContainer(containerDir(store, id))).filter((c): c is Container => c !== undefined)
    if (found.length > 1) fail(`multiple containers match the id prefix '${ref}': ${found.map((c) => `${shortContainerId(c.config.id)} (${c.config.name})`).join(', ')}`, 'invalid')
    if (found.length === 1) return found[0]
  }
  return fail(`No such container: ${ref}`)
}

/** A held container lock; release() (or the process's exit) lets the next verb in. */
export interface ContainerLock {
  release(): void
}

/**
 * Take the container's lock (waiting for a verb in progress), then read it again: what
 * the verb before did (rm, rename, start) is what this one sees.
 */
export async function lockContainer(store: Store, c: Container): Promise<{lock: ContainerLock; container: Container}> {
  let fd: number
  try {
    fd = openSync(join(c.dir, 'lock'), 'a', 0o600)
  } catch {
    throw NsxError.notFound(`No such container: ${c.config.name}`, 1)
  }
  try {
    await flockExclusive(fd)
  } catch (err) {
    closeSync(fd)
    throw err
  }
  let open = true
  const lock = {
    release: () => {
      if (open) closeSync(fd)
      open = false
    },
  }
  const now = readContainer(c.dir)
  if (!now) {
    lock.release()
    throw NsxError.notFound(`No such container: ${c.config.name}`, 1)
  }
  return {lock, container: now}
}

/**
 * An exclusive flock on FD, waiting for a holder. Where koffi is loaded already (the Engine API's
 * service, a verb that bound libc for something else), a try through it (a call, no process).
 * Otherwise the executor takes it (`nsx-exec --flock`) on the open file description FD shares
 * with it: a flock belongs to the description, so it stays ours after the executor exits, and
 * the verbs on bin/nsx's fast path load no FFI for it: loading koffi costs more (11 ms at the
 * least here) than `child_process` and the spawn (7 ms; bench/README.md). A busy lock is waited
 * for by the executor, without blocking the event loop (the Engine API serves other requests).
 */
export async function flockExclusive(fd: number): Promise<void> {
  const fail = (how: string) => NsxError.internal(`cannot lock the container: ${how}`, 125)
  const libc = await import('../ffi/libc.js')
  const bound = libc.libcLoaded()
  try {
    if (bound && libc.flock(fd, libc.LOCK_EX | libc.LOCK_NB)) return
  } catch (err) {
    throw fail((err as Error).message)
  }
  const [{spawn, spawnSync}, {executorPath}] = await Promise.all([import('node:child_process'), import('../plan/executor.js')])
  const exe = executorPath()
  const stdio: ('ignore' | 'inherit' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe', fd]
  if (!bound) {
    const r = spawnSync(exe, ['--flock', '3', 'try'], {stdio})
    if (r.status === 0) return
    if (r.status !== 1) throw fail(r.error?.message ?? (r.stderr?.toString().trim() || `the executor exited with ${r.status ?? r.signal}`))
  }
  await new Promise<void>((resolve, reject) => {
    const c = spawn(exe, ['--flock', '3', 'wait'], {stdio})
    let err = ''
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    c.on('error', (e) => reject(fail(e.message)))
    c.on('close', (code, sig) => (code === 0 ? resolve() : reject(fail(err.trim() || `the executor exited with ${code ?? sig}`))))
  })
}

/** Resolve REF, lock it, run fn on the fresh container, release. */
export async function withContainer<T>(store: Store, ref: string, fn: (c: Container, lock: ContainerLock) => Promise<T> | T): Promise<T> {
  const {lock, container} = await lockContainer(store, resolveContainer(store, ref))
  try {
    return await fn(container, lock)
  } finally {
    lock.release()
  }
}

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', {mode: 0o600})
  renameSync(tmp, path)
}

/** A running container's start record with a cgroup nsx update added (its other files stay). */
export function recordCgroups(dir: string, run: RunRecord, cgroups: string[]): void {
  writeJsonAtomic(join(dir, 'state.json'), {...run, cgroups})
}

export function writeConfig(dir: string, config: ContainerConfig): void {
  writeJsonAtomic(join(dir, 'config.json'), config)
}

/** A new start: the previous start's pids and exit go first, so they can never be read as this one's. */
export function recordStart(dir: string, run: RunRecord): void {
  rmSync(join(dir, 'stop-requested'), {force: true})
  rmSync(join(dir, 'exit'), {force: true})
  rmSync(join(dir, 'pids'), {force: true})
  writeJsonAtomic(join(dir, 'state.json'), run)
}

/**
 * Take a name for id: a symlink, atomic. A link whose container is gone is replaced.
 * Throws docker's conflict (exit 125 for run/create, the caller's choice otherwise).
 */
export function claimName(store: Store, name: string, id: string, exitCode = 125): void {
  mkdirSync(namesDir(store), {recursive: true, mode: 0o700})
  for (let attempt = 0; ; attempt++) {
    try {
      symlinkSync(id, nameLink(store, name))
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = idOfName(store, name)
    if (holder === id) return
    if (holder === undefined && attempt === 0) {
      // Stale (its container was removed by a crash half-way): replace it atomically.
      const tmp = `${nameLink(store, name)}.tmp-${process.pid}`
      rmSync(tmp, {force: true})
      symlinkSync(id, tmp)
      renameSync(tmp, nameLink(store, name))
      if (readlinkSync(nameLink(store, name)) === id) return
      continue
    }
    throw NsxError.conflict(`the container name "${name}" is already in use by container ${holder ? shortContainerId(holder) : '?'}: remove or rename that container to reuse the name`, exitCode)
  }
}

/** Drop NAME's link if it still points to id. */
export function releaseName(store: Store, name: string, id: string): void {
  try {
    if (readlinkSync(nameLink(store, name)) === id) unlinkSync(nameLink(store, name))
  } catch {
    // gone already
  }
}

/**
 * Make the container's directory in tmp/ and rename it into run/<id>: whole or not at all.
 * The name is claimed after, so a name always points to a complete container.
 */
export function createContainerDir(store: Store, config: ContainerConfig, env: string, files: Record<string, string> = {}): string {
  mkdirSync(runDir(store), {recursive: true, mode: 0o700})
  const work = mkdtempSync(join(store.tmpDir, 'container-'))
  try {
    for (const d of ['upper', 'work', 'rootfs']) mkdirSync(join(work, d), {mode: 0o755})
    writeFileSync(join(work, 'env'), env, {mode: 0o600})
    writeFileSync(join(work, 'lock'), '', {mode: 0o600})
    // The container's /etc files are bound into it: readable there, as the image's would be.
    for (const [file, text] of Object.entries(files)) writeFileSync(join(work, file), text, {mode: 0o644})
    writeConfig(work, config)
    const dest = containerDir(store, config.id)
    renameSync(work, dest)
    try {
      claimName(store, config.name, config.id)
    } catch (err) {
      store.retire(dest)
      throw err
    }
    return dest
  } finally {
    if (exists(work)) removeTree(work)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

export function waitUntilSync(cond: () => boolean, ms: number): boolean {
  const end = Date.now() + ms
  const cell = new Int32Array(new SharedArrayBuffer(4))
  while (!cond()) {
    if (Date.now() > end) return false
    Atomics.wait(cell, 0, 0, 10)
  }
  return true
}

/** Signal a process only if it is still the one recorded (pid and start time). */
export function killIfSame(p: ProcRef, signal: NodeJS.Signals | number): boolean {
  if (!alive(p)) return false
  try {
    process.kill(p.pid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * The exit record a detached --rm container leaves beside its removed directory (the plan's
 * tombstone), or undefined. Read, never taken: any number of waiters may read it.
 */
export function readTombstone(dir: string): ExitRecord | undefined {
  const text = readOptional(`${dir}.exit`)
  return text === undefined ? undefined : parseExit(text)
}

/** For messages: the names of running containers, or "none". */
export function liveNames(store: Store): string {
  const names = listContainers(store)
    .filter((c) => c.status === 'running')
    .map((c) => c.config.name)
  return names.length > 0 ? names.join(', ') : 'none'
}
