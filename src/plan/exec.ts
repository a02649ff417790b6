import type {NsType} from '../ns/types.js'
import type {Op, Plan} from './ops.js'

/**
 * nsx exec's plan (and nsx enter NAME's): a new process in a running container with the
 * restrictions of the container's first process, as runc exec and crun exec give it.
 *
 *   host:   pin the container's init, open its cgroup.procs files, check the pin, enter its
 *           user namespace (if it has one: first, so the others are owned by where we are),
 *           then its ipc, uts, net, pid and mount namespaces;
 *   fork:   the pid namespace is joined by children only. The parent waits outside the
 *           container's cgroup (it would keep the cgroup busy at the container's end)
 *           and passes the status on; with -d it returns once the command is exec'd;
 *   child:  join the cgroups, then the cgroup namespace (its root is then the container's
 *           cgroup), stdin, environment, working directory, bounding set, groups, gid,
 *           uid, effective and permitted capabilities, no_new_privs, seccomp, exec.
 */
export interface ExecFacts {
  /** The container's init (PID 1 inside), pinned by pid and start time. */
  init: {pid: number; startTime: number}
  /** Namespaces of the init that differ from ours (the executor's): those are entered. */
  namespaces: NsType[]
  /** cgroup.procs files of every cgroup of the init, on each mounted hierarchy. */
  cgroupProcs: string[]
  /** Open the init's namespace files before entering its user namespace (root on the host). */
  openFiles?: boolean
}

export interface ExecRestrictions {
  uid: number
  gid: number
  /** Supplementary groups; undefined when they cannot be set (a rootless user namespace denies setgroups). */
  groups?: number[]
  /** Capability numbers of the bounding, effective and permitted sets. */
  caps: number[]
  noNewPrivs: boolean
  /** The full environment, NAME=VALUE. */
  env: string[]
  workdir: string
  /** The container's seccomp ops: 'seccomp' (made on the host, right after pin) and 'seccomp-load' (last before exec); none when unfiltered. */
  seccomp: Op[]
}

export interface ExecRequest {
  argv: string[]
  interactive: boolean
  /** -t: a pty of the container's devpts (the fork that follows the namespaces gives it). */
  tty?: boolean
  /** With tty: the window size comes from this descriptor (4-byte records), not the caller's terminal. */
  sizeFd?: number
  detach: boolean
}

/** The order namespaces are entered in after the user namespace (mount last: paths change with it). */
export const EXEC_NS_ORDER: readonly NsType[] = ['ipc', 'uts', 'net', 'pid', 'mnt']

export function buildExecPlan(facts: ExecFacts, r: ExecRestrictions, req: ExecRequest, command = 'nsx exec'): Plan {
  const ops: Op[] = []
  const has = (ns: NsType) => facts.namespaces.includes(ns)
  ops.push({op: 'pin', pid: facts.init.pid, startTime: facts.init.startTime})
  // The filter is made on the host (as root, where the store's cache is readable); loaded last.
  ops.push(...r.seccomp.filter((o) => o.op === 'seccomp'))
  for (const path of facts.cgroupProcs) ops.push({op: 'cgroup-open', path})
  // Root enters the others by files opened now, while still on the host's side: after the user
  // namespace, setns by pidfd needs ptrace access to the init, which it does not grant there.
  if (has('user') && facts.openFiles) for (const ns of [...EXEC_NS_ORDER, 'cgroup'] as NsType[]) if (has(ns)) ops.push({op: 'nsfd-pinned', ns})
  ops.push({op: 'pin-check'})
  if (has('user')) ops.push({op: 'setns', ns: 'user'})
  for (const ns of EXEC_NS_ORDER) if (has(ns)) ops.push({op: 'setns', ns})
  // -t: the pty is opened in the container's mount namespace (its devpts), before the fork.
  if (req.tty && !req.detach && req.sizeFd !== undefined) ops.push({op: 'exec-pty-size', fd: req.sizeFd})
  ops.push(req.detach ? {op: 'exec-detach'} : req.tty ? {op: 'exec-pty', stdin: req.interactive} : {op: 'fork'})
  if (facts.cgroupProcs.length > 0) ops.push({op: 'cgroup-join'})
  if (has('cgroup')) ops.push({op: 'setns', ns: 'cgroup'})
  ops.push({op: 'release-target'})
  if (!req.interactive && !req.detach && !req.tty) ops.push({op: 'ctr-stdin-null'})
  ops.push({op: 'env-clear'})
  for (const e of r.env) {
    const eq = e.indexOf('=')
    ops.push({op: 'setenv', name: e.slice(0, eq), value: e.slice(eq + 1)})
  }
  ops.push({op: 'exec-chdir', path: r.workdir})
  ops.push({op: 'cap-bound', caps: r.caps})
  if (r.groups !== undefined) ops.push({op: 'ctr-groups', gids: r.groups})
  ops.push({op: 'setgid', gid: r.gid}, {op: 'setuid', uid: r.uid})
  ops.push({op: 'cap-set', caps: r.caps})
  if (r.noNewPrivs) ops.push({op: 'no-new-privs'})
  ops.push(...r.seccomp.filter((o) => o.op !== 'seccomp'))
  ops.push({op: 'exec-run', argv: req.argv})
  return {command, ops}
}
