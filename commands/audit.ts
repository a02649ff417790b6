import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {AUDIT_FORMATS, AuditFormat, executeAudit} from '../src/audit/main.js'
import {AUDIT_ERROR, AUDIT_EXIT_STATUS} from '../src/audit/settings.js'
import {SEVERITIES, Severity} from '../src/audit/types.js'
import {resolvePidArg} from '../src/enter/target.js'

export default class Audit extends NsxCommand {
  static override summary = "Judge every workload's isolation on this host against CIS Docker and Pod Security rules"
  static override description = `Groups the host's processes into workloads from what the kernel holds (their cgroup paths and namespaces): docker, Kubernetes pods (containerd, CRI-O), CRI-O, containerd, podman and nsx containers, systemd units, hand-made namespaces (unshare, ip netns), and the host itself. Each container and hand-made workload is checked against rules (nsx audit --list-rules; docs/audit.md), each with an id, a severity, a one-line reason, the evidence (the /proc and /sys fields read) and its CIS Docker Benchmark (section 5) and Kubernetes Pod Security Standards references: privileged, the host's pid, network, mount, IPC, UTS, user and cgroup namespaces shared, dangerous capabilities, CAP_NET_RAW, capabilities not dropped, no seccomp filter, no_new_privs unset, uid 0 that is the host's, sensitive host paths and runtime sockets mounted, writable /proc/sys and /sys, no memory or pids limit, no device allow-list, a writable root filesystem. The host and systemd units are listed, not judged.

--format json prints one document (schema docs/schemas/nsx-audit.v1.schema.json), --format sarif SARIF 2.1.0 for code-scanning tools. --rules FILE enables, disables or re-grades rules (JSON: {"no-pids-limit": "off", "root-user": "high"}); --baseline FILE (a saved --format json report) reports only findings that are new since. --watch keeps auditing as workloads start (woken by cgroup directories being made, and every --interval seconds) and prints each finding once, one JSON line each with --format json.

As an ordinary user it sees less (another user's namespaces need ptrace access): what it could not check is listed, with why.`

  static override strict = false
  static exitStatus = AUDIT_EXIT_STATUS
  static override failureExitCode = AUDIT_ERROR

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every workload on this host.'},
    {command: '<%= config.bin %> <%= command.id %> web 4242', description: 'Only nsx container web and the workload of pid 4242.'},
    {command: '<%= config.bin %> <%= command.id %> --format sarif > audit.sarif', description: 'For a code-scanning dashboard.'},
    {command: '<%= config.bin %> <%= command.id %> --format json > base.json && <%= config.bin %> <%= command.id %> --baseline base.json --fail-on high', description: 'Fail on a high finding that is new since the saved run.'},
    {command: '<%= config.bin %> <%= command.id %> --watch --format json', description: 'One JSON line per finding, as workloads start.'},
  ]

  static override args = {
    target: Args.string({description: 'Only the workloads of these processes: pids, or running nsx containers (name or id prefix)', required: false}),
  }

  static override flags = {
    format: Flags.option({char: 'f', description: 'Output format', options: AUDIT_FORMATS, default: 'table' as AuditFormat})(),
    'fail-on': Flags.option({description: 'Exit 1 when a finding of this severity or higher is reported', options: SEVERITIES})(),
    rules: Flags.string({description: 'Enable, disable or re-grade rules (JSON: rule id to "off", "on", or a severity)', helpValue: 'FILE'}),
    baseline: Flags.string({description: 'Report only findings not in this saved nsx audit --format json report', helpValue: 'FILE'}),
    watch: Flags.boolean({char: 'w', description: 'Keep auditing as workloads start; print each finding once'}),
    interval: Flags.integer({description: 'With --watch: seconds between full audits when no cgroup was made', default: 60, min: 1, helpValue: 'SECONDS'}),
    'list-rules': Flags.boolean({description: 'List the rules (after --rules) and exit'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Audit)
    process.exitCode = await executeAudit({
      format: flags.format,
      failOn: flags['fail-on'] as Severity | undefined,
      rulesFile: flags.rules,
      baselineFile: flags.baseline,
      watch: flags.watch,
      interval: flags.interval,
      listRules: flags['list-rules'],
      targets: argv as string[],
      resolvePid: resolvePidArg,
    })
  }
}
