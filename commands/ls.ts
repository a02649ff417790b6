import {readlinkSync} from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {NsxError} from '../src/cli/errors.js'
import {COLUMN_HELP, COLUMN_NAMES, ColumnName, parseColumns, renderListing} from '../src/ns/columns.js'
import {discoverNamespaces} from '../src/ns/discover.js'
import {TREE_MODES, TreeMode, arrangeTree, flatRows} from '../src/ns/hierarchy-tree.js'
import {normaliseTreeArgs, parseInode, parseTypes} from '../src/ns/ls-options.js'
import {formatJson} from '../src/ns/json-output.js'
import {listNamespaces, readPpid, toJson} from '../src/ns/listing.js'
import {NetnsIds} from '../src/ns/netnsid.js'
import {NsType} from '../src/ns/types.js'
import {PROC_ROOT} from '../src/proc/fs.js'
import {parsePid, requireProcess} from '../src/proc/target.js'
import {palette} from '../src/render/colour.js'
import {glyphsFor} from '../src/render/tree.js'

/** -p: a live process whose namespaces nsx may read (a kernel thread is fine, as with lsns). */
function checkTask(arg: string | undefined, type: NsType): number | undefined {
  if (arg === undefined) return undefined
  const pid = parsePid(arg, 'pid')
  requireProcess(pid, {allowKernelThread: true})
  try {
    readlinkSync(`${PROC_ROOT}/${pid}/ns/${type}`)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') throw new NsxError(`cannot read the namespaces of process ${pid}: permission denied`)
    throw new NsxError(`no such process: ${pid} (it has exited)`)
  }
  return pid
}

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
    const types = parseTypes(flags.type)
    const columns: ColumnName[] = parseColumns(flags.output, flags['output-all'])
    let tree: TreeMode | undefined
    if (flags.tree !== undefined && (flags.list || flags.raw)) throw new NsxError(`--tree cannot be combined with --${flags.list ? 'list' : 'raw'}`)
    if (flags.tree !== undefined) {
      if (!(TREE_MODES as readonly string[]).includes(flags.tree)) {
        throw new NsxError(`unknown tree '${flags.tree}' (valid: ${TREE_MODES.join(', ')})`)
      }
      tree = flags.tree as TreeMode
    } else if (!flags.list && !flags.raw) {
      tree = 'process'
    }
    const inode = parseInode(args.namespace)
    const pid = checkTask(flags.task, types?.[0] ?? 'mnt')
    const json = this.jsonEnabled()

    const discovery = discoverNamespaces({types})
    const needFacts = json || tree === 'process' || columns.some((c) => c === 'PPID' || c === 'COMMAND' || c === 'UID' || c === 'USER')
    // NETNSID costs a netlink round trip per net namespace: only when it is shown.
    const netnsIds = json || columns.includes('NETNSID') ? new NetnsIds() : undefined
    let rows
    try {
      rows = listNamespaces(discovery, {pid, inode, facts: needFacts, netnsid: netnsIds && ((r) => netnsIds.idOf(r))})
    } finally {
      netnsIds?.close()
    }
    if (inode !== undefined && rows.length === 0) {
      throw new NsxError(`no namespace with inode ${inode}${types ? ` of type ${types.join(' or ')}` : ''}`)
    }
    // After the last possible error, so that a failure stays one line.
    const denied = discovery.log.summary()
    if (denied) process.stderr.write(`nsx ls: ${denied}\n`)

    if (json) return {namespaces: rows.map(toJson)}

    const ppids = new Map<number, number | undefined>()
    const ppidOf = (p: number) => {
      if (!ppids.has(p)) ppids.set(p, readPpid(p))
      return ppids.get(p)
    }
    // Representatives' ppids are known already; ancestors are read as the walk needs them.
    for (const r of rows) if (r.pid !== undefined && r.ppid !== undefined) ppids.set(r.pid, r.ppid)
    const display = tree === undefined ? flatRows(rows) : arrangeTree(rows, tree, glyphsFor(), ppidOf)
    const out = renderListing(display, {
      columns,
      treeColumn: tree === undefined ? undefined : tree === 'process' ? 'COMMAND' : 'NS',
      noHeadings: flags.noheadings,
      raw: flags.raw,
      width: process.stdout.isTTY && !flags.notruncate ? process.stdout.columns : undefined,
      palette: palette(process.stdout),
    })
    writeStdout(out)
    return undefined
  }

  /** oclif's logJson colourises token by token, which is slow on thousands of holders. */
  override logJson(json: unknown): void {
    writeStdout(`${formatJson(json)}\n`)
  }
}

/** Write, and end quietly when the reader has gone (nsx ls | head). */
function writeStdout(text: string): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0)
    throw err
  })
  process.stdout.write(text)
}
