import {Palette} from '../render/colour.js'
import {printable} from '../render/printable.js'
import type {UidmapReport} from './uidmap.js'
import {renderChain, renderTranslation} from './render-userns.js'

export function renderUidmap(r: UidmapReport, p: Palette): string {
  const out: string[] = []
  const levels = r.levels.length
  out.push(`${p.bold(`pid ${r.pid}`)} (${printable(r.name)}): ${levels} user namespace${levels === 1 ? '' : 's'}, innermost first; map ids outside are the parent namespace's`)
  out.push(renderChain(r, p).trimEnd())
  if (r.top === 'unknown') out.push(p.dim("the chain ends above: the next namespace up is not visible from nsx's"))
  if (r.translations.length > 0) {
    out.push('')
    for (const t of r.translations) out.push(renderTranslation(t, r).trimEnd())
  }
  return out.join('\n') + '\n'
}
