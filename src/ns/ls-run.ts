import {readlinkSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import {PROC_ROOT} from '../proc/fs.js'
import {PidResolver, pidOrOclif, requireProcess} from '../proc/target.js'
import {palette} from '../render/colour.js'
import {glyphsFor} from '../render/tree.js'
import {COLUMN_HELP, COLUMN_NAMES, ColumnName, DisplayRow, NUMBER_COLUMNS, filterValue, jsonValue, parseColumns, renderListing} from './columns.js'
import {FilterNode, evaluate, filterColumns, parseFilter} from './filter.js'
import {renderTable} from '../render/table.js'
import {discoverNamespaces} from './discover.js'
import {TREE_MODES, TreeMode, arrangeTree, flatRows} from './hierarchy-tree.js'
import {formatJson, NamespaceFields, namespacesJson} from './json-output.js'
import {ListedNamespace, listNamespaces, readPpid, toJson} from './listing.js'
import {parseInode, parseTypes} from './ls-options.js'
import {NetnsIds} from './netnsid.js'

/**
 * `nsx ls` from parsed options to output, shared by the oclif command and the fast path
 * in bin/nsx (which skips loading oclif): validation, discovery, listing, rendering.
 */
export interface LsOptions {
  /** -p's pid or container name -> pid (the commands layer's resolver); default: a pid as typed. */
  resolvePid?: PidResolver
  output?: string
  outputAll?: boolean
  type?: string[]
  task?: string
  tree?: string
  list?: boolean
  noheadings?: boolean
  raw?: boolean
  notruncate?: boolean
  /** -W: several NSFS paths on one line, comma-separated. */
  nowrap?: boolean
  json?: boolean
  namespace?: string
  /** -Q: lsns's filter expression. */
  filter?: string
  /** -P: only namespaces no process is in. */
  persistent?: boolean
  /** -H: list the columns and stop. */
  listColumns?: boolean
  /** Say on stderr what could not be read even when it hid nothing asked for. */
  verbose?: boolean
}

/**
 * -p: a process whose namespaces nsx may read (a kernel thread is fine, as with lsns). Its user
 * link is the one every process has: a zombie keeps only its pid and user links, and lsns -p
 * lists those two.
 */
function checkTask(arg: string | undefined, resolvePid: PidResolver): number | undefined {
  if (arg === undefined) return undefined
  const pid = resolvePid(arg, 'pid')
  requireProcess(pid, {allowKernelThread: true})
  try {
    readlinkSync(`${PROC_ROOT}/${pid}/ns/user`)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') throw new NsxError(`cannot read the namespaces of process ${pid}: permission denied`)
    throw new NsxError(`no such process: ${pid} (it has exited)`)
  }
  return pid
}

/** -H: the columns, their types and what they say (lsns -H's three columns), or as JSON with --json. */
export function listColumns(json: boolean): {json: unknown} | {text: string} {
  const type = (c: ColumnName) => (NUMBER_COLUMNS.has(c) ? '<integer>' : '<string>')
  if (json) return {json: {columns: COLUMN_NAMES.map((c) => ({holder: c, type: type(c), description: COLUMN_HELP[c]}))}}
  const text = renderTable(
    [
      {header: 'HOLDER', align: 'right', value: (c: ColumnName) => c},
      {header: 'TYPE', value: type},
      {header: 'DESCRIPTION', value: (c: ColumnName) => COLUMN_HELP[c]},
    ],
    [...COLUMN_NAMES],
    {noHeadings: true},
  )
  return {text}
}

/** The listing: a JSON document, or the table/tree text. Throws NsxError on bad input. */
export function executeLs(o: LsOptions): {json: unknown} | {text: string} {
  if (o.listColumns) return listColumns(o.json === true)
  const types = parseTypes(o.type)
  const columns: ColumnName[] = parseColumns(o.output, o.outputAll, types?.includes('net') === true)
  let tree: TreeMode | undefined
  if (o.tree !== undefined && (o.list || o.raw)) throw new NsxError(`--tree cannot be combined with --${o.list ? 'list' : 'raw'}`)
  if (o.json && o.raw) throw new NsxError('--json and --raw are mutually exclusive')
  if (o.persistent && o.task !== undefined) throw new NsxError('--persistent and --task are mutually exclusive')
  if (o.tree !== undefined) {
    if (!(TREE_MODES as readonly string[]).includes(o.tree)) {
      throw new NsxError(`unknown tree '${o.tree}' (valid: ${TREE_MODES.join(', ')})`)
    }
    tree = o.tree as TreeMode
  } else if (!o.list && !o.raw) {
    tree = 'process'
  }
  const filter: FilterNode | undefined = o.filter === undefined ? undefined : parseFilter(o.filter, COLUMN_NAMES)
  const filtered = filter === undefined ? new Set<string>() : filterColumns(filter)
  const inode = parseInode(o.namespace)
  const pid = checkTask(o.task, o.resolvePid ?? pidOrOclif)
  const json = o.json === true
  // --json without -o is the whole document, flat unless a tree was asked for; with -o, lsns -J's shape.
  const fullJson = json && o.output === undefined && !o.outputAll
  if (fullJson && o.tree === undefined) tree = undefined

  const discovery = discoverNamespaces({types})
  const wants = (c: ColumnName) => columns.includes(c) || filtered.has(c)
  const needFacts = fullJson || tree === 'process' || wants('PPID') || wants('COMMAND') || wants('UID') || wants('USER')
  // NETNSID costs a netlink round trip per net namespace: only when it is shown.
  const netnsIds = fullJson || wants('NETNSID') ? new NetnsIds() : undefined
  let rows
  try {
    rows = listNamespaces(discovery, {pid, inode, facts: needFacts, addresses: fullJson || wants('ADDRESSES'), netnsid: netnsIds && ((r) => netnsIds.idOf(r))})
  } finally {
    netnsIds?.close()
  }
  if (inode !== undefined && rows.length === 0) {
    throw new NsxError(`no namespace with inode ${inode}${types ? ` of type ${types.join(' or ')}` : ''}${deniedNote(discovery.log.summary())}`)
  }
  if (o.persistent) rows = rows.filter((r) => r.nprocs === 0)
  if (filter !== undefined) rows = rows.filter((r) => evaluate(filter, (c) => filterValue(c as ColumnName, r)))
  // What could not be read, after the last possible error so that a failure stays one line; as root
  // only when asked (--verbose) or when it may be why nothing matched.
  const denied = discovery.log.report({verbose: o.verbose, mayHide: rows.length === 0 && (filter !== undefined || o.persistent === true)})
  if (denied) process.stderr.write(`nsx ls: ${denied}\n`)

  if (fullJson && tree === undefined) return {json: {namespaces: rows.map(toJson)}}

  const ppids = new Map<number, number | undefined>()
  const ppidOf = (p: number) => {
    if (!ppids.has(p)) ppids.set(p, readPpid(p))
    return ppids.get(p)
  }
  // Representatives' ppids are known already; ancestors are read as the walk needs them.
  for (const r of rows) if (r.pid !== undefined && r.ppid !== undefined) ppids.set(r.pid, r.ppid)
  const display = tree === undefined ? flatRows(rows) : arrangeTree(rows, tree, glyphsFor(), ppidOf)
  if (json) {
    const value = fullJson ? (r: ListedNamespace) => toJson(r) as unknown as Record<string, unknown> : (r: ListedNamespace) => columnObject(columns, r)
    return {json: {namespaces: nestChildren(display, value)}}
  }
  return {
    text: renderListing(display, {
      columns,
      treeColumn: tree === undefined ? undefined : tree === 'process' ? 'COMMAND' : 'NS',
      noHeadings: o.noheadings,
      raw: o.raw,
      noWrap: o.nowrap || o.raw,
      width: process.stdout.isTTY && !o.notruncate ? process.stdout.columns : undefined,
      palette: palette(process.stdout),
    }),
  }
}

function deniedNote(summary: string | undefined): string {
  return summary === undefined ? '' : ` (${summary})`
}

/** One namespace as lsns -J writes it: the chosen columns, lower-case keys. */
function columnObject(columns: readonly ColumnName[], row: ListedNamespace): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (const c of columns) o[c.toLowerCase()] = jsonValue(c, row)
  return o
}

