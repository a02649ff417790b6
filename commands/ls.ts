import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {COLUMN_HELP, COLUMN_NAMES} from '../src/ns/columns.js'
import {normaliseTreeArgs} from '../src/ns/ls-options.js'
import {writeOut} from '../src/cli/fast.js'
import {executeLs, jsonText} from '../src/ns/ls-run.js'

export default class Ls extends NsxCommand {
  static override summary = 'List every namespace on the host, and what holds it'
  static override description = `Like lsns, one line per namespace with the lowest pid in it, but it also finds namespaces that no process is in: held by a thread that changed namespace (lsns misses those), by an open file descriptor (/proc/PID/fd), by an nsfs bind mount (ip netns add makes one), or kept alive only as the parent (NS_GET_PARENT) or owner (NS_GET_USERNS) of another namespace. HOLDERS says which.

By default the namespaces are drawn as a tree by process (like lsns): a namespace sits under the namespace of the nearest ancestor process that represents one. --tree=parent nests pid and user namespaces under their parents, --tree=owner nests everything under its owning user namespace; -l prints a flat list.

Columns (for -o; "+COL,..." appends to the defaults): ${COLUMN_NAMES.map((c) => `${c} (${COLUMN_HELP[c]})`).join('; ')}.

--json prints {"namespaces": [...]} with every field, whatever -o says. Processes that exit during the scan are skipped; entries nsx may not read are summarised in one line on stderr.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every namespace, as a process tree.'},
    {command: '<%= config.bin %> <%= command.id %> -t net -o NS,NPROCS,NETNSID,NSFS,HOLDERS', description: 'Network namespaces and what holds them.'},
    {command: '<%= config.bin %> <%= command.id %> --tree=parent -t pid', description: 'The pid namespace hierarchy, including namespaces only their children keep alive.'},
    {command: '<%= config.bin %> <%= command.id %> -p 1234', description: 'The namespaces process 1234 holds.'},
    {command: '<%= config.bin %> <%= command.id %> --json', description: 'Everything, for scripts.'},
  ]

  static override args = {
    namespace: Args.string({description: 'Show only the namespace with this inode number', required: false}),
  }

  static override flags = {
    output: Flags.string({char: 'o', description: 'Columns to print, comma-separated; a leading + appends to the defaults', helpValue: 'LIST'}),
    'output-all': Flags.boolean({description: 'Print all columns'}),
    type: Flags.string({char: 't', description: 'Only namespaces of this type (repeatable, or comma-separated)', multiple: true, helpValue: 'TYPE'}),
    task: Flags.string({char: 'p', description: 'Only namespaces this process holds (as a process, a thread or an fd)', helpValue: 'PID'}),
    tree: Flags.string({char: 'T', description: 'Draw a tree by process (the default), parent or owner', helpValue: 'process|parent|owner'}),
    list: Flags.boolean({char: 'l', description: 'A flat list instead of a tree'}),
    noheadings: Flags.boolean({char: 'n', description: 'Do not print the header line'}),
    raw: Flags.boolean({char: 'r', description: 'Raw output: one space between cells, blanks escaped as \\x20 (a flat list)'}),
    notruncate: Flags.boolean({char: 'u', description: 'Do not cut long columns to the terminal width'}),
    nowrap: Flags.boolean({char: 'W', description: 'Accepted for lsns compatibility: nsx never wraps a cell over several lines'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Ls, normaliseTreeArgs(this.argv))
    const out = executeLs({
      output: flags.output,
      outputAll: flags['output-all'],
      type: flags.type,
      task: flags.task,
      tree: flags.tree,
      list: flags.list,
      noheadings: flags.noheadings,
      raw: flags.raw,
      notruncate: flags.notruncate,
      json: this.jsonEnabled(),
      namespace: args.namespace,
    })
    if ('json' in out) return out.json
    await writeOut(out.text)
    return undefined
  }

  /** oclif's logJson colourises token by token, which is slow on thousands of holders. */
  override logJson(json: unknown): void {
    void writeOut(jsonText(json))
  }
}
