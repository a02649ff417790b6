import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {COLUMN_HELP, COLUMN_NAMES} from '../src/ns/columns.js'
import {runLs} from '../src/ns/ls-main.js'
import {resolvePidArg} from '../src/enter/target.js'

export default class Ls extends NsxCommand {
  static override summary = 'List every namespace on the host, and what holds it'
  static override description = `Like lsns, one line per namespace with the lowest pid in it, but it also finds namespaces that no process is in: held by a thread that changed namespace (lsns misses those), by an open file descriptor (/proc/PID/fd), by an nsfs bind mount (ip netns add makes one), or kept alive only as the parent (NS_GET_PARENT) or owner (NS_GET_USERNS) of another namespace. HOLDERS says which.

By default the namespaces are drawn as a tree by process (like lsns): a namespace sits under the namespace of the nearest ancestor process that represents one. --tree=parent nests pid and user namespaces under their parents, --tree=owner nests everything under its owning user namespace; -l prints a flat list.

Columns (for -o; "+COL,..." appends to the defaults): ${COLUMN_NAMES.map((c) => `${c} (${COLUMN_HELP[c]})`).join('; ')}.

-Q/--filter takes lsns's expression language (scols-filter(5)): column names, numbers, "strings" or 'strings', comparisons (== != < <= > >=, or eq ne lt le gt ge), =~ and !~ (a regular expression on the right), && (and), || (or), ! (not) and parentheses; a bare column is true when it is not empty. Example: -Q 'TYPE == "net" && NPROCS > 0'. The filter may use columns that are not shown.

--json (-J) without -o prints {"namespaces": [...]} with every field, flat (nested as "children" only with an explicit --tree). With -o or --output-all it prints what lsns -J prints: the chosen columns, keyed by their lower-case names, nested as "children" when a tree is drawn (the default, unless -l).

NSFS lists each path on a line of its own unless -W/--nowrap (or -r) joins them with commas. With -t net the default columns include NETNSID and NSFS. PNS and ONS are 0 where there is none (a root namespace, a type without parents). A namespace no process is in shows the uid that created its owner as UID and USER.

Processes that exit during the scan are skipped. What nsx may not read is summarised in one line on stderr when it hides something: always without root, as root only with --verbose or when nothing matched.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every namespace, as a process tree.'},
    {command: '<%= config.bin %> <%= command.id %> -t net -o NS,NPROCS,NETNSID,NSFS,HOLDERS', description: 'Network namespaces and what holds them.'},
    {command: '<%= config.bin %> <%= command.id %> --tree=parent -t pid', description: 'The pid namespace hierarchy, including namespaces only their children keep alive.'},
    {command: '<%= config.bin %> <%= command.id %> -p 1234', description: 'The namespaces process 1234 holds.'},
    {command: '<%= config.bin %> <%= command.id %> --json', description: 'Everything, for scripts.'},
    {command: `<%= config.bin %> <%= command.id %> -Q 'TYPE == "net" && NPROCS == 0'`, description: 'Network namespaces no process is in (held by a mount, an fd or a socket).'},
  ]

  // Parsed by the fast path (runLs), not by oclif.
  static override strict = false

  static override args = {
    namespace: Args.string({description: 'Show only the namespace with this inode number', required: false}),
  }

  static override flags = {
    output: Flags.string({char: 'o', description: 'Columns to print, comma-separated; a leading + appends to the defaults', helpValue: 'LIST'}),
    'output-all': Flags.boolean({description: 'Print all columns'}),
    type: Flags.string({char: 't', description: 'Only namespaces of this type (repeatable, or comma-separated)', multiple: true, helpValue: 'TYPE'}),
    task: Flags.string({char: 'p', description: 'Only namespaces this process holds (as a process, a thread or an fd); a running container\'s name or id prefix means its init', helpValue: 'PID|NAME'}),
    tree: Flags.string({char: 'T', description: 'Draw a tree by process (the default), parent or owner', helpValue: 'process|parent|owner'}),
    list: Flags.boolean({char: 'l', description: 'A flat list instead of a tree'}),
    noheadings: Flags.boolean({char: 'n', description: 'Do not print the header line'}),
    raw: Flags.boolean({char: 'r', description: 'Raw output: one space between cells, blanks escaped as \\x20 (a flat list)'}),
    notruncate: Flags.boolean({char: 'u', description: 'Do not cut long columns to the terminal width'}),
    nowrap: Flags.boolean({char: 'W', description: 'Several NSFS paths on one line, comma-separated (else one per line)'}),
    json: Flags.boolean({char: 'J', description: 'Print JSON: every field, or the -o columns as lsns -J'}),
    filter: Flags.string({char: 'Q', description: 'Only namespaces for which EXPR is true (lsns\'s filter language)', helpValue: 'EXPR'}),
    persistent: Flags.boolean({char: 'P', description: 'Only namespaces no process is in'}),
    'list-columns': Flags.boolean({char: 'H', description: 'List the columns, their types and meanings, and exit'}),
    verbose: Flags.boolean({description: 'Say what could not be read even when it hides nothing asked for'}),
    version: Flags.boolean({char: 'V', description: 'Print the version and exit'}),
  }

  async run(): Promise<void> {
    // The fast path's code (bin/nsx normally runs it without oclif): one parser, one behaviour.
    const outcome = await runLs(this.argv, resolvePidArg)
    if (outcome.kind === 'help') {
      const {loadHelpClass} = await import('@oclif/core')
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp(['ls'])
      return
    }
    // With the resolver given, runLs never hands the line back ('oclif').
    process.exitCode = outcome.kind === 'done' ? outcome.exitCode : 1
  }
}
