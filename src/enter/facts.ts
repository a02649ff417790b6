import {statSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import {readNsLinks} from '../ns/links.js'
import type {EnterOptions} from './options.js'
import type {EnterFacts} from '../plan/enter.js'
import type {Target} from './target.js'

/** Reads what buildEnterPlan needs from /proc (and /sys for --join-cgroup). */
export async function gatherEnterFacts(o: EnterOptions, target: Target | undefined): Promise<EnterFacts> {
  const self = readNsLinks('/proc/self') ?? {}
  if (!target) return {self}
  const facts: EnterFacts = {self, target: {pid: target.pid, startTime: target.startTime, thread: target.thread}}
  const t = facts.target!
  t.ns = readNsLinks(`/proc/${target.pid}`)
  if (o.setuid === 'follow' || o.setgid === 'follow') {
    try {
      const st = statSync(`/proc/${target.pid}`)
      t.uid = st.uid
      t.gid = st.gid
    } catch {
      throw new NsxError(`no such process: ${target.pid}`, 125)
    }
  }
  if (o.joinCgroup) facts.cgroupProcs = await targetCgroupProcs(target.pid)
  return facts
}

/**
 * cgroup.procs of each of the target's cgroups: the v2 tree, and on v1 or hybrid hosts
 * every v1 hierarchy too (nsenter only supports v2; joining all hierarchies is what
 * "the target's cgroup" means on a hybrid host).
 */
export async function targetCgroupProcs(pid: number): Promise<string[]> {
  const {readCgroupLayout} = await import('../cgroup/hierarchy.js')
  const {readProcCgroup, locateMemberships} = await import('../cgroup/membership.js')
  const members = readProcCgroup(pid)
  if (!members) throw new NsxError(`cannot read /proc/${pid}/cgroup`, 125)
  const located = locateMemberships(members, readCgroupLayout())
  const paths = located.filter((m) => m.directory !== undefined).map((m) => `${m.directory}/cgroup.procs`)
  if (paths.length === 0) throw new NsxError(`--join-cgroup: none of process ${pid}'s cgroups is mounted here`, 125)
  return paths
}
