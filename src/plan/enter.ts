import {NsxError} from '../cli/errors.js'
import type {NsLinks} from '../ns/links.js'
import type {NsType} from '../ns/types.js'
import type {Op, Plan} from './ops.js'

/** What `nsx enter` was asked to do, after parsing and before looking at the target. */
export interface EnterOptions {
  /** -t/--target, or a leading PID argument. */
  target?: string
  all: boolean
  /** Namespaces named on the command line, each with its file when one was given (-m=FILE). */
  namespaces: Map<NsType, string | undefined>
  setuid?: number | 'follow'
  setgid?: number | 'follow'
  preserveCredentials: boolean
  keepCaps: boolean
  /** -r: the target's root, or DIR. */
  root?: {path?: string}
  /** -w: the target's working directory, or DIR (opened before entering). */
  wd?: {path?: string}
  /** -W: a working directory resolved inside the entered namespaces. */
  wdns?: string
  env: boolean
  noFork: boolean
  joinCgroup: boolean
  userParent: boolean
  /** -N/--net-socket: the network namespace of the target's socket with this fd. */
  netSocket?: number
  mountProc: boolean
  /** With a container NAME: nsenter's full privileges instead of the container's restrictions. */
  privileged: boolean
  dryRun: boolean
  json: boolean
  help: boolean
  version: boolean
  command: string[]
}

/**
 * nsenter's namespace order. The user namespace comes first or last: every other
 * namespace is tried before it (a privileged caller keeps its power over namespaces
 * the target's user namespace does not own), and whatever was refused is entered
 * after it (an unprivileged caller gains the power it needs by entering it first).
 */
export const ENTER_ORDER: readonly NsType[] = ['user', 'cgroup', 'ipc', 'uts', 'net', 'pid', 'mnt', 'time']

/** What the builder needs to know about the machine and the target; gathered by src/enter/facts.ts. */
export interface EnterFacts {
  target?: {
    pid: number
    startTime: number
    /** The target is a thread (pid is its tid), entered through a thread pidfd. */
    thread?: boolean
    /** Owner of /proc/PID, for -S follow / -G follow (what nsenter uses). */
    uid?: number
    gid?: number
    ns?: NsLinks
  }
  /** Our own namespaces (those of the Node process, the same as the executor's). */
  self: NsLinks
  /** cgroup.procs files of the target's cgroups, for --join-cgroup. */
  cgroupProcs?: string[]
}

const fail = (msg: string): never => {
  throw new NsxError(msg, 125)
}

/** The namespaces to enter, each with its file or undefined for the target's. */
/** -a, or no namespace named: all of them (nsenter would refuse; entering everything is what people mean). */
export function entersAll(o: EnterOptions): boolean {
  return o.all || (o.namespaces.size === 0 && !o.userParent && o.netSocket === undefined)
}

export function chooseNamespaces(o: EnterOptions, facts: EnterFacts): Map<NsType, string | undefined> {
  const chosen = new Map(o.namespaces)
  if (entersAll(o)) {
    if (!facts.target) fail('no target process specified (-t PID, or nsx enter PID)')
    for (const t of ENTER_ORDER) {
      if (chosen.has(t)) continue
      if (facts.self[t] === undefined) continue // this kernel lacks the type
      // setns(2) refuses to re-enter one's own user namespace.
      if (t === 'user') {
        const theirs = facts.target?.ns?.user
        if (theirs === undefined) fail(`cannot read the user namespace of process ${facts.target?.pid}: permission denied`)
        if (theirs === facts.self.user) continue
      }
      chosen.set(t, undefined)
    }
  }
  if (o.userParent && !chosen.has('user')) chosen.set('user', undefined)
  if (o.netSocket !== undefined) {
    if (chosen.get('net') !== undefined) fail('--net-socket and --net=FILE both name the network namespace')
    chosen.set('net', undefined)
  }
  return chosen
}

