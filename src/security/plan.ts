import type {Op} from '../plan/ops.js'
import {deviceProgram} from './devices.js'
import type {SecuritySpec} from './spec.js'

/**
 * The security ops of a container's plan, by where they go in nsx run's order
 * (src/container/plan.ts): in the init before its namespaces (the seccomp program made,
 * the device program attached to the v2 cgroup), in the init after pivot_root (mounts,
 * device nodes, read-only root, OOM score), in the command before it drops privileges
 * (rlimits), and the very last before exec (the seccomp filter, after no_new_privs).
 */
export interface SecurityOps {
  /** In the supervisor before it forks the init: the device program when the init gets a user namespace (no CAP_BPF there). */
  supervisor: Op[]
  init: Op[]
  afterPivot: Op[]
  beforeDrop: Op[]
  last: Op[]
}

export function securityOps(s: SecuritySpec, where: {v2Cgroup?: string; seccompCache?: string; userns?: boolean; workdir?: string}): SecurityOps {
  const supervisor: Op[] = []
  const init: Op[] = []
  if (s.seccomp) init.push({op: 'seccomp', filter: s.seccomp, cache: where.seccompCache ?? '-'})
  // In the init a failure is cleaned up by the supervisor; in a user namespace only the supervisor may load it.
  if (where.v2Cgroup && s.deviceRules.length > 0) (where.userns ? supervisor : init).push({op: 'devices-bpf', cgroup: where.v2Cgroup, rules: s.deviceRules, program: deviceProgram(s.deviceRules)})
  const afterPivot: Op[] = []
  if (s.shmSize !== undefined) afterPivot.push({op: 'shm-size', bytes: s.shmSize})
  for (const t of s.tmpfs) afterPivot.push({op: 'tmpfs', path: t.path, flags: t.flags, data: t.data})
  for (const d of s.devices) afterPivot.push({op: 'device', path: d.path, type: d.type, major: d.major, minor: d.minor, mode: d.mode, uid: d.uid, gid: d.gid})
  if (s.oomScoreAdj !== undefined) afterPivot.push({op: 'oom-score-adj', value: s.oomScoreAdj})
  // The command's working directory is created when missing: before the root turns read-only.
  if (s.readOnly && where.workdir && where.workdir !== '/') afterPivot.push({op: 'mkdir-p', path: where.workdir})
  if (s.readOnly) afterPivot.push({op: 'rootfs-readonly'})
  const beforeDrop: Op[] = s.ulimits.map((u) => ({op: 'rlimit', name: u.name, soft: u.soft, hard: u.hard}))
  const last: Op[] = s.seccomp ? [{op: 'seccomp-load'}] : []
  return {supervisor, init, afterPivot, beforeDrop, last}
}
