import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {COMMAND_EXIT_STATUS} from '../src/cli/exit-status.js'
import {runEnter} from '../src/enter/main.js'

/**
 * `nsx enter`. bin/nsx normally runs it on a fast path that never loads oclif
 * (src/enter/main.ts, parsed like nsenter by src/cli/getopt.ts); this class gives it
 * --help, its man page and its place in the command list, and runs the same code.
 */
export default class Enter extends NsxCommand {
  static override failureExitCode = 125
  static exitStatus = COMMAND_EXIT_STATUS
  static override strict = false

  static override summary = "Run a command or a shell in another process's namespaces (nsenter's flags, letter for letter)"
  static override description = `Enters the namespaces of a target process, then runs COMMAND (default: $SHELL, or /bin/sh, as a login shell). When the mount namespace is entered (as with -a, or no namespace named), COMMAND and the shell come from the target's filesystem, looked up in the PATH given to nsx, and run with the caller's full privileges: a binary the target planted there (a ps in /usr/local/bin) runs as root with every capability. Use nsx exec (or nsx enter NAME) to run a container's binaries with the container's restrictions, and nsx debug to bring the host's tools instead.

A container NAME (or a unique prefix of its id) instead of a PID: nsx enter NAME [--] [COMMAND] runs COMMAND (default: the container's /bin/sh) as nsx exec -i NAME does, with the container's namespaces, cgroups, capabilities, no_new_privs, user, environment and working directory, never the debugger's privileges; --privileged gives nsenter's full privileges in all of the container's namespaces instead. nsenter's options other than --privileged do not apply to a NAME.

The options are util-linux nsenter's, with its rules: the user namespace is entered first when that is what grants the privilege to enter the others, and last otherwise; one's own user namespace is never re-entered; in a new user namespace the uid and gid become 0 unless --preserve-credentials; entering a pid namespace forks, since only children join it.

Options come first: as with nsenter, the first word that is not an option ends them, and -m/path or --mount=/path (never -m /path) gives an optional value. Without -t, a leading PID or NAME names the target (nsx enter 1234 ps; nsx enter web -- ps aux: a -- after it is dropped), unless a namespace is given by its FILE; a thread id names that thread, whose namespaces may differ from its process's. When no namespace is named, all of the target's are entered, as with -a; with -a, a namespace the target shares with us that we may not enter (an unprivileged user's rootless container keeps the host's cgroup namespace) is skipped instead of failing as nsenter does. A namespace option with a FILE (-n=/run/netns/x, --net=/run/netns/x) enters the namespace that file holds instead of the target's.

The target is pinned with a pidfd from the moment nsx resolves it to the last setns: if it exits, or its pid is reused by another process, nsx fails and never enters another process's namespaces.

Node does not stay around: nsx execs a small native executor (native/build/nsx-exec) that performs the plan and execs the command, so the terminal, job control, signals and the exit status behave as under nsenter. Beyond nsenter: --mount-proc mounts a private /proc of the target's pid namespace (in a mount namespace of its own, leaving the target's untouched) so ps shows that namespace's processes, and --dry-run prints every operation in order with the privilege it needs.

Exit status: the command's own; 125 when nsx fails (bad usage included), 126 when the command cannot be executed, 127 when it is not found. A command killed by a signal makes nsx die of the same signal.`

