import {readFileSync} from 'node:fs'
import {fileErrorReason, NsxError} from '../cli/errors.js'
import {AUDIT_ERROR} from './settings.js'
import {AUDIT_SCHEMA_VERSION, AuditEvent, AuditFinding, AuditHost, AuditReport, AuditUnchecked, AuditWorkload, SEVERITIES, Severity, WorkloadKind} from './types.js'

/**
 * `nsx audit merge FILE...`: many hosts' audit results joined into one. Each FILE is a saved
 * `nsx audit --format json` report or the JSON lines of `nsx audit --watch --format json` (what
 * the DaemonSet in deploy/kubernetes/ writes to the cluster's logs). A workload seen in several
 * inputs is one workload: a container (docker, Kubernetes, CRI-O, containerd, podman, nsx) by
 * its key, whichever host saw it; the host itself, a systemd unit and hand-made namespaces only
 * within one host (every host has its own `host` and `systemd:sshd.service`), hosts told apart by
 * hostname. Each finding names the hosts it was seen on.
 */

/** Kinds whose key names the same workload on every host: a runtime's container id, a pod's UID. */
const LOCAL_KINDS: ReadonlySet<WorkloadKind> = new Set(['host', 'systemd', 'namespaces'])

export interface MergedWorkload extends AuditWorkload {
  /** Hostnames of the inputs that saw it (one for the host, a systemd unit or hand-made namespaces). */
  hosts: string[]
}

export interface MergedFinding extends AuditFinding {
  /** Hostnames it was found on. `pids` and `evidence` are the first input's (pids as its pid namespace numbers them). */
  hosts: string[]
}

export interface MergedUnchecked extends AuditUnchecked {
  hosts: string[]
}

/** One input file, as read. */
export interface MergeSource {
  file: string
  /** A full report, or --watch's finding lines. */
  form: 'report' | 'events'
  /** The hostname it was made on (each of them, for events from several hosts). */
  hosts: string[]
  /** When it was made (a report), or its last event's time. */
  time: string | null
  /** A report's host in full (machine id, boot id, kernel); null for events. */
  host: AuditHost | null
  findings: number
}

/** What `nsx audit merge --format json` prints (schema docs/schemas/nsx-audit-merge.v1.schema.json). */
export interface AuditMergeReport {
  schemaVersion: typeof AUDIT_SCHEMA_VERSION
  /** When the merge ran, ISO 8601 UTC. */
  time: string
  sources: MergeSource[]
  /** Every hostname seen, sorted. */
  hosts: string[]
  /** Sorted by key, then first host. */
  workloads: MergedWorkload[]
  /** High first, then by workload, rule and first host. */
  findings: MergedFinding[]
  unchecked: MergedUnchecked[]
  summary: {
    sources: number
    hosts: number
    workloads: number
    findings: Record<Severity, number>
  }
}

const fail = (msg: string): never => {
  throw new NsxError(msg, AUDIT_ERROR)
}

/** The workload's identity across inputs. */
function identity(hostname: string, w: Pick<AuditWorkload, 'key' | 'kind'>): string {
  return LOCAL_KINDS.has(w.kind) ? `${hostname}\0${w.key}` : w.key
}

const rank = (s: Severity) => SEVERITIES.indexOf(s)

function addHost(list: string[], host: string): void {
  if (!list.includes(host)) list.push(host)
}

function isReport(d: unknown): d is AuditReport {
  const r = d as Partial<AuditReport>
  return typeof r === 'object' && r !== null && typeof r.host?.hostname === 'string' && Array.isArray(r.workloads) && Array.isArray(r.findings)
}

function isEvent(d: unknown): d is AuditEvent {
  const e = d as Partial<AuditEvent>
  return typeof e === 'object' && e !== null && typeof e.host === 'string' && typeof e.workload?.key === 'string' && typeof e.finding?.rule === 'string'
}

