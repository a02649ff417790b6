import type {Palette} from '../render/colour.js'
import {DIFF_AREAS, Difference} from './compare.js'
import type {DiffReport, DiffSide} from './diff.js'

function label(s: DiffSide): string {
  const what = s.source === 'file' ? `${s.spec} (saved report of pid ${s.pid}, ${s.name})` : s.source === 'container' ? `container ${s.container ?? s.spec} (pid ${s.pid}, ${s.name})` : `process ${s.pid} (${s.name})`
  return what
}

/** The lines of one difference: "-" for A's side, "+" for B's, as diff -u writes them. */
function lines(d: Difference, p: Palette): string[] {
  const out: string[] = []
  const minus = (s: string) => out.push(p.red(`-${s}`))
  const plus = (s: string) => out.push(p.green(`+${s}`))
  if (d.onlyA !== undefined || d.onlyB !== undefined) {
    if (d.onlyA && d.onlyA.length > 0) minus(`${d.item}: ${d.onlyA.join(' ')}`)
    if (d.onlyB && d.onlyB.length > 0) plus(`${d.item}: ${d.onlyB.join(' ')}`)
    return out
  }
  // A namespace's value names its type already ("net:[4026531840] (host)").
  const text = (v: unknown) => (d.area === 'namespaces' ? String(v) : `${d.item}: ${String(v)}`)
  if (d.change !== 'added') minus(text(d.a))
  if (d.change !== 'removed') plus(text(d.b))
  return out
}

/** Like diff -u: a header naming both sides, then one hunk per area that differs. Nothing when they are the same. */
export function renderDiff(r: DiffReport, p: Palette): string {
  if (r.same) return ''
  const out = [p.bold(`--- ${label(r.a)}`), p.bold(`+++ ${label(r.b)}`)]
  for (const area of DIFF_AREAS) {
    const ds = r.differences.filter((d) => d.area === area)
    if (ds.length === 0) continue
    out.push(p.cyan(`@@ ${area} @@`))
    for (const d of ds) out.push(...lines(d, p))
  }
  return `${out.join('\n')}\n`
}

/** For stderr: the areas that could not be compared, one line each. */
export function renderNotCompared(r: DiffReport): string[] {
  return r.notCompared.map((n) => `not compared: ${n.area}: ${n.why}`)
}
