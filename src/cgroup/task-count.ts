import {countLines} from './counters.js'
import {HierarchyWatch, parentRel} from './discover.js'
import type {ControlFile} from './files.js'
import type {Row} from './row-files.js'
import type {CgroupSample} from './snapshot.js'
import type {MetricSources} from './sources.js'

/** The cgroup.procs files of one hierarchy that a process count reads, parents first. */
export interface TaskCountPlan {
  hierarchy: string
  files: (ControlFile | undefined)[]
  /** The row each file's counts are for (undefined: read only to add up into an ancestor). */
  counted: (string | undefined)[]
  /** Index of each file's parent in `files`, -1 for none. */
  parent: Int32Array
  direct: Float64Array
  total: Float64Array
}

/**
 * Each row counts processes in the first hierarchy (in MetricSources.procs order) that
 * has its path, recursively within that same hierarchy, so that counts from different
 * hierarchies are never added together.
 */
export function countProcesses(plans: readonly TaskCountPlan[], read: (f: ControlFile | undefined) => Buffer | undefined, cgroups: Map<string, CgroupSample>): void {
  for (const plan of plans) {
    const {direct, total, parent} = plan
    for (let i = 0; i < plan.files.length; i++) direct[i] = countLines(read(plan.files[i])) ?? 0
    total.set(direct)
    // Sum bottom-up: children come after their parents.
    for (let i = plan.files.length - 1; i >= 0; i--) if (parent[i] >= 0) total[parent[i]] += total[i]
    for (let i = 0; i < plan.files.length; i++) {
      const path = plan.counted[i]
      if (path === undefined) continue
      const s = cgroups.get(path)
      if (!s) continue
      s.procs = direct[i]
      s.tasks = total[i]
      s.procsHierarchy = plan.hierarchy
    }
  }
}

/**
 * Which cgroup.procs files a count reads, per hierarchy, and how they add up: made once
 * per change of the tree rather than every count.
 */
export function planTaskCounts(
  sources: MetricSources,
  watches: ReadonlyMap<string, HierarchyWatch>,
  paths: readonly string[],
  rows: ReadonlyMap<string, Row>,
  /** Per hierarchy id, the row key of each path that is not its own (a unit's cgroups). */
  keys: ReadonlyMap<string, ReadonlyMap<string, string>>,
): TaskCountPlan[] {
  const choice = new Map<string, string>()
  for (const path of paths) {
    const rels = rows.get(path)!.rels
    const h = sources.procs.find((x) => rels.has(x.id))
    if (h) choice.set(path, h.id)
  }
  const plans: TaskCountPlan[] = []
  for (const h of sources.procs) {
    const w = watches.get(h.id)
    if (!w) continue
    const index = new Map<string, number>()
    const files: (ControlFile | undefined)[] = []
    const parents: number[] = []
    const counted: (string | undefined)[] = []
    const keyOf = keys.get(h.id)
    // The watch's order has parents before their children.
    for (const rel of w.nodes.keys()) {
      const key = keyOf?.get(rel) ?? rel
      const p = parentRel(rel)
      const pi = p === undefined ? undefined : index.get(p)
      if (choice.get(key) !== h.id && pi === undefined) continue
      index.set(rel, files.length)
      const row = rows.get(key)
      const own = row?.rels.get(h.id) === rel
      files.push(own ? row!.procs.get(h.id) : undefined)
      parents.push(pi ?? -1)
      counted.push(choice.get(key) === h.id && own ? key : undefined)
    }
    if (files.length === 0) continue
    const n = files.length
    plans.push({hierarchy: h.id, files, counted, parent: Int32Array.from(parents), direct: new Float64Array(n), total: new Float64Array(n)})
  }
  return plans
}