/** A file: one report, or JSON lines of events. Anything else is refused in one line (exit 2). */
export function readAuditInput(file: string): {source: MergeSource; reports: AuditReport[]; events: AuditEvent[]} {
  let text: string
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8')
  } catch (err) {
    return fail(`cannot read ${file}: ${fileErrorReason(err)}`)
  }
  let whole: unknown
  try {
    whole = JSON.parse(text)
  } catch {
    whole = undefined // JSON lines, or not JSON at all
  }
  if (whole !== undefined) {
    if (isReport(whole)) {
      if (whole.schemaVersion !== AUDIT_SCHEMA_VERSION) fail(`${file}: audit schema version ${String(whole.schemaVersion)}, this nsx reads version ${AUDIT_SCHEMA_VERSION}`)
      const source: MergeSource = {file, form: 'report', hosts: [whole.host.hostname], time: whole.time, host: whole.host, findings: whole.findings.length}
      return {source, reports: [whole], events: []}
    }
    if (!isEvent(whole)) fail(`${file} is not an nsx audit --format json report or --watch output`)
  }
  const events: AuditEvent[] = []
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    let doc: unknown
    try {
      doc = JSON.parse(line)
    } catch {
      return fail(`${file}: line ${i + 1} is not JSON (expected an nsx audit --format json report or --watch output)`)
    }
    if (!isEvent(doc)) return fail(`${file}: line ${i + 1} is not an nsx audit finding (expected nsx audit --watch --format json lines)`)
    if (doc.schemaVersion !== AUDIT_SCHEMA_VERSION) fail(`${file}: line ${i + 1}: audit schema version ${String(doc.schemaVersion)}, this nsx reads version ${AUDIT_SCHEMA_VERSION}`)
    events.push(doc)
  }
  if (events.length === 0) fail(`${file} is empty (expected an nsx audit --format json report or --watch output)`)
  const hosts: string[] = []
  for (const e of events) addHost(hosts, e.host)
  const source: MergeSource = {file, form: 'events', hosts, time: events[events.length - 1].time, host: null, findings: events.length}
  return {source, reports: [], events}
}

/** Join the files' reports and events, in the order given. */
export function mergeAuditFiles(files: readonly string[], now = new Date()): AuditMergeReport {
  if (files.length === 0) fail('no files to merge (nsx audit merge FILE...)')
  if (files.filter((f) => f === '-').length > 1) fail('only one file can be standard input (-)')
  return mergeAudits(files.map(readAuditInput), now)
}

export function mergeAudits(inputs: readonly ReturnType<typeof readAuditInput>[], now = new Date()): AuditMergeReport {
  const workloads = new Map<string, MergedWorkload>()
  const findings = new Map<string, MergedFinding>()
  const unchecked = new Map<string, MergedUnchecked>()

  const addWorkload = (host: string, w: AuditWorkload): string => {
    const id = identity(host, w)
    const seen = workloads.get(id)
    if (seen) addHost(seen.hosts, host)
    else workloads.set(id, {...w, hosts: [host]})
    return id
  }
  const addFinding = (host: string, workloadId: string, f: AuditFinding) => {
    const id = `${workloadId}\0${f.rule}`
    const seen = findings.get(id)
    if (!seen) return findings.set(id, {...f, hosts: [host]})
    addHost(seen.hosts, host)
    if (rank(f.severity) > rank(seen.severity)) seen.severity = f.severity
  }

  for (const input of inputs) {
    for (const r of input.reports) {
      const host = r.host.hostname
      const ids = new Map<string, string>()
      for (const w of r.workloads) ids.set(w.key, addWorkload(host, w))
      for (const f of r.findings) addFinding(host, ids.get(f.workload) ?? `${host}\0${f.workload}`, f)
      for (const u of r.unchecked) {
        const wid = u.workload === '*' ? `${host}\0*` : (ids.get(u.workload) ?? `${host}\0${u.workload}`)
        const id = `${wid}\0${u.rule}\0${u.why}`
        const seen = unchecked.get(id)
        if (seen) addHost(seen.hosts, host)
        else unchecked.set(id, {...u, hosts: [host]})
      }
    }
    for (const e of input.events) addFinding(e.host, addWorkload(e.host, e.workload), e.finding)
  }

  const first = (x: {hosts: string[]}) => x.hosts[0] ?? ''
  const outWorkloads = [...workloads.values()].sort((a, b) => a.key.localeCompare(b.key) || first(a).localeCompare(first(b)))
  const outFindings = [...findings.values()].sort(
    (a, b) => rank(b.severity) - rank(a.severity) || a.workload.localeCompare(b.workload) || a.rule.localeCompare(b.rule) || first(a).localeCompare(first(b)),
  )
  for (const x of [...outWorkloads, ...outFindings]) x.hosts.sort()
  const hosts = [...new Set(inputs.flatMap((i) => i.source.hosts))].sort()
  const count: Record<Severity, number> = {low: 0, medium: 0, high: 0}
  for (const f of outFindings) count[f.severity]++
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    time: now.toISOString(),
    sources: inputs.map((i) => i.source),
    hosts,
    workloads: outWorkloads,
    findings: outFindings,
    unchecked: [...unchecked.values()],
    summary: {sources: inputs.length, hosts: hosts.length, workloads: outWorkloads.length, findings: count},
  }
}
