import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {deniedNote, gatherReport, InspectReport} from '../src/inspect/report.js'
import {resolvePidArg} from '../src/enter/target.js'
import {renderReport} from '../src/inspect/render-report.js'
import {palette} from '../src/render/colour.js'
import {describeContainer} from '../src/container/target.js'
import {NsxError} from '../src/cli/errors.js'
import {wantsDockerView} from '../src/inspect/main.js'
import {ContainerInspect, dockerInspect} from '../src/lifecycle/inspect.js'
import {Store} from '../src/store/store.js'

export default class Inspect extends NsxCommand {
  static override summary = 'Everything about one process\'s isolation: namespaces, pids, user-namespace maps, cgroups, capabilities'
  static override description = `Shows one process in full: each of its namespaces (inode, whether it is the host's, how many processes share it, its owning user namespace), its pid in every pid namespace it is nested in, its user-namespace chain with uid and gid maps, its cgroups (v1, v2 and hybrid layouts), its capabilities by name (effective, permitted, bounding, and inheritable and ambient when set), seccomp mode, no_new_privs, root and cwd, the hostname of its uts namespace, and a one-line verdict: "host process" or "isolated: pid, net, mnt, uts, ipc".

"The host's" namespace means the kernel's initial one. The kernel gives the initial uts, ipc, user, pid, cgroup and time namespaces fixed inode numbers (and, since Linux 6.18, net and mnt too); otherwise net and mnt are compared with a kernel thread's (kthreadd), which never leaves the initial namespaces.

Reading another process's namespaces needs ptrace access to it (root, or its owner); reading its hostname needs root.

Given a running container's name, this report is about its init (PID 1 inside): the debugging view of its isolation. docker's inspect of the container itself (its configuration and state, any state, as JSON) is --type container, or nsx container inspect; -f/--format TEMPLATE (implies --type container) prints a field of it with docker's Go template ({{.State.Pid}}, {{json .Config}}, {{range .Mounts}}{{.Source}} {{end}}), one line per container.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> 1234', description: 'Inspect process 1234.'},
    {command: '<%= config.bin %> <%= command.id %> --json $(pgrep -n containerd-shim) | jq .verdict', description: 'The verdict for the newest container shim, for a script.'},
    {command: '<%= config.bin %> <%= command.id %> -f "{{.State.Pid}}" web', description: "Container web's init pid, as docker inspect -f prints it."},
    {command: '<%= config.bin %> <%= command.id %> --type container web db', description: "docker's JSON of two containers (running or not)."},
  ]

  static override strict = false

  static override flags = {
    type: Flags.string({description: "process: nsx's report of a process's isolation (the default); container: docker's JSON of containers (as nsx container inspect)", options: ['process', 'container'], helpValue: 'TYPE'}),
    format: Flags.string({char: 'f', description: "docker's Go template over the container's JSON, one line per container (implies --type container)", helpValue: 'TEMPLATE'}),
  }

  static override args = {
    pid: Args.string({description: 'The process to inspect: a pid as seen from nsx\'s pid namespace, or a running container\'s name or id prefix (its init, PID 1 inside)', required: true}),
  }

  async run(): Promise<InspectReport | ContainerInspect[]> {
    const {args, argv, flags} = await this.parse(Inspect)
    if (wantsDockerView(flags.type, flags.format)) {
      const {text, objects} = await dockerInspect(Store.open(undefined, {create: false}), argv as string[], flags.format)
      if (!this.jsonEnabled()) process.stdout.write(text)
      return objects
    }
    if (argv.length > 1) throw new NsxError(`unexpected argument: ${argv[1]} (one pid; several containers with --type container)`)
    const report = gatherReport(args.pid, {resolvePid: resolvePidArg})
    const container = describeContainer(args.pid)
    if (container) report.container = container
    if (!this.jsonEnabled()) process.stdout.write(renderReport(report, palette()))
    const note = deniedNote(report)
    if (note) process.stderr.write(`${note}\n`)
    return report
  }
}
