import type {HierarchyWatch} from './discover.js'
import type {CgroupLayout} from './hierarchy.js'
import {locateMemberships, readProcCgroup} from './membership.js'
import type {CgroupUnit} from './snapshot.js'
import {metricSources, usedHierarchies} from './sources.js'

/**
 * nsx's containers in the cgroup trees: the directory nsx run makes for a container in each
 * hierarchy, nsx-NAME-ID8, is how nsx top knows a container's cgroups (one row, named)
 * without reading the container store.
 */

/** The directory nsx makes for a container in each hierarchy. */
export function containerCgroupLeaf(name: string, id: string): string {
  return `nsx-${name}-${id.slice(0, 8)}`
}

/** A container's cgroup directory name taken apart (the name as it was at its start). */
export function parseContainerCgroupLeaf(leaf: string): {name: string; idPrefix: string} | undefined {
  const m = /^nsx-(.+)-([0-9a-f]{8})$/.exec(leaf)
  return m ? {name: m[1], idPrefix: m[2]} : undefined
}

/** CollectorOptions.unitOf for nsx's containers. */
export function containerUnit(leaf: string): CgroupUnit | undefined {
  const c = parseContainerCgroupLeaf(leaf)
  return c && {kind: 'container', name: c.name, id: c.idPrefix}
}

const GROUP_LEAF = 'nsx-group-'

/** The directory nsx group create makes for a group in each hierarchy. */
export function groupCgroupLeaf(name: string): string {
  return `${GROUP_LEAF}${name}`
}

/**
 * CollectorOptions.unitOf for nsx's containers and named groups: a group's cgroups (below
 * nsx's own cgroup, whose path may differ between hierarchies) are one row too, the branch
 * its containers hang from.
 */
export function nsxUnit(leaf: string): CgroupUnit | undefined {
  if (leaf.startsWith(GROUP_LEAF) && leaf.length > GROUP_LEAF.length) {
    const name = leaf.slice(GROUP_LEAF.length)
    return {kind: 'group', name, id: name}
  }
  return containerUnit(leaf)
}

/**
 * CollectorOptions.bases for one container: the subtree of its cgroup in each hierarchy that
 * has one, found from its init's /proc/PID/cgroup (read from here, the paths are from the
 * host's roots). Hierarchies where it has none hold it in nsx's own cgroup: not its subtree.
 */
export function containerBases(initPid: number, layout: CgroupLayout): Map<string, string> {
  const members = locateMemberships(readProcCgroup(initPid) ?? [], layout)
  const bases = new Map<string, string>()
  for (const h of usedHierarchies(metricSources(layout))) {
    const m = members.find((x) => (h.version === 2 ? x.version === 2 : x.version === 1 && x.controllers.join(',') === h.id))
    const dir = m?.directory
    if (dir === undefined || containerUnit(dir.slice(dir.lastIndexOf('/') + 1)) === undefined) continue
    bases.set(h.id, dir.slice(h.mountpoint.length) || '/')
  }
  return bases
}

/** The units among the cgroups (CollectorOptions.unitOf's), by directory name, each with the path its row takes. */
export type UnitPaths = Map<string, {unit: CgroupUnit; path: string}>

/**
 * The units among the cgroups (by directory name), each with the path its row takes:
 * its path in the first hierarchy that has it, the cgroup2 tree first.
 */
export function findUnits(watches: ReadonlyMap<string, HierarchyWatch>, unitOf: ((leaf: string) => CgroupUnit | undefined) | undefined): UnitPaths {
  const units: UnitPaths = new Map()
  if (unitOf === undefined) return units
  const order = [...watches.keys()].sort((a, b) => (a === 'v2' ? -1 : b === 'v2' ? 1 : 0))
  const tried = new Map<string, CgroupUnit | undefined>()
  for (const id of order) {
    for (const rel of watches.get(id)!.nodes.keys()) {
      const leaf = rel.slice(rel.lastIndexOf('/') + 1)
      if (leaf === '' || units.has(leaf)) continue
      let unit = tried.get(leaf)
      if (unit === undefined && !tried.has(leaf)) tried.set(leaf, (unit = unitOf(leaf)))
      if (unit !== undefined) units.set(leaf, {unit, path: rel})
    }
  }
  return units
}

/**
 * The row key of a path: the path itself, or, for a unit's cgroup and what is below it, the
 * (deepest) unit's path with the rest appended. `top`: the path is the unit's own cgroup.
 */
export function unitKey(rel: string, units: UnitPaths): {key: string; unit: CgroupUnit; top: boolean} | undefined {
  // The deepest unit on the path: a container inside a group is keyed by the container.
  let found: {key: string; unit: CgroupUnit; top: boolean} | undefined
  let start = 1
  while (start < rel.length) {
    let end = rel.indexOf('/', start)
    if (end < 0) end = rel.length
    const u = units.get(rel.slice(start, end))
    if (u !== undefined) found = {key: u.path + rel.slice(end), unit: u.unit, top: end === rel.length}
    start = end + 1
  }
  return found
}
