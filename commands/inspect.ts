import {Args} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {gatherReport, InspectReport} from '../src/inspect/report.js'
import {resolvePidArg} from '../src/enter/target.js'
import {renderReport} from '../src/inspect/render-report.js'
import {palette} from '../src/render/colour.js'
import {describeContainer} from '../src/container/target.js'

export default class Inspect extends NsxCommand {
  static override summary = 'Everything about one process\'s isolation: namespaces, pids, user-namespace maps, cgroups, capabilities'
  static override description = `Shows one process in full: each of its namespaces (inode, whether it is the host's, how many processes share it, its owning user namespace), its pid in every pid namespace it is nested in, its user-namespace chain with uid and gid maps, its cgroups (v1, v2 and hybrid layouts), its capabilities by name (effective, permitted, bounding, and inheritable and ambient when set), seccomp mode, no_new_privs, root and cwd, the hostname of its uts namespace, and a one-line verdict: "host process" or "isolated: pid, net, mnt, uts, ipc".

"The host's" namespace means the kernel's initial one. The kernel gives the initial uts, ipc, user, pid, cgroup and time namespaces fixed inode numbers (and, since Linux 6.18, net and mnt too); otherwise net and mnt are compared with a kernel thread's (kthreadd), which never leaves the initial namespaces.

Reading another process's namespaces needs ptrace access to it (root, or its owner); reading its hostname needs root.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> 1234', description: 'Inspect process 1234.'},
    {command: '<%= config.bin %> <%= command.id %> --json $(pgrep -n containerd-shim) | jq .verdict', description: 'The verdict for the newest container shim, for a script.'},
  ]

  static override args = {
    pid: Args.string({description: 'The process to inspect: a pid as seen from nsx\'s pid namespace, or a running container\'s name or id prefix (its init, PID 1 inside)', required: true}),
  }

  async run(): Promise<InspectReport> {
    const {args} = await this.parse(Inspect)
    const report = gatherReport(args.pid, {resolvePid: resolvePidArg})
    const container = describeContainer(args.pid)
    if (container) report.container = container
    if (!this.jsonEnabled()) process.stdout.write(renderReport(report, palette()))
    if (report.denied) process.stderr.write(`nsx inspect: ${report.denied}\n`)
    return report
  }
}
