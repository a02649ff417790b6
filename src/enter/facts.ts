import {statSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import {readNsLinks} from '../ns/links.js'
import type {EnterOptions} from '../plan/enter.js'
import type {EnterFacts} from '../plan/enter.js'
import type {Target} from '../proc/target.js'

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
  if (o.joinCgroup) facts.cgroupProcs = await (await import('../cgroup/membership.js')).targetCgroupProcs(target.pid)
  return facts
}
