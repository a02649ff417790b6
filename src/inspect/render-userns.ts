import {Palette} from '../render/colour.js'
import {IdMap} from '../userns/maps.js'
import {Translation, UsernsChain, UsernsLevel} from '../userns/chain.js'

/** Text for user-namespace chains and id translations, shared by `inspect` and `uidmap`. */

export function nsName(inode: number): string {
  return `user:[${inode}]`
}

/** "user:[4026531837] (host)" for the initial namespace, "(nsx's own)" for nsx's when not initial. */
export function levelName(l: UsernsLevel): string {
  if (l.initial) return `${nsName(l.inode)} (host)`
  if (l.viewer) return `${nsName(l.inode)} (nsx's own)`
  return nsName(l.inode)
}

function levelFacts(l: UsernsLevel): string {
  const facts: string[] = []
  if (l.initial) facts.push('initial')
  else if (l.viewer) facts.push("nsx's own user namespace")
  if (l.ownerUid !== null) facts.push(`owner uid ${l.ownerUid}`)
  // nsx's own level is read through nsx itself: its passing pid would only puzzle.
  if (l.viewer) facts.push('read through nsx itself')
  else facts.push(l.readVia === null ? 'maps unknown: no visible process lives in it' : `read through pid ${l.readVia}`)
  if (l.setgroups !== null) facts.push(`setgroups ${l.setgroups}`)
  return facts.join(', ')
}

/** Map lines aligned in columns, under a header naming what the outside ids belong to. */
function mapLines(label: string, map: IdMap, outsideHeader: string, indent: string): string[] {
  const rows = [['INSIDE', outsideHeader, 'COUNT'], ...map.map((e) => [String(e.inside), String(e.outside), String(e.count)])]
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r, i) => {
    const head = i === 0 ? label.padEnd(8) : ' '.repeat(8)
    return `${indent}${head}${r[0].padStart(w[0])}  ${r[1].padStart(w[1])}  ${r[2].padStart(w[2])}`.replace(/\s+$/, '')
  })
}

/**
 * Each level with its maps relative to its parent (what its creator wrote). For a level whose
 * parent's map is unknown, the map is shown as nsx reads it, in nsx's ids, and says so.
 */
export function renderChain(chain: UsernsChain & {overflowUid?: number; overflowGid?: number}, p: Palette, indent = ''): string {
  const out: string[] = []
  chain.levels.forEach((l, i) => {
    const parent = chain.levels[i + 1]
    out.push(`${indent}${p.bold(nsName(l.inode))}  ${levelFacts(l)}`)
    for (const [label, maps] of [
      ['uid_map', l.uidMap],
      ['gid_map', l.gidMap],
    ] as const) {
      if (maps === null) {
        if (l.readVia !== null) out.push(`${indent}  ${label.padEnd(8)}unreadable`)
        continue
      }
      if (!maps.written) {
        // Empty: the creator has not written it yet (a user namespace between unshare and its maps).
        const kind = label === 'uid_map' ? 'uid' : 'gid'
        const overflow = kind === 'uid' ? chain.overflowUid : chain.overflowGid
        const shown = overflow === undefined ? 'usually 65534' : String(overflow)
        out.push(`${indent}  ${label.padEnd(8)}not written yet: every ${kind} is unmapped, inside and out (each shows as the overflow ${kind}, ${shown})`)
        continue
      }
      if (l.viewer || parent === undefined) {
        const header = l.initial ? 'OUTSIDE' : 'PARENT'
        out.push(...mapLines(label, maps.asRead, header, `${indent}  `))
      } else if (maps.toParent !== null) {
        out.push(...mapLines(label, maps.toParent, parent.viewer && parent.initial ? 'HOST' : 'PARENT', `${indent}  `))
      } else {
        out.push(...mapLines(label, maps.asRead, 'NSX-VIEW', `${indent}  `))
      }
    }
  })
  return out.join('\n') + (out.length > 0 ? '\n' : '')
}

/** One line per translation: every step, and plain words when the id is unmapped. */
export function renderTranslation(t: Translation, chain: UsernsChain): string {
  const level = (depth: number) => chain.levels[depth]
  const where = (depth: number) => {
    const l = level(depth)
    return l.initial ? `on the host (${nsName(l.inode)})` : `in ${nsName(l.inode)}`
  }
  const parts: string[] = []
  for (const s of t.steps) {
    if (!s.known) parts.push(`? ${where(s.depth)} (maps unknown)`)
    else if (s.id === null) break
    else parts.push(`${s.id} ${where(s.depth)}`)
  }
  let line = `${t.kind} ${parts.join(' -> ')}`
  const top = level(t.steps[t.steps.length - 1].depth)
  if (t.direction === 'to-host' && top.viewer && !top.initial) {
    line += " (nsx's own user namespace: the kernel shows nothing above it)"
  }
  if (t.unmappedAt !== null) {
    const l = level(t.unmappedAt)
    const file = `${t.kind}_map`
    if (t.direction === 'to-host') {
      line = `${t.kind} ${t.id} ${where(0)} is unmapped: no line of the ${file} of ${nsName(l.inode)} covers it, so it has no ${t.kind} outside`
    } else {
      const first = t.steps[0]
      const from = `${t.kind} ${first.id} ${where(first.depth)}`
      const reached = parts.length > 1 ? ` (reaches ${parts.slice(1).join(' -> ')})` : ''
      line = `${from} is unmapped in ${nsName(l.inode)}${reached}: processes there see it as ${t.overflowId} (overflow${t.kind})`
    }
  }
  return line + '\n'
}
