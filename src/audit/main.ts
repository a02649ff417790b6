import {packageVersion} from '../cli/version.js'
import {palette} from '../render/colour.js'
import {renderTable} from '../render/table.js'
import {failsAt, runAudit} from './audit.js'
import {renderAuditTable, renderEventLine, renderSarif} from './render.js'
import {RULES} from './rules.js'
import {ruleStates} from './settings.js'
import type {AuditReport, Severity} from './types.js'
import {watchAudit, WatchOptions} from './watch.js'

export const AUDIT_FORMATS = ['table', 'json', 'sarif'] as const
export type AuditFormat = (typeof AUDIT_FORMATS)[number]

export interface AuditCliOptions extends WatchOptions {
  format: AuditFormat
  failOn?: Severity
  watch?: boolean
  listRules?: boolean
}

type Write = (s: string) => void

/** nsx audit as the CLI runs it: the report rendered, and the exit status (0, or 1 for a finding at or above --fail-on). */
export async function executeAudit(o: AuditCliOptions, write: Write = (s) => process.stdout.write(s)): Promise<number> {
  if (o.listRules) {
    write(listRules(o))
    return 0
  }
  if (o.watch) return watch(o, write)
  const report = runAudit(o)
  if (o.format === 'json') write(`${JSON.stringify(report, null, 2)}\n`)
  else if (o.format === 'sarif') write(`${JSON.stringify(renderSarif(report, packageVersion()), null, 2)}\n`)
  else write(renderAuditTable(report, palette(process.stdout)))
  warnUnchecked(report, o.format)
  return o.failOn !== undefined && failsAt(report, o.failOn) ? 1 : 0
}

function warnUnchecked(report: AuditReport, format: AuditFormat): void {
  // The table says it already; JSON and SARIF carry it in the document, stderr tells a person.
  if (format !== 'table' && !report.user.root && report.unchecked.length > 0) {
    process.stderr.write(`nsx audit: ${report.unchecked.length} checks could not be made as an ordinary user (see "unchecked"; run as root to check everything)\n`)
  }
}

function listRules(o: AuditCliOptions): string {
  const states = new Map(ruleStates(o.rulesFile).map((s) => [s.id, s]))
  const rows = RULES.map((r) => ({r, s: states.get(r.id)!}))
  if (o.format === 'json') return `${JSON.stringify(rows.map(({r, s}) => ({id: r.id, severity: s.severity, enabled: s.enabled, title: r.title, cis: r.cis, pss: r.pss})), null, 2)}\n`
  return renderTable(
    [
      {header: 'RULE', value: (x: (typeof rows)[number]) => x.r.id},
      {header: 'SEVERITY', value: (x) => (x.s.enabled ? x.s.severity : 'off')},
      {header: 'CIS', value: (x) => x.r.cis.join(',') || '-'},
      {header: 'PSS', value: (x) => x.r.pss.map((p) => `${p.level}: ${p.control}`).join('; ') || '-'},
      {header: 'TITLE', value: (x) => x.r.title},
    ],
    rows,
  )
}

async function watch(o: AuditCliOptions, write: Write): Promise<number> {
  const p = palette(process.stdout)
  let failed = false
  let first = true
  const w = watchAudit(
    o,
    (e) => {
      if (o.failOn !== undefined && failsAt({findings: [e.finding]}, o.failOn)) failed = true
      write(o.format === 'json' ? `${JSON.stringify(e)}\n` : renderEventLine(e, p))
    },
    (r) => {
      if (first) warnUnchecked(r, 'json')
      first = false
    },
  )
  const stop = () => w.stop()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    await w.done
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
  return failed ? 1 : 0
}
