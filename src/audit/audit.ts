import {createHash} from 'node:crypto'
import {hostname, release} from 'node:os'
import {NsxError} from '../cli/errors.js'
import {PROC_ROOT, SYS_ROOT, readText} from '../proc/fs.js'
import {readSharedFacts} from '../inspect/report.js'
import {PidResolver, pidOrOclif} from '../proc/target.js'
import {FactCache, gatherFacts} from './facts.js'
import {RULES, Rule} from './rules.js'
import {AUDIT_ERROR, ruleStates} from './settings.js'
import {readBaseline} from './baseline.js'
import {Scan, ScannedWorkload, scanWorkloads} from './workloads.js'
import {AUDIT_SCHEMA_VERSION, AuditFinding, AuditHost, AuditReport, AuditUnchecked, AuditWorkload, SEVERITIES, Severity} from './types.js'

/**
 * `nsx audit`: every workload of the host (or those of the pids and containers given) judged
 * by the rules in force. One function for the CLI and any other door; renderers in render.ts.
 */
export interface AuditOptions {
  /** PID or nsx container name or id: only their workloads. */
  targets?: string[]
  /** --rules FILE. */
  rulesFile?: string
  /** --baseline FILE. */
  baselineFile?: string
  procRoot?: string
  sysRoot?: string
  /** A target -> its pid: the commands layer's resolver knows container names; the default takes pids only. */
  resolvePid?: PidResolver
}

/** One run's fixed parts, kept by --watch between audits. */
export interface AuditContext {
  host: AuditHost
  rules: ReturnType<typeof ruleStates>
  baseline?: {file: string; fingerprints: Set<string>}
  procRoot: string
  sysRoot: string
}

export function auditContext(opts: AuditOptions = {}): AuditContext {
  const procRoot = opts.procRoot ?? PROC_ROOT
  return {
    host: readHost(procRoot),
    rules: ruleStates(opts.rulesFile),
    ...(opts.baselineFile !== undefined ? {baseline: {file: opts.baselineFile, fingerprints: readBaseline(opts.baselineFile)}} : {}),
    procRoot,
    sysRoot: opts.sysRoot ?? SYS_ROOT,
  }
}

export function readHost(procRoot = PROC_ROOT): AuditHost {
  return {
    hostname: hostname(),
    machineId: readText('/etc/machine-id')?.trim() || null,
    bootId: readText(`${procRoot}/sys/kernel/random/boot_id`)?.trim() || null,
    kernel: release(),
  }
}

/** The pids of the targets (a pid as typed, or a running nsx container's name or id). */
export function resolveTargets(targets: readonly string[], resolvePid: PidResolver = pidOrOclif): Set<number> {
  const pids = new Set<number>()
  for (const t of targets) {
    try {
      pids.add(resolvePid(t))
    } catch (err) {
      if (err instanceof NsxError) throw new NsxError(err.message, AUDIT_ERROR)
      throw err
    }
  }
  return pids
}

export function runAudit(opts: AuditOptions = {}, ctx = auditContext(opts)): AuditReport {
  const pids = opts.targets && opts.targets.length > 0 ? resolveTargets(opts.targets, opts.resolvePid) : undefined
  const shared = readSharedFacts(ctx.procRoot, ctx.sysRoot)
  const scan = scanWorkloads({procRoot: ctx.procRoot, shared, ...(pids ? {pids} : {})})
  if (pids) {
    const found = new Set(scan.workloads.flatMap((w) => w.pids))
    const gone = [...pids].filter((p) => !found.has(p))
    if (gone.length > 0) throw new NsxError(`no such process: ${gone.join(', ')} (it exited, or it is a kernel thread)`, AUDIT_ERROR)
  }
  return judge(scan, ctx, new FactCache(shared, ctx.procRoot))
}

