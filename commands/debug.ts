import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {runDebug} from '../src/debug/main.js'

/**
 * `nsx debug`. bin/nsx runs it on a fast path without oclif (src/debug/main.ts); this class
 * gives it --help, its man page and its place in the command list, and runs the same code.
 */
export default class Debug extends NsxCommand {
  static override failureExitCode = 125
  static override strict = false

  static override summary = "A shell with the host's tools in a container's (or process's) namespaces, running none of its binaries"
  static override description = `Starts COMMAND (default: your $SHELL, or /bin/sh, as a login shell) in the pid, network, ipc, uts and cgroup namespaces of a running container's init (or of process PID), but never in its mount namespace: the shell's root is a new one made of the host's /usr, /bin, /sbin, /lib*, /etc and /opt, read-only (or, with --image, of a toolbox image's layers under an overlay whose changes are thrown away), with the host's /dev, a /proc of the target's pid namespace (ps lists the container's processes with their pids inside it), a read-only /sys of its network namespace, a tmpfs /tmp, and the target's root filesystem at /target, read-only unless --rw. It is also reachable as /proc/1/root (the container's init), writable as the container sees it.

So a distroless or shell-less container can be debugged, and a container that planted its own ps, sh or ls gets none of them run with the debugger's privileges: kubectl debug's ephemeral containers and docker debug are the models. The session has a pid namespace of its own nested in the target's: when its first process ends, or nsx is killed, the kernel ends every process it started, and its mounts go with its mount namespace; nothing is left in the target.

nsx enter NAME runs the container's own binaries with the container's restrictions; nsx enter -t PID is nsenter, running the target's binaries with full privileges.

Exit status: the command's; 125 when nsx fails, 126 when the command cannot be executed, 127 when it is not found.`

  static override usage = ['debug [--image IMAGE] [--rw] NAME|PID [--] [COMMAND [ARG...]]']

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: "A shell with the host's tools in container web's namespaces; its files under /target."},
    {command: '<%= config.bin %> <%= command.id %> web -- ps aux', description: "The host's ps, listing web's processes with their pids inside it."},
    {command: '<%= config.bin %> <%= command.id %> --image busybox web -- sh', description: 'Tools from a toolbox image of the store instead of the host.'},
    {command: '<%= config.bin %> <%= command.id %> 1234 -- ss -tlnp', description: "Sockets of process 1234's network namespace, with the host's ss."},
  ]

  static override args = {
    target: Args.string({description: "A container's name or unique id prefix, or a PID", required: false}),
    command: Args.string({description: 'The command and its arguments', required: false}),
  }

  static override flags = {
    image: Flags.string({description: 'Tools from this image of the store (or PATH[:TAG] of an OCI layout or docker archive) instead of the host', helpValue: 'IMAGE'}),
    rw: Flags.boolean({description: "Mount the target's root at /target writable (read-only by default)"}),
    'dry-run': Flags.boolean({description: 'Print the plan, each operation in order and the privilege it needs, and do nothing'}),
    json: Flags.boolean({description: 'With --dry-run: print the plan as JSON'}),
  }

  async run(): Promise<void> {
    const outcome = await runDebug(this.argv)
    if (outcome.kind === 'help') {
      const {loadHelpClass} = await import('@oclif/core')
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp(['debug'])
      return
    }
    process.exitCode = outcome.exitCode
  }
}
