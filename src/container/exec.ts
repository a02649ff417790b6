import {closeSync, constants, fstatSync, openSync, readFileSync} from 'node:fs'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import type {NsType} from '../ns/types.js'
import {buildExecPlan, ExecRestrictions} from '../plan/exec.js'
import type {Op, Plan} from '../plan/ops.js'
import type {Store} from '../store/store.js'
import {readEnvFile} from './env-flags.js'
import {resolveUser} from './spec.js'
import {Container, ProcessConfig, processConfigOf, resolveContainer} from './state.js'

/**
 * `nsx exec` (and `nsx enter NAME`): a new process in a running container with the
 * restrictions of the container's first process, from the configuration run saved:
 * namespaces, cgroups, bounding/effective/permitted capabilities, no_new_privs,
 * seccomp, user, environment and working directory. One function, taking options and
 * returning the plan, for every front door (the CLI, later the Engine API).
 *
 * Errors carry docker's exit codes: 1 for the container's state (no such container, not
 * running, paused), 125 for a bad request; the command itself gets 126 when it cannot start (docker exec's code, not found too).
 */
export interface ExecOptions {
  /** A container name, or a unique prefix of its id. */
  container: string
  /** The command; empty: /bin/sh (nsx enter NAME without one). */
  command: string[]
  interactive: boolean
  tty: boolean
  detach: boolean
  /** -u USER[:GROUP] (names from the container's /etc/passwd and /etc/group). */
  user?: string
  /** -e NAME=VALUE, or NAME taken from nsx's environment. */
  env: string[]
  envFiles: string[]
  workdir?: string
  /** Every capability, as docker exec --privileged. */
  privileged: boolean
  /** Whether stdin is a terminal (-i -t needs one). */
  stdinIsTerminal: boolean
  /** The label errors carry and the executor prints ("nsx exec", "nsx enter"). */
  label?: string
  /** With tty: the descriptor the window size comes from (the Engine API's exec resize), instead of the caller's terminal. */
  sizeFd?: number
}

export interface ExecPrepared {
  plan: Plan
  container: {name: string; id: string; pid: number}
}

const stateError = (msg: string, kind: ErrorKind = 'conflict'): never => {
  throw new NsxError(msg, 1, kind)
}
const usage = (msg: string): never => {
  throw new NsxError(msg, 125, 'invalid')
}

/** A container by name or unique id prefix, as docker resolves them; undefined when none matches (an ambiguous prefix throws). */
export function findByNameOrId(store: Store, spec: string): Container | undefined {
  try {
    return resolveContainer(store, spec)
  } catch (err) {
    if (err instanceof NsxError && err.kind === 'not-found') return undefined
    throw err
  }
}

/** The running container `spec` names, or docker's error for its state. */
export async function requireExecutable(store: Store, spec: string): Promise<Container> {
  const c = findByNameOrId(store, spec)
  if (!c) return stateError(`No such container: ${spec}`, 'not-found')
  if (c.status === 'starting') return stateError(`container ${c.config.name} is still starting`)
  if (c.status !== 'running' || !c.pids) return stateError(`container ${c.config.name} is not running`)
  const {hostFreezerOf, isFrozenOrFreezing, readFreezerState} = await import('./freezer.js')
  const f = await hostFreezerOf(c.run?.cgroups ?? [])
  if (f && isFrozenOrFreezing(readFreezerState(f))) return stateError(`container ${c.config.name} is paused, unpause the container before exec`)
  return c
}

/**
 * A file of the container's root read through /proc/PID/root, refusing symlinks and
 * anything but a regular file: the container owns that tree, and a link could point
 * outside it (resolved in our root, not its).
 */
