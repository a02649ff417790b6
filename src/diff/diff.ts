import {compareReports, Difference, DiffSummary} from './compare.js'
import {DIFF_ERROR, loadSide, Side} from './operand.js'
import {NsxError} from '../cli/errors.js'

/** One side as nsx diff names it. */
export interface DiffSide {
  /** The argument as given. */
  spec: string
  source: Side['source']
  pid: number
  /** The process's name (comm). */
  name: string
  /** The nsx container, when one was named (or recorded in a saved report). */
  container?: string
}

/** What `nsx diff A B --json` prints. */
export interface DiffReport extends DiffSummary {
  a: DiffSide
  b: DiffSide
}

export type {Difference}

function describe(s: Side): DiffSide {
  const out: DiffSide = {spec: s.spec, source: s.source, pid: s.report.pid, name: s.report.name}
  if (s.report.container) out.container = s.report.container.name
  return out
}

/** Compare the isolation of A and B (each a pid, a container, or a saved inspect report). Throws NsxError (exit 2) when either cannot be read. */
export function diffIsolation(specA: string, specB: string): DiffReport {
  if (specA === '-' && specB === '-') throw new NsxError('only one side can be read from standard input (-)', DIFF_ERROR)
  const a = loadSide(specA)
  const b = loadSide(specB)
  return {a: describe(a), b: describe(b), ...compareReports(a.report, b.report)}
}