export function buildEnterPlan(o: EnterOptions, facts: EnterFacts): Plan {
  const ops: Op[] = []
  const t = facts.target
  const chosen = chooseNamespaces(o, facts)
  if (chosen.size === 0) fail('no namespace specified')
  const needsTarget = [...chosen.values()].some((f) => f === undefined) || o.userParent || o.netSocket !== undefined
  const need = (what: string) => {
    if (!t) fail(`${what} needs a target process (-t PID)`)
  }
  if (needsTarget) need('entering a namespace without a file')
  if (o.root && o.root.path === undefined) need('--root without a directory')
  if (o.wd && o.wd.path === undefined) need('--wd without a directory')
  if (o.env) need('--env')
  if (o.setuid === 'follow' || o.setgid === 'follow') need('follow')
  if (o.joinCgroup) need('--join-cgroup')
  if (o.mountProc) {
    if (!chosen.has('pid')) fail('--mount-proc needs the target\'s pid namespace (-p, or -a)')
    if (o.noFork) fail('--mount-proc needs the fork into the pid namespace: drop --no-fork')
  }
  const entersUser = chosen.has('user')
  const all = entersAll(o)

  // 1. Pin the target, then open by path everything that lives under /proc/PID or
  //    outside the namespaces, before any namespace changes what paths mean.
  if (t) ops.push(t.thread ? {op: 'pin-thread', tid: t.pid, startTime: t.startTime} : {op: 'pin', pid: t.pid, startTime: t.startTime})
  for (const ns of ENTER_ORDER) {
    const file = chosen.get(ns)
    if (file !== undefined) ops.push({op: 'nsfd', ns, path: file})
  }
  if (o.netSocket !== undefined) ops.push({op: 'net-socket', fd: o.netSocket})
  if (o.userParent) ops.push({op: 'user-parent'})
  const proc = t ? `/proc/${t.pid}` : ''
  if (o.root) ops.push({op: 'open-root', path: o.root.path ?? `${proc}/root`})
  if (o.wd) ops.push({op: 'open-wd', path: o.wd.path ?? `${proc}/cwd`})
  if (o.env) ops.push({op: 'env-from', path: `${proc}/environ`})
  for (const path of o.joinCgroup ? facts.cgroupProcs ?? [] : []) ops.push({op: 'cgroup-open', path})
  if (t) ops.push({op: 'pin-check'})

  // 2. Credentials the user namespace will not need, then the two passes.
  const forceIds = entersUser && !o.preserveCredentials
  if (forceIds) ops.push({op: 'setgroups-try'})
  for (const ns of ENTER_ORDER) if (ns !== 'user' && chosen.has(ns)) ops.push({op: 'setns-try', ns})
  for (const ns of ENTER_ORDER) {
    if (!chosen.has(ns)) continue
    // With -a, a namespace the target shares with us may be refused (an unprivileged
    // user's rootless container keeps the host's cgroup namespace): we are in it already,
    // so the refusal changes nothing. nsenter fails there; nsx goes on.
    const fromTarget = chosen.get(ns) === undefined && !(ns === 'net' && o.netSocket !== undefined)
    const shared = all && fromTarget && ns !== 'user' && t?.ns?.[ns] !== undefined && t.ns[ns] === facts.self[ns]
    ops.push({op: shared ? 'setns-try' : 'setns', ns})
  }
  ops.push({op: 'release-target'})
  // chroot moves the cwd to the new root; nsenter comes back to the directory it is in
  // now, after the setns calls (which put it at the root of an entered mount namespace).
  if (o.root && !o.wd && o.wdns === undefined) ops.push({op: 'open-wd', path: '.'})

  // 3. Root, working directory, cgroup, as nsenter orders them.
  if (o.root) ops.push({op: 'chroot'})
  if (o.wdns !== undefined) ops.push({op: 'chdir', path: o.wdns})
  else if (o.wd || o.root) ops.push({op: 'chdir-fd'})
  if (o.joinCgroup) ops.push({op: 'cgroup-join'})

  // 4. A pid namespace is joined by children only: fork unless told not to.
  if (chosen.has('pid') && !o.noFork) ops.push({op: 'fork'})
  if (o.mountProc) {
    // A mount namespace of our own, so the target's /proc stays as it is.
    ops.push({op: 'unshare', ns: ['mnt']}, {op: 'propagation', mode: 'private', path: '/'}, {op: 'mount-proc', path: '/proc'})
  }

  // 5. Credentials: in a new user namespace ids become 0 unless preserved.
  const uid = o.setuid === 'follow' ? t?.uid : o.setuid
  const gid = o.setgid === 'follow' ? t?.gid : o.setgid
  if ((o.setuid === 'follow' && uid === undefined) || (o.setgid === 'follow' && gid === undefined)) {
    fail(`cannot read the owner of /proc/${t?.pid} for follow`)
  }
  const setGid = forceIds || o.setgid !== undefined
  const setUid = forceIds || o.setuid !== undefined
  if (setGid) ops.push({op: 'setgroups'}, {op: 'setgid', gid: gid ?? 0})
  if (setUid) ops.push({op: 'setuid', uid: uid ?? 0})
  if (o.keepCaps && entersUser) ops.push({op: 'keep-caps'})

  ops.push(o.command.length > 0 ? {op: 'exec', argv: o.command} : {op: 'exec-shell'})
  return {command: 'nsx enter', ops}
}