/** The tree's rows (display order, depth from the branches) as objects with "children", as lsns -J nests them. */
function nestChildren(display: readonly DisplayRow[], value: (r: ListedNamespace) => Record<string, unknown>): Record<string, unknown>[] {
  const roots: Record<string, unknown>[] = []
  const stack: {depth: number; node: Record<string, unknown>}[] = []
  // Each level of the tree adds one glyph of the same width to the prefix.
  const width = display.find((d) => d.prefix !== '')?.prefix.length ?? 1
  for (const d of display) {
    const depth = d.prefix.length / width
    const node = value(d.row)
    while (stack.length > 0 && stack[stack.length - 1].depth >= depth) stack.pop()
    if (stack.length === 0) roots.push(node)
    else {
      const parent = stack[stack.length - 1].node
      ;((parent.children ??= []) as Record<string, unknown>[]).push(node)
    }
    stack.push({depth, node})
  }
  return roots
}

/** The --json document in formatJson's layout; executeLs's own shape is written directly (json-output.ts). */
export function jsonText(doc: unknown): string {
  const namespaces = (doc as {namespaces?: unknown}).namespaces
  // The fast writer knows the whole flat document only (pids is in no column): column objects
  // (-o +... has holders) and trees go the generic way.
  const direct =
    Array.isArray(namespaces) &&
    Object.keys(doc as object).length === 1 &&
    namespaces.every((n) => typeof n === 'object' && n !== null && 'holders' in n && 'pids' in n && !('children' in n))
  return `${direct ? namespacesJson(namespaces as NamespaceFields[]) : formatJson(doc)}\n`
}
