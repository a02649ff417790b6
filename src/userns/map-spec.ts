import {checkIdMap, IdMap, IdMapExtent, MAX_ID, parseIdMap} from './maps.js'

/**
 * What `nsx unshare` is asked to map, as util-linux unshare's options spell it:
 * --map-users/--map-groups INNER:OUTER:COUNT (util-linux >= 2.39) or OUTER,INNER,COUNT
 * (2.38), or auto (the user's first /etc/subuid range, from inner id 0), subids (the
 * same range mapped to itself) and all (every id of the current namespace, identity);
 * --map-user/--map-group/-r/-c one id. Parsing and checking only; nothing here touches
 * the system (the caller reads /etc/subuid and /proc/self/uid_map and passes the text).
 */

export class MapSpecError extends Error {}

export type RangeSpec =
  | {kind: 'range'; extent: IdMapExtent}
  | {kind: 'auto'}
  | {kind: 'subids'}
  | {kind: 'all'}

const U32 = /^\d{1,10}$/

function id(s: string, what: string, spec: string): number {
  if (!U32.test(s) || Number(s) > MAX_ID) throw new MapSpecError(`invalid mapping '${spec}': ${what} '${s}' is not an id (0 to ${MAX_ID})`)
  return Number(s)
}

/** One --map-users/--map-groups argument. */
export function parseRangeSpec(spec: string): RangeSpec {
  if (spec === 'auto' || spec === 'subids' || spec === 'all') return {kind: spec}
  const colon = spec.split(':')
  const comma = spec.split(',')
  const expect = `expected INNER:OUTER:COUNT (or OUTER,INNER,COUNT), auto, subids or all`
  let inside: number, outside: number, count: number
  if (colon.length === 3) {
    inside = id(colon[0], 'inner id', spec)
    outside = id(colon[1], 'outer id', spec)
    count = id(colon[2], 'count', spec)
  } else if (comma.length === 3) {
    outside = id(comma[0], 'outer id', spec)
    inside = id(comma[1], 'inner id', spec)
    count = id(comma[2], 'count', spec)
  } else {
    throw new MapSpecError(`invalid mapping '${spec}': ${expect}`)
  }
  if (count === 0) throw new MapSpecError(`invalid mapping '${spec}': the count must be at least 1`)
  if (inside + count - 1 > MAX_ID || outside + count - 1 > MAX_ID) {
    throw new MapSpecError(`invalid mapping '${spec}': the range runs past the largest id ${MAX_ID}`)
  }
  return {kind: 'range', extent: {inside, outside, count}}
}

export interface SubidRange {
  start: number
  count: number
}

/**
 * The first range of `user` (by name or uid, as shadow's newuidmap matches) in
 * /etc/subuid or /etc/subgid text; undefined when it has none.
 */
export function findSubidRange(text: string, user: {name?: string; uid: number}): SubidRange | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const f = line.split(':')
    if (f.length !== 3) continue
    const owner = f[0]
    if (owner !== user.name && !(U32.test(owner) && Number(owner) === user.uid)) continue
    if (!U32.test(f[1]) || !U32.test(f[2]) || Number(f[2]) === 0) continue
    return {start: Number(f[1]), count: Number(f[2])}
  }
  return undefined
}

/** Every range of `user` in subid text, for checking what newuidmap will accept. */
export function allSubidRanges(text: string, user: {name?: string; uid: number}): SubidRange[] {
  const out: SubidRange[] = []
  for (const raw of text.split('\n')) {
    const f = raw.trim().split(':')
    if (f.length !== 3) continue
    if (f[0] !== user.name && !(U32.test(f[0]) && Number(f[0]) === user.uid)) continue
    if (U32.test(f[1]) && U32.test(f[2]) && Number(f[2]) > 0) out.push({start: Number(f[1]), count: Number(f[2])})
  }
  return out
}

export interface ExpandContext {
  kind: 'uid' | 'gid'
  /** /etc/subuid (or subgid) text; undefined when the file is missing. */
  subidText?: string
  subidPath: string
  user: {name?: string; uid: number}
  /** /proc/self/uid_map (or gid_map) text, for `all`. */
  currentMap: string
}