  static override usage = ['enter [OPTIONS] [-t] PID [--] [COMMAND [ARG...]]', 'enter [--privileged] NAME [--] [COMMAND [ARG...]]', 'enter [OPTIONS] -m=FILE ... [COMMAND [ARG...]]']

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> 1234', description: 'A login shell in every namespace of process 1234.'},
    {command: '<%= config.bin %> <%= command.id %> -t 1234 -n ip addr', description: 'Only its network namespace.'},
    {command: '<%= config.bin %> <%= command.id %> -t 1234 -a --mount-proc ps aux', description: 'ps sees the processes of its pid namespace.'},
    {command: '<%= config.bin %> <%= command.id %> --net=/run/netns/blue ip link', description: 'A network namespace kept by ip netns.'},
    {command: '<%= config.bin %> <%= command.id %> -t 1234 -a --dry-run', description: 'What would be done, and the capabilities each step needs.'},
    {command: '<%= config.bin %> <%= command.id %> web -- ps aux', description: "Container web's ps, with the container's restrictions (as nsx exec)."},
  ]

  static override args = {
    command: Args.string({description: 'PID (without -t), then the command and its arguments', required: false}),
  }

  static override flags = {
    all: Flags.boolean({char: 'a', description: 'Enter all namespaces of the target (except our own user namespace); the default when none is named'}),
    target: Flags.string({char: 't', description: 'The target process whose namespaces to enter', helpValue: 'PID'}),
    mount: Flags.string({char: 'm', description: 'Enter the mount namespace of the target; with =FILE (-m=FILE, --mount=FILE) the one FILE holds', helpValue: 'FILE'}),
    uts: Flags.string({char: 'u', description: 'Enter the UTS namespace (hostname, domain name); =FILE: the one FILE holds', helpValue: 'FILE'}),
    ipc: Flags.string({char: 'i', description: 'Enter the System V IPC namespace; =FILE: the one FILE holds', helpValue: 'FILE'}),
    net: Flags.string({char: 'n', description: 'Enter the network namespace; =FILE: the one FILE holds', helpValue: 'FILE'}),
    'net-socket': Flags.string({char: 'N', description: 'Enter the network namespace of the target\'s socket FD (needs -t)', helpValue: 'FD'}),
    pid: Flags.string({char: 'p', description: 'Enter the pid namespace (the command runs as a child, in it); =FILE: the one FILE holds', helpValue: 'FILE'}),
    cgroup: Flags.string({char: 'C', description: 'Enter the cgroup namespace; =FILE: the one FILE holds', helpValue: 'FILE'}),
    user: Flags.string({char: 'U', description: 'Enter the user namespace; =FILE: the one FILE holds', helpValue: 'FILE'}),
    time: Flags.string({char: 'T', description: 'Enter the time namespace; =FILE: the one FILE holds', helpValue: 'FILE'}),
    'user-parent': Flags.boolean({description: 'Enter the parent of the user namespace instead'}),
    setuid: Flags.string({char: 'S', description: 'Set the uid in the entered namespaces; follow: the target\'s', helpValue: 'UID|follow'}),
    setgid: Flags.string({char: 'G', description: 'Set the gid in the entered namespaces; follow: the target\'s', helpValue: 'GID|follow'}),
    'preserve-credentials': Flags.boolean({description: 'Keep uid, gid and groups when entering a user namespace (instead of 0)'}),
    'keep-caps': Flags.boolean({description: 'Keep the capabilities granted in the user namespace across exec (as ambient capabilities)'}),
    root: Flags.string({char: 'r', description: 'Set the root directory: the target\'s, or DIR given as -r=DIR or --root=DIR', helpValue: 'DIR'}),
    wd: Flags.string({char: 'w', description: 'Set the working directory: the target\'s, or DIR given as -w=DIR or --wd=DIR (resolved before entering)', helpValue: 'DIR'}),
    wdns: Flags.string({char: 'W', description: 'Set the working directory to DIR given as -W=DIR or --wdns=DIR, resolved inside the entered namespaces and root; alone, the target\'s (as -w)', helpValue: 'DIR'}),
    env: Flags.boolean({char: 'e', description: 'Use the target\'s environment variables'}),
    'no-fork': Flags.boolean({char: 'F', description: 'Do not fork before exec\'ing the command (a pid namespace then applies to its children only)'}),
    'join-cgroup': Flags.boolean({char: 'c', description: 'Join the target\'s cgroups (v2, and every v1 hierarchy on v1 and hybrid hosts)'}),
    'mount-proc': Flags.boolean({description: 'Mount a private /proc of the target\'s pid namespace, so ps shows its processes'}),
    privileged: Flags.boolean({description: "With a container NAME: nsenter's full privileges in its namespaces instead of the container's restrictions"}),
    'dry-run': Flags.boolean({description: 'Print the plan, each operation in order and the privilege it needs, and do nothing'}),
    json: Flags.boolean({description: 'With --dry-run: print the plan as JSON'}),
  }

  async run(): Promise<void> {
    const outcome = await runEnter(this.argv)
    if (outcome.kind === 'help') {
      const {loadHelpClass} = await import('@oclif/core')
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp(['enter'])
      return
    }
    process.exitCode = outcome.exitCode
  }
}
