import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {COMMAND_EXIT_STATUS} from '../src/cli/exit-status.js'
import {runUnshare} from '../src/unshare/main.js'

/**
 * `nsx unshare`. bin/nsx normally runs it on a fast path that never loads oclif
 * (src/unshare/main.ts, parsed like util-linux unshare by src/cli/getopt.ts); this
 * class gives it --help, its man page and its place in the command list.
 */
export default class Unshare extends NsxCommand {
  static override failureExitCode = 125
  static exitStatus = COMMAND_EXIT_STATUS
  static override strict = false

  static override summary = 'Run a command in new namespaces (util-linux unshare\'s flags, letter for letter)'
  static override description = `Creates the namespaces named, then runs COMMAND in them (default: $SHELL, or /bin/sh). The options are util-linux unshare's (2.42), and short options cluster as there (-mpf). A user namespace is created in the same unshare(2) call as the others, so the kernel makes it first and owns the rest by it: an ordinary user can unshare everything with -r (nsx unshare -r id -u prints 0).

Persistence: --net=FILE (and --mount=, --pid=, ...; nsx also accepts -n=FILE) keeps the new namespace by bind-mounting it on FILE, which nsx creates when missing (its directory must exist). The bind mounts are made from a helper that stays outside the new namespaces, after the mount propagation is set and only once the command is about to run: if anything fails before, nothing is left behind. nsx refuses to bind over a file that is not empty or already holds a namespace. --pid=FILE needs --fork.

Id maps: -r, -c, --map-user and --map-group map one id (ours); --map-users and --map-groups take INNER:OUTER:COUNT (util-linux 2.39 and later) or OUTER,INNER,COUNT (2.38), auto (the first range of /etc/subuid, from 0), subids (the same range, mapped to itself) or all (every id we have, unchanged); --map-auto is --map-users=auto --map-groups=auto. Ranges are written from outside: directly by root, else by newuidmap and newgidmap (package uidmap). Maps are checked before anything runs: malformed or overlapping ranges, and ids that are not ours to map (not in /etc/subuid, or not in our own map), are one-line errors.

--fork forks before running the command; with --kill-child[=SIGNAL] (default KILL) the command gets SIGNAL when nsx dies; nsx ignores SIGINT and SIGTERM while the command runs (it gets them from the terminal), or passes them on with --forward-signals. --mount-proc[=DIR] mounts a new procfs (after --root and --wd, as util-linux does). --propagation sets the mount propagation of the new mount namespace (default private). --monotonic and --boottime offset the clocks of a new time namespace (-T), written before any process enters it. --dry-run prints every operation in order with the privilege it needs.

Exit status: the command's own; 125 when nsx fails (bad usage included), 126 when the command cannot be executed, 127 when it is not found. A command killed by a signal makes nsx die of the same signal.`