/** Turn range specs into extents; auto and subids read the subid file, all the current map. */
export function expandRangeSpecs(specs: readonly RangeSpec[], ctx: ExpandContext): IdMapExtent[] {
  const out: IdMapExtent[] = []
  const who = ctx.user.name ?? String(ctx.user.uid)
  for (const s of specs) {
    if (s.kind === 'range') {
      out.push({...s.extent})
    } else if (s.kind === 'all') {
      // Every id we have, passed through unchanged: our map's inside side.
      for (const e of parseIdMap(ctx.currentMap)) out.push({inside: e.inside, outside: e.inside, count: e.count})
    } else {
      if (ctx.subidText === undefined) throw new MapSpecError(`--map-${ctx.kind === 'uid' ? 'users' : 'groups'}=${s.kind}: cannot read ${ctx.subidPath}`)
      const r = findSubidRange(ctx.subidText, ctx.user)
      if (!r) throw new MapSpecError(`no line for user ${who} in ${ctx.subidPath} (needed by ${s.kind === 'subids' ? '--map-subids' : '--map-auto'}); add one, e.g. with usermod --add-subuids`)
      out.push({inside: s.kind === 'auto' ? 0 : r.start, outside: r.start, count: r.count})
    }
  }
  return out
}

/**
 * Add a single mapping (--map-user and friends: INNER <- OUTER, our own id) to ranges
 * without overlap: a range that holds INNER on its inside or OUTER on its outside
 * loses that id on that side and the ids after it move down by one, so the range
 * stays contiguous and one shorter (the topmost pair is dropped). This is what makes
 * `--map-auto --map-root-user` give root to us and 1..65535 to the subids, as
 * util-linux does; unlike util-linux, an id just past a range does not shorten it.
 */
export function addSingleMapping(ranges: readonly IdMapExtent[], single: {inside: number; outside: number}): IdMap {
  const out: IdMap = [{inside: single.inside, outside: single.outside, count: 1}]
  for (const r of ranges) {
    const inHole = single.inside >= r.inside && single.inside < r.inside + r.count ? single.inside - r.inside : -1
    const outHole = single.outside >= r.outside && single.outside < r.outside + r.count ? single.outside - r.outside : -1
    if (inHole < 0 && outHole < 0) {
      out.push({...r})
      continue
    }
    if (r.count === 1) continue
    // Pair the i-th remaining inside id with the i-th remaining outside id; the pieces
    // change at the two holes, so at most three extents come out.
    const n = r.count - 1
    const cuts = [...new Set([0, inHole < 0 ? n : Math.min(inHole, n), outHole < 0 ? n : Math.min(outHole, n), n])].sort((a, b) => a - b)
    for (let k = 0; k + 1 < cuts.length; k++) {
      const from = cuts[k]
      const to = cuts[k + 1]
      if (to <= from) continue
      const inside = r.inside + from + (inHole >= 0 && from >= inHole ? 1 : 0)
      const outside = r.outside + from + (outHole >= 0 && from >= outHole ? 1 : 0)
      out.push({inside, outside, count: to - from})
    }
  }
  return out
}

/** The map checked as the kernel would check it, with the option named in the message. */
export function checkMapSpec(map: IdMap, option: string): IdMap {
  const why = checkIdMap(map)
  if (why) throw new MapSpecError(`${option}: ${why}`)
  return map
}

/** Map text as written to /proc/PID/uid_map: "inside outside count" lines. */
export function mapText(map: IdMap): string {
  return map.map((e) => `${e.inside} ${e.outside} ${e.count}\n`).join('')
}

/**
 * Outer ids an unprivileged user may map through newuidmap: their subid ranges and
 * their own id. The first extent that asks for more, or undefined when all are allowed.
 */
export function firstUnallowedExtent(map: IdMap, allowed: readonly SubidRange[], ownId: number): IdMapExtent | undefined {
  return map.find((e) => {
    if (e.count === 1 && e.outside === ownId) return false
    return !allowed.some((r) => e.outside >= r.start && e.outside + e.count <= r.start + r.count)
  })
}

/** Outer ids the current namespace does not have (its map's inside side): the kernel refuses them. */
export function firstUnmappedExtent(map: IdMap, currentMap: string): IdMapExtent | undefined {
  const ours = parseIdMap(currentMap)
  return map.find((e) => !ours.some((o) => e.outside >= o.inside && e.outside + e.count <= o.inside + o.count))
}
