import {parseContainerCgroupLeaf} from '../cgroup/units.js'
import type {WorkloadKind} from './types.js'

/**
 * What a cgroup path says ran a process: the runtimes' own cgroup layouts, matched on the
 * path's segments (deepest first), never on a process name. Pure: unit-tested over paths.
 */
export interface Recognised {
  kind: Exclude<WorkloadKind, 'host' | 'namespaces'>
  id: string
  name: string | null
  pod?: string
  /** The path it was recognised in. */
  cgroup: string
}

const HEX_ID = /^[0-9a-f]{12,64}$/
const POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/

/** A container id in one segment: `PREFIX-<id>.scope` (systemd driver) or `<id>` (cgroupfs). */
function scopeId(segment: string, prefix: string): string | undefined {
  if (!segment.startsWith(`${prefix}-`)) return undefined
  const id = segment.slice(prefix.length + 1).replace(/\.scope$/, '')
  return HEX_ID.test(id) ? id : undefined
}

/** One cgroup path (as /proc/PID/cgroup gives it). */
export function recogniseCgroupPath(path: string): Recognised | undefined {
  const segs = path.split('/').filter(Boolean)
  if (segs.length === 0) return undefined
  // Kubernetes first: its containers run under docker, containerd or CRI-O names too.
  const kube = segs.findIndex((s) => s === 'kubepods' || s.startsWith('kubepods-') || s.startsWith('kubepods.'))
  if (kube >= 0) {
    const podSeg = segs.slice(kube).find((s) => POD_UID.test(s))
    const pod = podSeg ? POD_UID.exec(podSeg)![1].replace(/_/g, '-') : undefined
    const last = segs[segs.length - 1]
    const id = scopeId(last, 'cri-containerd') ?? scopeId(last, 'crio') ?? scopeId(last, 'docker') ?? (HEX_ID.test(last) ? last : undefined)
    if (pod && id) return {kind: 'kubernetes', id, name: null, pod, cgroup: path}
    return undefined // a pod's or a QoS class's own cgroup: no container's
  }
  for (let i = segs.length - 1; i >= 0; i--) {
    const s = segs[i]
    const parent = segs[i - 1]
    let id: string | undefined
    if ((id = scopeId(s, 'docker') ?? (parent === 'docker' && HEX_ID.test(s) ? s : undefined))) return {kind: 'docker', id, name: null, cgroup: path}
    if (s.startsWith('libpod-conmon-') || s.startsWith('crio-conmon-')) return undefined // the runtime's monitor, not the container
    if ((id = scopeId(s, 'libpod'))) return {kind: 'podman', id, name: null, cgroup: path}
    if ((id = scopeId(s, 'crio') ?? (parent === 'crio' && HEX_ID.test(s) ? s : undefined))) return {kind: 'crio', id, name: null, cgroup: path}
    if ((id = scopeId(s, 'cri-containerd') ?? scopeId(s, 'nerdctl'))) return {kind: 'containerd', id, name: null, cgroup: path}
    const nsx = parseContainerCgroupLeaf(s)
    if (nsx) return {kind: 'nsx', id: nsx.idPrefix, name: nsx.name, cgroup: path}
  }
  const unit = [...segs].reverse().find((s) => s.endsWith('.service'))
  if (unit) return {kind: 'systemd', id: unit, name: unit, cgroup: path}
  return undefined
}

/** The paths of every hierarchy of a process: the first container found wins over a systemd unit. */
export function recogniseCgroups(paths: readonly string[]): Recognised | undefined {
  let unit: Recognised | undefined
  for (const p of paths) {
    const r = recogniseCgroupPath(p)
    if (r === undefined) continue
    if (r.kind !== 'systemd') return r
    unit ??= r
  }
  return unit
}

/** The workload's key (AuditWorkload.key). */
export function recognisedKey(r: Recognised): string {
  if (r.kind === 'kubernetes') return `kubernetes:${r.pod}/${r.id}`
  if (r.kind === 'nsx') return `nsx:${r.name}-${r.id}`
  return `${r.kind}:${r.id}`
}
