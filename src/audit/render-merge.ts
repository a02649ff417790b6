import type {Palette} from '../render/colour.js'
import {printable} from '../render/printable.js'
import {renderTable} from '../render/table.js'
import type {AuditMergeReport, MergedWorkload} from './merge.js'
import {firstThree, renderFindingsTable, workloadLabel} from './render.js'
import type {Severity} from './types.js'


/** nsx audit merge's table: the workloads with the hosts that saw them, then the findings, then one summary line. */
export function renderMergeTable(r: AuditMergeReport, p: Palette): string {
  const out: string[] = []
  const count = (w: MergedWorkload, s: Severity) => String(r.findings.filter((f) => f.workload === w.key && f.severity === s && f.hosts.some((h) => w.hosts.includes(h))).length)
  out.push(
    renderTable(
      [
        {header: 'WORKLOAD', value: (w: MergedWorkload) => printable(workloadLabel(w, w.key))},
        {header: 'KIND', value: (w) => w.kind},
        {header: 'HOSTS', value: (w) => printable(firstThree(w.hosts))},
        {header: 'HIGH', align: 'right', value: (w) => count(w, 'high')},
        {header: 'MEDIUM', align: 'right', value: (w) => count(w, 'medium')},
        {header: 'LOW', align: 'right', value: (w) => count(w, 'low')},
      ],
      r.workloads,
    ),
  )
  if (r.findings.length > 0) {
    out.push(renderFindingsTable(r.findings, r.workloads, p, {header: 'HOSTS', value: (f) => printable(firstThree(f.hosts))}))
  }
  const n = r.summary.findings
  out.push(`${r.summary.sources} inputs from ${r.summary.hosts} hosts: ${r.summary.workloads} workloads, ${p.red(`${n.high} high`)}, ${p.yellow(`${n.medium} medium`)}, ${n.low} low\n`)
  return out.join('\n')
}
