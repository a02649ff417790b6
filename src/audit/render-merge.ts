import type {Palette} from '../render/colour.js'
import {printable} from '../render/printable.js'
import {renderTable} from '../render/table.js'
import type {AuditMergeReport, MergedFinding, MergedWorkload} from './merge.js'
import {workloadLabel} from './render.js'
import type {Severity} from './types.js'

const paint = (s: Severity, p: Palette) => (s === 'high' ? p.red : s === 'medium' ? p.yellow : p.dim)
const hostList = (hosts: string[]) => (hosts.length <= 3 ? hosts.join(',') : `${hosts.slice(0, 3).join(',')},+${hosts.length - 3}`)

/** nsx audit merge's table: the workloads with the hosts that saw them, then the findings, then one summary line. */
export function renderMergeTable(r: AuditMergeReport, p: Palette): string {
  const out: string[] = []
  const count = (w: MergedWorkload, s: Severity) => String(r.findings.filter((f) => f.workload === w.key && f.severity === s && f.hosts.some((h) => w.hosts.includes(h))).length)
  out.push(
    renderTable(
      [
        {header: 'WORKLOAD', value: (w: MergedWorkload) => printable(workloadLabel(w, w.key))},
        {header: 'KIND', value: (w) => w.kind},
        {header: 'HOSTS', value: (w) => printable(hostList(w.hosts))},
        {header: 'HIGH', align: 'right', value: (w) => count(w, 'high')},
        {header: 'MEDIUM', align: 'right', value: (w) => count(w, 'medium')},
        {header: 'LOW', align: 'right', value: (w) => count(w, 'low')},
      ],
      r.workloads,
    ),
  )
  if (r.findings.length > 0) {
    const byKey = new Map(r.workloads.map((w) => [w.key, w]))
    out.push(
      renderTable(
        [
          {header: 'SEVERITY', value: (f: MergedFinding) => paint(f.severity, p)(f.severity.toUpperCase())},
          {header: 'RULE', value: (f) => f.rule},
          {header: 'WORKLOAD', value: (f) => printable(workloadLabel(byKey.get(f.workload), f.workload))},
          {header: 'HOSTS', value: (f) => printable(hostList(f.hosts))},
          {header: 'CIS', value: (f) => f.cis.join(',') || '-'},
          {header: 'REASON', value: (f) => printable(f.reason)},
        ],
        r.findings,
      ),
    )
  }
  const n = r.summary.findings
  out.push(`${r.summary.sources} inputs from ${r.summary.hosts} hosts: ${r.summary.workloads} workloads, ${p.red(`${n.high} high`)}, ${p.yellow(`${n.medium} medium`)}, ${n.low} low\n`)
  return out.join('\n')
}