function readContainerFile(pid: number, path: string): string | undefined {
  let fd: number
  try {
    fd = openSync(`/proc/${pid}/root/${path}`, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch {
    return undefined
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}

/** cgroup.procs of the init's cgroups that are not ours. */
async function differingCgroupProcs(pid: number): Promise<string[]> {
  const {targetCgroupProcs} = await import('../cgroup/membership.js')
  const theirs = await targetCgroupProcs(pid)
  const ours = new Set(await targetCgroupProcs(process.pid))
  return theirs.filter((p) => !ours.has(p))
}

/** The container's seccomp filter as exec's ops: made (or read from the store's cache) on the host, loaded last before exec. */
export async function seccompOps(config: ProcessConfig, storeRoot: string): Promise<Op[]> {
  if (!config.seccomp) return []
  const {seccompCachePath} = await import('../security/seccomp.js')
  return [{op: 'seccomp', filter: config.seccomp, cache: seccompCachePath(storeRoot, config.seccomp)}, {op: 'seccomp-load'}]
}

/**
 * The environment of the new process: the container's, then --env-file, then -e; TERM with -t. A
 * bare NAME unsets it (moby's exec: the container's environment with the exec's over it); the
 * CLI gave it the caller's value first when it has one (resolveCallerEnv).
 */
export function execEnv(containerEnv: readonly string[], o: Pick<ExecOptions, 'env' | 'envFiles' | 'tty'>, hostEnv: NodeJS.ProcessEnv = process.env): string[] {
  const vars = new Map<string, string>()
  const put = (entry: string) => {
    const eq = entry.indexOf('=')
    if (eq <= 0) usage(`invalid environment variable '${entry}': expected NAME=VALUE`)
    if (entry.includes('\0')) usage('invalid environment variable: it holds a NUL byte')
    vars.set(entry.slice(0, eq), entry.slice(eq + 1))
  }
  const unset = (name: string) => {
    if (name === '' || name.includes('\0')) usage(`invalid environment variable '${name}': expected NAME=VALUE`)
    vars.delete(name)
  }
  for (const e of containerEnv) if (e.indexOf('=') > 0) put(e)
  for (const e of [...o.envFiles.flatMap((f) => readEnvFile(f, hostEnv)), ...o.env]) {
    if (e.includes('=')) put(e)
    else unset(e)
  }
  if (o.tty && !vars.has('TERM')) vars.set('TERM', 'xterm')
  return [...vars].map(([k, v]) => `${k}=${v}`)
}

export async function prepareExec(store: Store, o: ExecOptions): Promise<ExecPrepared> {
  if (o.interactive && o.tty && !o.stdinIsTerminal) stateError('the input device is not a TTY', 'invalid')
  if (o.detach && (o.interactive || o.tty)) usage('-d cannot go with -i or -t: a detached process has no terminal or input')
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) usage(`the working directory '${o.workdir}' is invalid, it needs to be an absolute path`)
  const c = await requireExecutable(store, o.container)
  const config = processConfigOf(c.config)
  const init = c.pids!.init

  const {readNsLinks} = await import('../ns/links.js')
  const self = readNsLinks('/proc/self') ?? {}
  const theirs = readNsLinks(`/proc/${init.pid}`)
  if (!theirs) stateError(`container ${c.config.name} is not running`)
  const namespaces = (['user', 'ipc', 'uts', 'net', 'pid', 'mnt', 'cgroup'] as NsType[]).filter((t) => theirs![t] !== undefined && theirs![t] !== self[t])
  // A cgroup we are in already is not joined again: every v1 join costs the kernel an RCU grace period.
  const cgroupProcs = process.geteuid?.() === 0 ? await differingCgroupProcs(init.pid) : []

  let containerEnv: string[] = []
  try {
    containerEnv = readFileSync(`${c.dir}/env`, 'utf8').split('\0').filter((e) => e !== '')
  } catch {
    // no saved environment: only what -e gives
  }
  const user = o.user !== undefined && o.user !== '' ? resolveUser(o.user, readContainerFile(init.pid, 'etc/passwd'), readContainerFile(init.pid, 'etc/group')) : config!
  let caps = config!.caps
  if (o.privileged) {
    const {readLastCap} = await import('../proc/capabilities.js')
    caps = Array.from({length: readLastCap() + 1}, (_, i) => i)
  }
  const restrictions: ExecRestrictions = {
    uid: user.uid,
    gid: user.gid,
    groups: config!.userns && process.geteuid?.() !== 0 ? undefined : user.groups,
    caps,
    noNewPrivs: config!.noNewPrivs,
    env: execEnv(containerEnv, o),
    workdir: o.workdir ?? config!.workdir,
    seccomp: o.privileged ? [] : await seccompOps(config!, store.root),
  }
  const argv = o.command.length > 0 ? o.command : ['/bin/sh']
  const plan = buildExecPlan({init, namespaces, cgroupProcs, openFiles: process.geteuid?.() === 0}, restrictions, {argv, interactive: o.interactive, tty: o.tty, detach: o.detach, sizeFd: o.sizeFd}, o.label ?? 'nsx exec')
  return {plan, container: {name: c.config.name, id: c.config.id, pid: init.pid}}
}
