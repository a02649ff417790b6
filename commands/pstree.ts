import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {writeOut} from '../src/cli/fast.js'
import {executePstree} from '../src/pidns/run.js'
import {resolvePidArg} from '../src/enter/target.js'
import type {ProcessTree} from '../src/pidns/tree.js'

export default class Pstree extends NsxCommand {
  static override summary = 'Process trees per pid namespace, with every pid as seen inside its own namespace'
  static override description = `Like pstree -S -p, but every pid namespace is a boundary line (its inode, its level below nsx's own namespace, its owning user namespace and that namespace's owner uid), and the processes living in it hang below that line. Each process shows its pids in every pid namespace, outermost first, as the NSpid line of /proc/PID/status has them: sh(5653/1) is host pid 5653, pid 1 in its namespace.

Marks after a process: [mnt,net,uts] lists the other namespace types that differ from its parent's (as pstree -S does; pid changes are the boundary lines), <defunct> marks a zombie, {N threads} counts the threads of a multithreaded process (list them with --threads).

Without PID, the whole host from pid 1, plus any other top-level process (one that joined from outside, e.g. by nsenter, has no parent in view). Kernel threads are not shown: they all live in the initial namespaces, and pstree hides them too. With --ns, each top process of that namespace (its init, and any process that joined it with setns) and everything below. Children are in pid order; lines are never cut to the terminal width.

As an ordinary user, other users' namespace links cannot be read: such a process takes its pid namespace from a parent or child at the same level where it can, and one line on stderr counts what could not be read.

Exit status: 0, or 1 with one line on stderr for a PID that is invalid, gone, a kernel thread, a thread or not readable, and for an --ns that is not an inode, not a pid namespace, or has no process.`

  static override examples = [
    {description: 'The whole host, one boundary per pid namespace.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'One process and what it started, with full command lines.', command: '<%= config.bin %> <%= command.id %> -a 1234'},
    {description: 'How a container process descends from pid 1.', command: '<%= config.bin %> <%= command.id %> -s 1234'},
    {description: 'Every process of one pid namespace (inode as lsns prints it).', command: '<%= config.bin %> <%= command.id %> --ns 4026532201'},
    {description: 'In-namespace pids of every process, for a script.', command: "<%= config.bin %> <%= command.id %> --json | jq '..|objects|select(.nspid?)|{pid,nspid}'"},
  ]

  static override enableJsonFlag = true

  static override args = {
    pid: Args.string({description: 'show the subtree of this process (default: the whole host): a pid, or a running container\'s name or id prefix (its init)', required: false}),
  }

  static override flags = {
    ns: Flags.string({
      description: 'show the processes of the pid namespace with this inode (4026532201 or pid:[4026532201]) and what they started',
      helpValue: 'INODE',
    }),
    arguments: Flags.boolean({char: 'a', description: 'show command lines, as pstree -a does'}),
    'uid-changes': Flags.boolean({char: 'u', description: 'show the user where it differs from the parent\'s, as pstree -u does'}),
    'show-parents': Flags.boolean({char: 's', description: 'with PID: also show its ancestors, as pstree -s does'}),
    threads: Flags.boolean({description: 'list each thread as {name}(tids); by default a multithreaded process shows only a count'}),
    ascii: Flags.boolean({char: 'A', description: 'draw the tree with ASCII characters'}),
    verbose: Flags.boolean({description: 'say what could not be read even as root (otherwise said only without root)'}),
  }

  async run(): Promise<ProcessTree> {
    // bin/nsx normally runs src/pidns/main.ts without oclif; this is the same code, for --help and the unbundled build.
    const {args, flags} = await this.parse(Pstree)
    const out = executePstree({
      pid: args.pid,
      resolvePid: resolvePidArg,
      ns: flags.ns,
      arguments: flags.arguments,
      uidChanges: flags['uid-changes'],
      showParents: flags['show-parents'],
      threads: flags.threads,
      ascii: flags.ascii,
      verbose: flags.verbose,
      json: this.jsonEnabled(),
    })
    // oclif prints the returned tree itself under --json.
    if (!this.jsonEnabled()) await writeOut(out.stdout)
    if (out.warning) process.stderr.write(`nsx pstree: ${out.warning}\n`)
    return out.tree
  }
}
