import type {NsType} from '../ns/types.js'
import type {Op, Plan} from '../plan/ops.js'

/**
 * nsx debug's plan: the host's tools (or a toolbox image's) in a target's pid, net, ipc,
 * uts and cgroup namespaces, never its mount namespace, so none of the target's binaries
 * runs (kubectl debug's ephemeral containers and docker debug are the models).
 *
 *   host:    pin the target, enter the namespaces it does not share with us, fork (pid);
 *   child:   die with nsx, a mount namespace of our own (private), the debug root
 *            (native/ops-debug.c: tools, /dev, /proc of the target's pid namespace, /sys,
 *            /tmp, the target's root at /target) and pivot_root, release the target;
 *   session: a pid namespace nested in the target's, whose first process is the shell:
 *            when it ends or nsx is killed, the kernel kills every process of the session.
 */
export interface DebugFacts {
  target: {pid: number; startTime: number}
  /** The target's namespaces among cgroup, ipc, uts, net and pid that differ from ours. */
  namespaces: NsType[]
}

export interface DebugRequest {
  /** Layers of a toolbox image, lowest first; empty: the host's tools. */
  lowerDirs: string[]
  /** /target writable (--rw). */
  writable: boolean
  /** The command; empty: $SHELL (or /bin/sh) as a login shell, or the image's /bin/sh. */
  argv: string[]
}

export const DEBUG_NS_ORDER: readonly NsType[] = ['cgroup', 'ipc', 'uts', 'net', 'pid']

export function buildDebugPlan(facts: DebugFacts, req: DebugRequest): Plan {
  const ops: Op[] = [{op: 'pin', pid: facts.target.pid, startTime: facts.target.startTime}, {op: 'pin-check'}]
  for (const ns of DEBUG_NS_ORDER) if (facts.namespaces.includes(ns)) ops.push({op: 'setns', ns})
  ops.push({op: 'fork'}, {op: 'die-with-parent'})
  ops.push({op: 'unshare', ns: ['mnt']}, {op: 'propagation', mode: 'private', path: '/'})
  ops.push({op: 'debug-root', writable: req.writable, lowerDirs: req.lowerDirs})
  ops.push({op: 'release-target'}, {op: 'debug-session'})
  if (req.argv.length > 0) ops.push({op: 'exec', argv: req.argv})
  else if (req.lowerDirs.length > 0) ops.push({op: 'exec', argv: ['/bin/sh']})
  else ops.push({op: 'exec-shell'})
  return {command: 'nsx debug', ops}
}