  static override usage = ['unshare [OPTIONS] [COMMAND [ARG...]]']

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -r id -u', description: 'As an ordinary user: root in a new user namespace (prints 0).'},
    {command: '<%= config.bin %> <%= command.id %> -pf --mount-proc ps -e', description: 'A new pid namespace, with a /proc that shows only it.'},
    {command: '<%= config.bin %> <%= command.id %> --net=/run/netns/lab true', description: 'Keep a new network namespace; ip netns sees it as "lab".'},
    {command: '<%= config.bin %> <%= command.id %> --map-auto --map-root-user -m sh', description: 'Rootless: root is you, 1..65535 your /etc/subuid range.'},
    {command: '<%= config.bin %> <%= command.id %> -T --boottime 86400 cat /proc/uptime', description: 'A day more of uptime, in a new time namespace.'},
    {command: '<%= config.bin %> <%= command.id %> -rmpf --mount-proc --dry-run', description: 'What would be done, step by step.'},
  ]

  static override args = {
    command: Args.string({description: 'The command and its arguments', required: false}),
  }

  static override flags = {
    mount: Flags.string({char: 'm', description: 'Unshare the mount namespace; --mount=FILE also keeps it on FILE', helpValue: '[FILE]'}),
    uts: Flags.string({char: 'u', description: 'Unshare the UTS namespace (hostname, domain name)', helpValue: '[FILE]'}),
    ipc: Flags.string({char: 'i', description: 'Unshare the System V IPC namespace', helpValue: '[FILE]'}),
    net: Flags.string({char: 'n', description: 'Unshare the network namespace', helpValue: '[FILE]'}),
    pid: Flags.string({char: 'p', description: 'Unshare the pid namespace (children of the command, or the command with --fork, are in it)', helpValue: '[FILE]'}),
    user: Flags.string({char: 'U', description: 'Unshare the user namespace', helpValue: '[FILE]'}),
    cgroup: Flags.string({char: 'C', description: 'Unshare the cgroup namespace', helpValue: '[FILE]'}),
    time: Flags.string({char: 'T', description: 'Unshare the time namespace', helpValue: '[FILE]'}),
    fork: Flags.boolean({char: 'f', description: 'Fork before running the command; nsx waits and passes on its status'}),
    'kill-child': Flags.string({description: 'When nsx dies, send SIGNAL (default KILL) to the command (implies --fork)', helpValue: '[SIGNAL]'}),
    'forward-signals': Flags.boolean({description: 'Pass SIGINT and SIGTERM on to the command instead of ignoring them while it runs (implies --fork)'}),
    'clear-env': Flags.boolean({description: 'Run the command with an empty environment'}),
    'whitelist-env': Flags.string({description: 'Run the command with only these variables of the environment', helpValue: 'NAME,...'}),
    'mount-proc': Flags.string({description: 'Mount a new procfs on DIR (default /proc; implies --mount)', helpValue: '[DIR]'}),
    'map-root-user': Flags.boolean({char: 'r', description: 'Map the current user and group to root (implies --user)'}),
    'map-current-user': Flags.boolean({char: 'c', description: 'Map the current user and group to themselves (implies --user)'}),
    'map-user': Flags.string({description: 'Map the current user to UID or NAME (implies --user)', helpValue: 'UID|NAME'}),
    'map-group': Flags.string({description: 'Map the current group to GID or NAME (implies --user)', helpValue: 'GID|NAME'}),
    'map-users': Flags.string({description: 'Map COUNT uids from OUTER to INNER (or OUTER,INNER,COUNT; auto; subids; all); repeatable (implies --user)', helpValue: 'INNER:OUTER:COUNT'}),
    'map-groups': Flags.string({description: 'The same for gids', helpValue: 'INNER:OUTER:COUNT'}),
    'map-auto': Flags.boolean({description: 'Map the first /etc/subuid and /etc/subgid ranges from 0 (implies --user)'}),
    'map-subids': Flags.boolean({description: 'Map the first /etc/subuid and /etc/subgid ranges to themselves (implies --user)'}),
    owner: Flags.string({description: 'Make the new user namespace owned by UID:GID (nsx becomes them first; needs root; implies --user)', helpValue: 'UID:GID'}),
    setgroups: Flags.string({description: 'Allow or deny setgroups(2) in the new user namespace', helpValue: 'allow|deny'}),
    propagation: Flags.string({description: 'Mount propagation in the new mount namespace (default private)', helpValue: 'slave|shared|private|unchanged'}),
    'keep-caps': Flags.boolean({description: 'Keep the capabilities of the new user namespace across exec (as ambient capabilities)'}),
    root: Flags.string({char: 'R', description: 'Run the command with DIR as its root directory', helpValue: 'DIR'}),
    wd: Flags.string({char: 'w', description: 'Change the working directory to DIR (inside the new root)', helpValue: 'DIR'}),
    setuid: Flags.string({char: 'S', description: 'Set the uid in the new namespaces', helpValue: 'UID'}),
    setgid: Flags.string({char: 'G', description: 'Set the gid in the new namespaces (and drop supplementary groups)', helpValue: 'GID'}),
    monotonic: Flags.string({description: 'Offset of CLOCK_MONOTONIC in the new time namespace, in seconds', helpValue: 'SECONDS'}),
    boottime: Flags.string({description: 'Offset of CLOCK_BOOTTIME in the new time namespace, in seconds', helpValue: 'SECONDS'}),
    'dry-run': Flags.boolean({description: 'Print the plan, each operation in order and the privilege it needs, and do nothing'}),
    json: Flags.boolean({description: 'With --dry-run: print the plan as JSON'}),
  }

  async run(): Promise<void> {
    const outcome = await runUnshare(this.argv)
    if (outcome.kind === 'help') {
      const {loadHelpClass} = await import('@oclif/core')
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp(['unshare'])
      return
    }
    process.exitCode = outcome.exitCode
  }
}
