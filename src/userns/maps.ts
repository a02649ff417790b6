/**
 * User-namespace id maps (/proc/PID/uid_map, gid_map) and exact translation through them.
 *
 * Kernel semantics (user_namespaces(7)): each line is "inside outside count": ids
 * inside..inside+count-1 of the process's user namespace correspond to ids
 * outside..outside+count-1 of *another* namespace. Which one depends on who reads the file:
 * a reader in a different user namespace sees the ids of its own namespace; a reader in the
 * same user namespace sees the ids of the parent namespace. The kernel stores extents as
 * global (initial-namespace) ids, so root on the host reading a grandchild's map sees host
 * ids, not the intermediate namespace's ids. rebaseMap() recovers the per-level map.
 */

export interface IdMapExtent {
  /** First id inside the namespace. */
  inside: number
  /** First id in the namespace the map is relative to. */
  outside: number
  count: number
}

export type IdMap = IdMapExtent[]

/** The largest valid id: (uid_t)-1 is "no id" to the kernel. */
export const MAX_ID = 0xfffffffe
/** How many extents a map may have (since Linux 4.15; 5 before). */
export const MAX_EXTENTS = 340

export class IdMapSyntaxError extends Error {}

/**
 * Parse map text as /proc shows it ("%10u %10u %10u" per line) or as written
 * (single spaces). Blank lines are ignored; anything else malformed throws IdMapSyntaxError.
 */
export function parseIdMap(text: string): IdMap {
  const out: IdMap = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line === '') return
    const f = line.split(/\s+/)
    if (f.length !== 3 || !f.every((x) => /^\d+$/.test(x))) {
      throw new IdMapSyntaxError(`line ${i + 1}: expected "inside outside count", got '${line}'`)
    }
    const [inside, outside, count] = f.map(Number)
    if (inside > 0xffffffff || outside > 0xffffffff || count > 0xffffffff) {
      throw new IdMapSyntaxError(`line ${i + 1}: id out of range in '${line}'`)
    }
    out.push({inside, outside, count})
  })
  return out
}

/** Map text in the kernel's own layout, so it can be compared with `cat /proc/PID/uid_map`. */
export function formatIdMap(map: IdMap): string {
  const pad = (n: number) => String(n).padStart(10)
  return map.map((e) => `${pad(e.inside)} ${pad(e.outside)} ${pad(e.count)}\n`).join('')
}

/**
 * Why the kernel would refuse this map when written, or undefined when it is acceptable:
 * empty, zero counts, ranges that wrap past 2^32-1, overlaps on either side, too many lines.
 */
export function checkIdMap(map: IdMap): string | undefined {
  if (map.length === 0) return 'the map is empty'
  if (map.length > MAX_EXTENTS) return `the map has ${map.length} lines; the kernel accepts at most ${MAX_EXTENTS}`
  for (const e of map) {
    if (e.count === 0) return `range ${e.inside} ${e.outside} ${e.count}: the count must be at least 1`
    if (e.inside + e.count > 0xffffffff || e.outside + e.count > 0xffffffff) {
      return `range ${e.inside} ${e.outside} ${e.count}: runs past the largest id ${MAX_ID}`
    }
  }
  for (const side of ['inside', 'outside'] as const) {
    const sorted = [...map].sort((a, b) => a[side] - b[side])
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]
      if (sorted[i][side] < prev[side] + prev.count) {
        return `ranges starting at ${prev[side]} and ${sorted[i][side]} overlap on the ${side} side`
      }
    }
  }
  return undefined
}

/** An id inside the namespace, as the namespace the map is relative to sees it; undefined when unmapped. */
export function mapOut(map: IdMap, id: number): number | undefined {
  for (const e of map) if (id >= e.inside && id - e.inside < e.count) return e.outside + (id - e.inside)
  return undefined
}

/** An id of the outer namespace, as the namespace sees it inside; undefined when unmapped. */
export function mapIn(map: IdMap, id: number): number | undefined {
  for (const e of map) if (id >= e.outside && id - e.outside < e.count) return e.inside + (id - e.outside)
  return undefined
}

/**
 * Re-express a map whose outside ids are in namespace V (the viewer) so that they are in
 * namespace P instead, given P's own map into V. Used to turn a grandchild's map as the
 * host shows it into the map relative to its real parent: the map its creator wrote.
 * Parts whose V ids P does not map are returned in `unreachable` (the kernel never lets a
 * child map ids its parent lacks, so these signal an inconsistent or changing view).
 */
export function rebaseMap(map: IdMap, parentInViewer: IdMap): {map: IdMap; unreachable: IdMap} {
  const out: IdMap = []
  const unreachable: IdMap = []
  const parents = [...parentInViewer].sort((a, b) => a.outside - b.outside)
  for (const e of map) {
    // Walk the child's outside range [lo, hi) and cut it at the parent's extent boundaries.
    let lo = e.outside
    const hi = e.outside + e.count
    while (lo < hi) {
      const p = parents.find((x) => lo >= x.outside && lo < x.outside + x.count)
      if (p) {
        const end = Math.min(hi, p.outside + p.count)
        out.push({inside: e.inside + (lo - e.outside), outside: p.inside + (lo - p.outside), count: end - lo})
        lo = end
      } else {
        const next = parents.filter((x) => x.outside > lo).reduce((m, x) => Math.min(m, x.outside), hi)
        const end = Math.min(hi, next)
        unreachable.push({inside: e.inside + (lo - e.outside), outside: lo, count: end - lo})
        lo = end
      }
    }
  }
  return {map: mergeAdjacent(out), unreachable}
}

/** Join extents that continue each other on both sides (rebasing may cut one in two needlessly). */
function mergeAdjacent(map: IdMap): IdMap {
  const out: IdMap = []
  for (const e of map) {
    const last = out[out.length - 1]
    if (last && last.inside + last.count === e.inside && last.outside + last.count === e.outside) last.count += e.count
    else out.push({...e})
  }
  return out
}

/** The identity map of the initial user namespace: every valid id maps to itself. */
export function isIdentityMap(map: IdMap): boolean {
  return map.length === 1 && map[0].inside === 0 && map[0].outside === 0 && map[0].count === 0xffffffff
}
