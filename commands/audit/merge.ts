import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {failsAt} from '../../src/audit/audit.js'
import {mergeAuditFiles} from '../../src/audit/merge.js'
import {renderMergeTable} from '../../src/audit/render-merge.js'
import {AUDIT_ERROR, AUDIT_EXIT_STATUS} from '../../src/audit/settings.js'
import {SEVERITIES, Severity} from '../../src/audit/types.js'
import {palette} from '../../src/render/colour.js'

export default class AuditMerge extends NsxCommand {
  static override summary = "Join many hosts' nsx audit results into one report, each workload once"
  static override description = `Each FILE is a report saved with nsx audit --format json, or the JSON lines of nsx audit --watch --format json (what the DaemonSet in deploy/kubernetes/ writes to the cluster's logs); - reads standard input. A workload seen in several inputs is listed once: a container (docker, Kubernetes, CRI-O, containerd, podman, nsx) by its key (container id, pod UID), whichever host saw it; the host itself, systemd units and hand-made namespaces only within one host, hosts told apart by hostname. Each workload and finding names the hosts it was seen on; a finding re-graded differently on two hosts keeps the higher severity.

--format json prints one document (schema docs/schemas/nsx-audit-merge.v1.schema.json).`

  static override strict = false
  static exitStatus = AUDIT_EXIT_STATUS
  static override failureExitCode = AUDIT_ERROR

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> node-*.json', description: 'One table for every node\'s saved report.'},
    {command: 'kubectl logs -n nsx-audit -l app=nsx-audit --tail=-1 | <%= config.bin %> <%= command.id %> --format json - > fleet.json', description: 'The DaemonSet\'s findings from every node, joined.'},
  ]

  static override args = {
    file: Args.string({description: 'nsx audit --format json reports or --watch --format json output; - for standard input', required: true}),
  }

  static override flags = {
    format: Flags.option({char: 'f', description: 'Output format', options: ['table', 'json'] as const, default: 'table' as const})(),
    'fail-on': Flags.option({description: 'Exit 1 when a finding of this severity or higher is in the merged report', options: SEVERITIES})(),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(AuditMerge)
    const report = mergeAuditFiles(argv as string[])
    if (flags.format === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    else process.stdout.write(renderMergeTable(report, palette(process.stdout)))
    const failOn = flags['fail-on'] as Severity | undefined
    process.exitCode = failOn !== undefined && failsAt(report, failOn) ? 1 : 0
  }
}