/** Judge every workload of a scan. */
export function judge(scan: Scan, ctx: AuditContext, cache: FactCache): AuditReport {
  const enabled = ctx.rules.filter((s) => s.enabled).map((s) => ({state: s, rule: RULES.find((r) => r.id === s.id)!}))
  const findings: AuditFinding[] = []
  const unchecked: AuditUnchecked[] = []
  const workloads: AuditWorkload[] = []
  for (const w of scan.workloads) {
    const judged = w.kind !== 'host' && w.kind !== 'systemd'
    workloads.push(describeWorkload(w, judged, ctx.procRoot))
    if (!judged) continue
    const r = judgeWorkload(w, enabled, ctx, cache)
    findings.push(...r.findings)
    unchecked.push(...r.unchecked)
  }
  let suppressed = 0
  const fresh = ctx.baseline
    ? findings.filter((f) => {
        const old = ctx.baseline!.fingerprints.has(f.fingerprint)
        if (old) suppressed++
        return !old
      })
    : findings
  const rank = (s: Severity) => SEVERITIES.indexOf(s)
  fresh.sort((a, b) => rank(b.severity) - rank(a.severity) || a.workload.localeCompare(b.workload) || a.rule.localeCompare(b.rule))
  const count = {low: 0, medium: 0, high: 0}
  for (const f of fresh) count[f.severity]++
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    time: new Date().toISOString(),
    host: ctx.host,
    user: {uid: process.getuid?.() ?? -1, root: process.geteuid?.() === 0},
    rules: ctx.rules,
    workloads,
    findings: fresh,
    unchecked,
    ...(ctx.baseline ? {baseline: {file: ctx.baseline.file, suppressed}} : {}),
    summary: {processes: scan.processes, workloads: workloads.length, findings: count},
  }
}

export function judgeWorkload(w: ScannedWorkload, enabled: {state: {severity: Severity}; rule: Rule}[], ctx: AuditContext, cache: FactCache): {findings: AuditFinding[]; unchecked: AuditUnchecked[]} {
  const byRule = new Map<string, AuditFinding>()
  const why = new Map<string, string>()
  for (const cls of w.classes) {
    const facts = gatherFacts(w.processes.get(cls.pid)!, cache)
    for (const {state, rule} of enabled) {
      const o = rule.check(facts)
      if (o === undefined) continue
      if ('unchecked' in o) {
        if (!why.has(rule.id)) why.set(rule.id, o.unchecked)
        continue
      }
      const had = byRule.get(rule.id)
      if (had) {
        had.pids.push(...cls.pids)
        continue
      }
      byRule.set(rule.id, {
        rule: rule.id,
        severity: state.severity,
        workload: w.key,
        pids: [...cls.pids],
        reason: o.reason,
        evidence: o.evidence,
        cis: rule.cis,
        pss: rule.pss,
        fingerprint: fingerprint(ctx.host, w.key, rule.id),
      })
    }
  }
  const findings = [...byRule.values()]
  for (const f of findings) f.pids.sort((a, b) => a - b)
  // A rule found on one class of the workload was checked there: no "could not check" beside it.
  const unchecked = [...why].filter(([rule]) => !byRule.has(rule)).map(([rule, reason]) => ({rule, workload: w.key, why: reason}))
  return {findings, unchecked}
}

export function fingerprint(host: AuditHost, workload: string, rule: string): string {
  return createHash('sha256').update(`${host.machineId ?? host.hostname}\n${workload}\n${rule}`).digest('hex').slice(0, 16)
}

function describeWorkload(w: ScannedWorkload, judged: boolean, procRoot: string): AuditWorkload {
  const cmd = readText(`${procRoot}/${w.pid}/cmdline`)?.replace(/\0+$/, '').replace(/\0/g, ' ')
  return {
    key: w.key,
    kind: w.kind,
    id: w.id,
    name: w.name,
    ...(w.pod ? {pod: w.pod} : {}),
    cgroup: w.cgroup,
    pids: w.pids,
    pid: w.pid,
    command: cmd || `[${w.processes.get(w.pid)?.status().name ?? '?'}]`,
    namespaces: w.namespaces,
    judged,
  }
}

/** Whether any finding is at or above the level (--fail-on). */
export function failsAt(report: Pick<AuditReport, 'findings'>, level: Severity): boolean {
  return report.findings.some((f) => SEVERITIES.indexOf(f.severity) >= SEVERITIES.indexOf(level))
}
