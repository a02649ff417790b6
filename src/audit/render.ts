import type {Palette} from '../render/colour.js'
import {printable} from '../render/printable.js'
import {renderTable} from '../render/table.js'
import {RULES} from './rules.js'
import type {AuditEvent, AuditFinding, AuditReport, AuditWorkload, Severity} from './types.js'

/** nsx audit's outputs, all drawn from one AuditReport: a table, SARIF 2.1.0, and --watch's lines. */

const paint = (s: Severity, p: Palette) => (s === 'high' ? p.red : s === 'medium' ? p.yellow : p.dim)

/** At most three items, then how many more: "1,2,3,+4". */
export const firstThree = (items: readonly (string | number)[]): string => (items.length <= 3 ? items.join(',') : `${items.slice(0, 3).join(',')},+${items.length - 3}`)

/** The findings table of nsx audit and nsx audit merge; `where` is the column that differs (PIDS, HOSTS). */
export function renderFindingsTable<F extends Pick<AuditFinding, 'severity' | 'rule' | 'workload' | 'cis' | 'reason'>>(
  findings: F[],
  workloads: readonly AuditWorkload[],
  p: Palette,
  where: {header: string; value: (f: F) => string},
): string {
  const byKey = new Map(workloads.map((w) => [w.key, w]))
  return renderTable(
    [
      {header: 'SEVERITY', value: (f: F) => paint(f.severity, p)(f.severity.toUpperCase())},
      {header: 'RULE', value: (f) => f.rule},
      {header: 'WORKLOAD', value: (f) => printable(workloadLabel(byKey.get(f.workload), f.workload))},
      where,
      {header: 'CIS', value: (f) => f.cis.join(',') || '-'},
      {header: 'REASON', value: (f) => printable(f.reason)},
    ],
    findings,
  )
}

export function workloadLabel(w: AuditWorkload | undefined, key: string): string {
  if (!w) return key
  if (w.kind === 'nsx') return `nsx ${w.name}`
  if (w.kind === 'kubernetes') return `pod ${w.pod?.slice(0, 8)} ${w.id?.slice(0, 12)}`
  if (w.kind === 'docker' || w.kind === 'podman' || w.kind === 'crio' || w.kind === 'containerd') return `${w.kind} ${w.id?.slice(0, 12)}`
  if (w.kind === 'namespaces') return `pid ${w.pid} (${w.key.slice('namespaces:'.length).replace(/:\d+/g, '')})`
  return w.key
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

export function renderAuditTable(r: AuditReport, p: Palette): string {
  const out: string[] = []
  const judged = r.workloads.filter((w) => w.judged)
  out.push(
    renderTable(
      [
        {header: 'WORKLOAD', value: (w: AuditWorkload) => printable(workloadLabel(w, w.key))},
        {header: 'KIND', value: (w) => w.kind},
        {header: 'PIDS', align: 'right', value: (w) => String(w.pids.length)},
        {header: 'HIGH', align: 'right', value: (w) => String(r.findings.filter((f) => f.workload === w.key && f.severity === 'high').length)},
        {header: 'MEDIUM', align: 'right', value: (w) => String(r.findings.filter((f) => f.workload === w.key && f.severity === 'medium').length)},
        {header: 'LOW', align: 'right', value: (w) => String(r.findings.filter((f) => f.workload === w.key && f.severity === 'low').length)},
        {header: 'COMMAND', value: (w) => printable(w.command.length > 60 ? `${w.command.slice(0, 57)}...` : w.command)},
      ],
      r.workloads,
    ),
  )
  if (r.findings.length > 0) {
    out.push(
      renderFindingsTable(r.findings, r.workloads, p, {header: 'PIDS', value: (f) => firstThree(f.pids)}),
    )
  }
  const n = r.summary.findings
  const base = r.baseline ? ` (${r.baseline.suppressed} more in the baseline ${r.baseline.file})` : ''
  out.push(`${plural(r.summary.workloads, 'workload')} (${judged.length} judged), ${plural(r.summary.processes, 'process', 'processes')}: ${p.red(`${n.high} high`)}, ${p.yellow(`${n.medium} medium`)}, ${n.low} low${base}\n`)
  if (r.unchecked.length > 0) {
    const why = new Map<string, Set<string>>()
    for (const u of r.unchecked) {
      const k = `${u.why}`
      if (!why.has(k)) why.set(k, new Set())
      why.get(k)!.add(u.rule)
    }
    out.push(`not checked (${r.unchecked.length}):\n${[...why].map(([w, rules]) => `  ${[...rules].join(', ')}: ${w}`).join('\n')}\n`)
  }
  return out.join('\n')
}

/** One line per finding for --watch in table mode. */
export function renderEventLine(e: AuditEvent, p: Palette): string {
  const f = e.finding
  return `${e.time} ${paint(f.severity, p)(f.severity.toUpperCase())} ${f.rule} ${printable(workloadLabel(e.workload, f.workload))} pid ${firstThree(f.pids)}: ${printable(f.reason)}\n`
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {high: 'error', medium: 'warning', low: 'note'}

/**
 * SARIF 2.1.0 (OASIS), as code-scanning tools take it: one run, the rules as the tool's
 * reportingDescriptors, each finding a result located at the workload (a logical location)
 * and the /proc file its first evidence was read from.
 */
export function renderSarif(r: AuditReport, version: string): unknown {
  const byKey = new Map(r.workloads.map((w) => [w.key, w]))
  const states = new Map(r.rules.map((s) => [s.id, s]))
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'nsx audit',
            version,
            rules: RULES.map((rule) => ({
              id: rule.id,
              name: rule.id.replace(/(^|-)([a-z])/g, (_, _d: string, c: string) => c.toUpperCase()),
              shortDescription: {text: rule.title},
              help: {text: `${rule.title}. docs/audit.md, man nsx-audit: ${rule.id}.`},
              defaultConfiguration: {level: SARIF_LEVEL[states.get(rule.id)?.severity ?? rule.severity], enabled: states.get(rule.id)?.enabled ?? true},
              properties: {
                tags: ['security', ...rule.cis.map((c) => `CIS-Docker-${c}`), ...rule.pss.map((s) => `PSS-${s.level}:${s.control}`)],
                severity: states.get(rule.id)?.severity ?? rule.severity,
              },
            })),
          },
        },
        invocations: [{executionSuccessful: true, endTimeUtc: r.time, machine: r.host.hostname}],
        results: r.findings.map((f) => {
          const w = byKey.get(f.workload)
          return {
            ruleId: f.rule,
            ruleIndex: RULES.findIndex((x) => x.id === f.rule),
            level: SARIF_LEVEL[f.severity],
            message: {text: `${workloadLabel(w, f.workload)}: ${f.reason}`},
            locations: [
              {
                physicalLocation: {artifactLocation: {uri: `file://${f.evidence[0]?.source.replace(/:[^/]*$/, '') ?? `/proc/${f.pids[0]}`}`}},
                logicalLocations: [{name: f.workload, fullyQualifiedName: `${r.host.hostname}/${f.workload}`, kind: 'module'}],
              },
            ],
            partialFingerprints: {nsxAudit: f.fingerprint},
            properties: {pids: f.pids, evidence: f.evidence, cis: f.cis, pss: f.pss, workloadKind: w?.kind},
          }
        }),
        properties: {unchecked: r.unchecked, summary: r.summary},
      },
    ],
  }
}
