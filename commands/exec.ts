import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {EXEC_EXIT_STATUS} from '../src/cli/exit-status.js'
import {runExec} from '../src/container/exec-main.js'

/**
 * `nsx exec`. bin/nsx runs it on a fast path without oclif (src/container/exec-main.ts, docker
 * exec's flags parsed by src/cli/getopt.ts); this class gives it --help, its man page and
 * its place in the command list, and runs the same code.
 */
export default class Exec extends NsxCommand {
  static override failureExitCode = 125
  static exitStatus = EXEC_EXIT_STATUS
  static override strict = false

  static override summary = "Run a command in a running container, with the container's own restrictions (docker exec)"
  static override description = `Starts COMMAND as a new process of a running container, restricted exactly as the container's first process: its user, pid, mount, network, uts, ipc and cgroup namespaces (those of the container's workload, not the host's), its cgroups on every hierarchy, its capability bounding, effective and permitted sets, no_new_privs, its seccomp filter, its user and groups (-u to choose another from the container's /etc/passwd and /etc/group), its environment (plus -e and --env-file) and working directory (-w to choose another). The command is looked up in the container's PATH, in the container's root: it is the container's binary, running with the container's rights and no more.

This is the way to run something in a container you do not trust. nsx enter NAME does the same; nsx enter -t PID is nsenter, with the debugger's full privileges; nsx debug brings the host's tools to a container without running any of its binaries.

Without -i the command's stdin is /dev/null. With -t it uses nsx's terminal (and TERM=xterm unless the container sets TERM); -i -t needs stdin to be a terminal. With -d it runs in the background in a session of its own, stdio on /dev/null, and nsx returns once it has been exec'd.

Exit status: the command's; 126 when it cannot be started, not found included (docker exec's code; nsx run's is 127), or its working directory cannot be entered (-w /missing); 1 when the container does not exist, is not running, or is paused (docker's messages); 125 for any other failure of nsx.`

  static override usage = ['exec [OPTIONS] CONTAINER COMMAND [ARG...]']

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web ps', description: "The container's ps, in the container, with its restrictions."},
    {command: '<%= config.bin %> <%= command.id %> -it web sh', description: 'An interactive shell.'},
    {command: '<%= config.bin %> <%= command.id %> -u 1000:1000 -w /tmp -e DEBUG=1 web env', description: 'Another user, working directory and variable.'},
    {command: '<%= config.bin %> <%= command.id %> -d web sh -c "sleep 60 > /tmp/out"', description: 'In the background.'},
    {command: '<%= config.bin %> <%= command.id %> --dry-run web true', description: 'Every operation of the plan, in order.'},
  ]

  static override args = {
    container: Args.string({description: 'The container: its name, or a unique prefix of its id', required: false}),
    command: Args.string({description: 'The command and its arguments', required: false}),
  }

  static override flags = {
    interactive: Flags.boolean({char: 'i', description: 'Keep stdin open (without -i the command reads /dev/null)'}),
    tty: Flags.boolean({char: 't', description: "A pseudo-terminal of the container's own devpts (its size follows nsx's terminal; raw input with -i); TERM=xterm unless the container sets TERM"}),
    detach: Flags.boolean({char: 'd', description: 'Run in the background: a new session, stdio on /dev/null'}),
    user: Flags.string({char: 'u', description: "USER[:GROUP] or UID[:GID], names from the container's /etc/passwd and /etc/group", helpValue: 'USER'}),
    env: Flags.string({char: 'e', description: 'Set NAME=VALUE after the container\'s environment (NAME alone: your value, and without one NAME is unset, as docker does)', helpValue: 'NAME=VALUE', multiple: true}),
    'env-file': Flags.string({description: 'Read NAME=VALUE lines from FILE', helpValue: 'FILE', multiple: true}),
    workdir: Flags.string({char: 'w', description: "Working directory inside the container (default: the container's)", helpValue: 'DIR'}),
    privileged: Flags.boolean({description: 'Every capability instead of the container\'s, and no seccomp filter (docker exec --privileged)'}),
    'dry-run': Flags.boolean({description: 'Print the plan, each operation in order and the privilege it needs, and do nothing'}),
    json: Flags.boolean({description: 'With --dry-run: print the plan as JSON'}),
  }

  async run(): Promise<void> {
    const outcome = await runExec(this.argv)
    if (outcome.kind === 'help') {
      const {loadHelpClass} = await import('@oclif/core')
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp(['exec'])
      return
    }
    process.exitCode = outcome.exitCode
  }
}
