/**
 * The shape of `nsx audit`'s results: one report type that the table, JSON and SARIF
 * renderers draw from, and that `nsx audit merge` joins across hosts. Its JSON form is
 * docs/schemas/nsx-audit.v1.schema.json (AuditOutput in man/schema-types.ts); --watch --format
 * json prints one AuditEvent per line (nsx-audit-event.v1.schema.json).
 *
 * Versioning: `schemaVersion` is 1. A field added keeps the version; a field removed,
 * renamed or retyped is version 2 in a new schema file, the old one kept.
 */

export const AUDIT_SCHEMA_VERSION = 1 as const

export type Severity = 'low' | 'medium' | 'high'

/** Lowest first: the order --fail-on compares in. */
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high']

/**
 * What ran the workload, told from its cgroup path (and, for `namespaces`, its namespaces):
 * - docker: `docker-<id>.scope` (systemd driver) or `/docker/<id>` (cgroupfs driver)
 * - kubernetes: a `kubepods` path with the pod's UID and the container's id (containerd's CRI)
 * - crio: `crio-<id>.scope` or `/crio/<id>` (under kubepods too: the pod UID is then set)
 * - containerd: a container of containerd without Kubernetes (`/<namespace>/<id>`, below a containerd path)
 * - podman: `libpod-<id>.scope` or `/libpod_parent/libpod-<id>`
 * - nsx: the `nsx-NAME-ID8` cgroup nsx run makes for each container
 * - systemd: a systemd unit (`*.service`) that is none of the above
 * - namespaces: processes whose namespaces differ from the host's, in no container cgroup (made by hand: unshare, ip netns exec, ...)
 * - host: everything else (the host's own processes); listed, not judged
 */
export type WorkloadKind = 'host' | 'docker' | 'kubernetes' | 'crio' | 'containerd' | 'podman' | 'nsx' | 'systemd' | 'namespaces'

export interface AuditWorkload {
  /**
   * Unique within a host, stable between runs while the workload lives: `KIND:ID`
   * (`docker:<64 hex>`, `kubernetes:<pod uid>/<container id>`, `nsx:<name>-<id8>`,
   * `systemd:<unit>`, `namespaces:<pid ns inode>-<mnt ns inode>-<net ns inode>`, `host`).
   * `nsx audit merge` deduplicates by host and key.
   */
  key: string
  kind: WorkloadKind
  /** The runtime's id: container id, unit name; null for the host and hand-made namespaces. */
  id: string | null
  /** A name when the runtime gives one (nsx container name, systemd unit), else null. */
  name: string | null
  /** Kubernetes: the pod's UID, from the kubepods cgroup path. */
  pod?: string
  /** The cgroup path it was recognised by (the first hierarchy that named it), null when none. */
  cgroup: string | null
  /** Its processes, as nsx's pid namespace numbers them, ascending. */
  pids: number[]
  /** The process the workload is named by (its topmost: whose parent is outside it). */
  pid: number
  /** That process's command line. */
  command: string
  /** Its namespaces: type -> inode, and whether each is the host's (null: unknown). */
  namespaces: {type: string; inode: number; host: boolean | null}[]
  /** Whether the rules were applied (false for `host` and `systemd` workloads). */
  judged: boolean
}

/** One field read from /proc or /sys that a finding rests on. */
export interface AuditEvidence {
  /** Where it was read: `/proc/1234/status:CapBnd`, `/proc/1234/mountinfo`, `/sys/fs/cgroup/memory/.../memory.limit_in_bytes`. */
  source: string
  /** What it said (trimmed to the part that matters). */
  value: string
}

/** A control of the Kubernetes Pod Security Standards. */
export interface PssReference {
  level: 'baseline' | 'restricted'
  /** The control's name as the standard gives it: "Host Namespaces", "Capabilities", ... */
  control: string
}

export interface AuditFinding {
  /** The rule's id (docs/audit.md lists them): `privileged`, `host-pid-namespace`, ... */
  rule: string
  /** After --rules re-grading. */
  severity: Severity
  /** AuditWorkload.key. */
  workload: string
  /** The processes of the workload it holds for (ascending); the first is the one whose evidence is shown. */
  pids: number[]
  /** One line: what is wrong. */
  reason: string
  evidence: AuditEvidence[]
  /** CIS Docker Benchmark section 5 recommendation numbers, e.g. ["5.4"]; [] when none. */
  cis: string[]
  /** Pod Security Standards controls; [] when none. */
  pss: PssReference[]
  /** A stable identity across runs (for --baseline): sha256 of host, workload key and rule, 16 hex digits. */
  fingerprint: string
}

/** A rule that could not be checked on a workload, and why (an ordinary user, a file the kernel does not have). */
export interface AuditUnchecked {
  rule: string
  /** AuditWorkload.key, or "*" for every workload. */
  workload: string
  why: string
}

/** A rule as it was in force for this run (after --rules). */
export interface AuditRuleState {
  id: string
  severity: Severity
  enabled: boolean
}

export interface AuditHost {
  hostname: string
  /** /etc/machine-id, null when absent. */
  machineId: string | null
  /** /proc/sys/kernel/random/boot_id. */
  bootId: string | null
  /** uname -r. */
  kernel: string
}

export interface AuditReport {
  schemaVersion: typeof AUDIT_SCHEMA_VERSION
  /** When the audit ran, ISO 8601 UTC. */
  time: string
  host: AuditHost
  /** Who ran it: an ordinary user sees less (see unchecked). */
  user: {uid: number; root: boolean}
  rules: AuditRuleState[]
  workloads: AuditWorkload[]
  /** High first, then by workload and rule. */
  findings: AuditFinding[]
  unchecked: AuditUnchecked[]
  /** With --baseline: the file, and how many findings it already held (left out of `findings`). */
  baseline?: {file: string; suppressed: number}
  summary: {
    processes: number
    workloads: number
    /** Findings by severity. */
    findings: Record<Severity, number>
  }
}

/** --watch --format json: one line per finding, as a workload appears or changes. */
export interface AuditEvent {
  schemaVersion: typeof AUDIT_SCHEMA_VERSION
  time: string
  /** AuditHost.hostname. */
  host: string
  workload: AuditWorkload
  finding: AuditFinding
}
