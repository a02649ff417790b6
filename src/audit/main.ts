import {NsxError} from '../cli/errors.js'
import {FastOutcome, HELP, runFast, writeOut} from '../cli/fast.js'
import {GetoptError, OptionSpec, getoptAnywhere} from '../cli/getopt.js'
import {packageVersion} from '../cli/version.js'
import {palette} from '../render/colour.js'
import {renderTable} from '../render/table.js'
import {failsAt, runAudit} from './audit.js'
import {renderAuditTable, renderEventLine, renderSarif} from './render.js'
import {RULES} from './rules.js'
import {AUDIT_ERROR, parseSeverity, ruleStates} from './settings.js'
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

/**
 * The fast path of `nsx audit` (bin/nsx calls it before loading oclif, which costs more than a
 * small host's audit). Same flags as commands/audit.ts; --help, and a target that is not a pid
 * (a container's name: resolving it takes the store), go to oclif.
 */
export const AUDIT_OPTIONS: readonly OptionSpec[] = [
  {key: 'format', long: 'format', short: 'f', arg: 'required'},
  {key: 'fail-on', long: 'fail-on', arg: 'required'},
  {key: 'rules', long: 'rules', arg: 'required'},
  {key: 'baseline', long: 'baseline', arg: 'required'},
  {key: 'watch', long: 'watch', short: 'w', arg: 'none'},
  {key: 'interval', long: 'interval', arg: 'required'},
  {key: 'list-rules', long: 'list-rules', arg: 'none'},
  {key: 'help', long: 'help', short: 'h', arg: 'none'},
]

export function runAuditFast(argv: readonly string[]): Promise<FastOutcome> {
  return runFast('audit', async () => {
    let r
    try {
      r = getoptAnywhere(argv, AUDIT_OPTIONS, true)
    } catch (err) {
      if (err instanceof GetoptError) throw new NsxError(err.message, AUDIT_ERROR)
      throw err
    }
    if (r.help) throw HELP
    const v = new Map<string, string | true>(r.options.map((o) => [o.key, o.value ?? true]))
    const str = (k: string) => (typeof v.get(k) === 'string' ? (v.get(k) as string) : undefined)
    const format = str('format') ?? 'table'
    if (!(AUDIT_FORMATS as readonly string[]).includes(format)) throw new NsxError(`Expected --format=${format} to be one of: ${AUDIT_FORMATS.join(', ')}`, AUDIT_ERROR)
    const failOn = str('fail-on')
    const interval = str('interval')
    if (interval !== undefined && !/^[1-9]\d*$/.test(interval)) throw new NsxError(`Expected --interval to be an integer of at least 1, not ${interval}`, AUDIT_ERROR)
    let out = ''
    const status = await executeAudit(
      {
        format: format as AuditFormat,
        ...(failOn !== undefined ? {failOn: parseSeverity(failOn, '--fail-on')} : {}),
        ...(str('rules') !== undefined ? {rulesFile: str('rules')} : {}),
        ...(str('baseline') !== undefined ? {baselineFile: str('baseline')} : {}),
        watch: v.has('watch'),
        interval: interval === undefined ? 60 : Number(interval),
        listRules: v.has('list-rules'),
        targets: r.positional,
      },
      // One write at the end for a report; --watch writes as it goes.
      v.has('watch') ? undefined : (s) => void (out += s),
    )
    if (out) await writeOut(out)
    return status
  })
}
