import {readFileSync} from 'node:fs'
import type {NsType} from '../ns/types.js'
import {encodePlan} from '../plan/encode.js'
import {buildExecPlan} from '../plan/exec.js'
import type {Op} from '../plan/ops.js'
import {validatePlan} from '../plan/validate.js'
import {seccompOps} from './exec.js'
import {healthProbe, HealthProbe} from './health.js'
import {type ContainerConfig, processConfigOf} from './state.js'

/**
 * The healthcheck's probe as the supervisor runs it: nsx exec's plan for the container (its
 * namespaces, cgroups, user, capabilities, no_new_privs, seccomp filter, environment and working
 * directory, as docker runs a probe: an exec with the container's Config.User and WorkingDir),
 * made at each start, before the init exists. Its leading `pin` names no process yet: the
 * supervisor fills in the init's pid and start time at each probe (native/ctr-health.c). The
 * command's processes die with the executor (die-with-parent), so a probe killed at its timeout
 * leaves nothing running in the container.
 */
export interface HealthPlan {
  probe: HealthProbe
  /** The executor's argv (encodePlan), written NUL-separated where the ctr-health op says. */
  argv: string[]
}

export async function planHealthProbe(config: ContainerConfig, dir: string, storeRoot: string, cgroupDirs: string[]): Promise<HealthPlan | undefined> {
  const probe = healthProbe(config.healthcheck)
  if (!probe) return undefined
  const s = config.spec
  const pc = processConfigOf(config)
  // The init's namespaces that are not the supervisor's (the host's): all but those --network, --pid, --uts, --ipc, --cgroupns share with the host.
  const shared = s.namespaces ?? {}
  const host = (ns: NsType) => (ns === 'net' ? s.network === 'host' : (shared as Record<string, string | undefined>)[ns === 'cgroup' ? 'cgroupns' : ns] === 'host')
  const namespaces = ([...(s.userns ? ['user'] : []), 'ipc', 'uts', 'net', 'pid', 'mnt', 'cgroup'] as NsType[]).filter((ns) => !host(ns))
  let env: string[] = []
  try {
    env = readFileSync(`${dir}/env`, 'utf8').split('\0').filter((e) => e !== '')
  } catch {
    // a dry run: no directory yet
  }
  const plan = buildExecPlan(
    {init: {pid: 1, startTime: 0}, namespaces, cgroupProcs: cgroupDirs.map((d) => `${d}/cgroup.procs`), openFiles: process.geteuid?.() === 0},
    {uid: pc.uid, gid: pc.gid, groups: pc.userns && process.geteuid?.() !== 0 ? undefined : pc.groups, caps: pc.caps, noNewPrivs: pc.noNewPrivs, env, workdir: pc.workdir, seccomp: await seccompOps(pc, storeRoot)},
    {argv: probe.argv, interactive: false, detach: false},
    'nsx healthcheck',
  )
  // The waiting executor dies with the supervisor, the command with the executor (set again after setuid, which clears it).
  const ops: Op[] = []
  for (const op of plan.ops) {
    if (op.op === 'fork') ops.push({op: 'die-with-parent'})
    ops.push(op)
    if (op.op === 'setuid') ops.push({op: 'die-with-parent'})
  }
  const withDeath = {...plan, ops}
  validatePlan(withDeath)
  return {probe, argv: encodePlan(withDeath)}
}
