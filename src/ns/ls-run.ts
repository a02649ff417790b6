import {readlinkSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import {PROC_ROOT} from '../proc/fs.js'
import {parsePid, requireProcess} from '../proc/target.js'
import {palette} from '../render/colour.js'
import {glyphsFor} from '../render/tree.js'
import {ColumnName, parseColumns, renderListing} from './columns.js'
import {discoverNamespaces} from './discover.js'
import {TREE_MODES, TreeMode, arrangeTree, flatRows} from './hierarchy-tree.js'
import {formatJson, namespacesJson} from './json-output.js'
import {NamespaceJson, listNamespaces, readPpid, toJson} from './listing.js'
import {parseInode, parseTypes} from './ls-options.js'
import {NetnsIds} from './netnsid.js'

/**
 * `nsx ls` from parsed options to output, shared by the oclif command and the fast path
 * in bin/nsx (which skips loading oclif): validation, discovery, listing, rendering.
 */
export interface LsOptions {
  output?: string
  outputAll?: boolean
  type?: string[]
  task?: string
  tree?: string
  list?: boolean
  noheadings?: boolean
  raw?: boolean
  notruncate?: boolean
  json?: boolean
  namespace?: string
}

/**
 * -p: a process whose namespaces nsx may read (a kernel thread is fine, as with lsns). Its user
 * link is the one every process has: a zombie keeps only its pid and user links, and lsns -p
 * lists those two.
 */
function checkTask(arg: string | undefined): number | undefined {
  if (arg === undefined) return undefined
  const pid = parsePid(arg, 'pid')
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

/** The listing: a JSON document, or the table/tree text. Throws NsxError on bad input. */
export function executeLs(o: LsOptions): {json: {namespaces: NamespaceJson[]}} | {text: string} {
  const types = parseTypes(o.type)
  const columns: ColumnName[] = parseColumns(o.output, o.outputAll)
  let tree: TreeMode | undefined
  if (o.tree !== undefined && (o.list || o.raw)) throw new NsxError(`--tree cannot be combined with --${o.list ? 'list' : 'raw'}`)
  if (o.tree !== undefined) {
    if (!(TREE_MODES as readonly string[]).includes(o.tree)) {
      throw new NsxError(`unknown tree '${o.tree}' (valid: ${TREE_MODES.join(', ')})`)
    }
    tree = o.tree as TreeMode
  } else if (!o.list && !o.raw) {
    tree = 'process'
  }
  const inode = parseInode(o.namespace)
  const pid = checkTask(o.task)
  const json = o.json === true

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

  if (json) return {json: {namespaces: rows.map(toJson)}}

  const ppids = new Map<number, number | undefined>()
  const ppidOf = (p: number) => {
    if (!ppids.has(p)) ppids.set(p, readPpid(p))
    return ppids.get(p)
  }
  // Representatives' ppids are known already; ancestors are read as the walk needs them.
  for (const r of rows) if (r.pid !== undefined && r.ppid !== undefined) ppids.set(r.pid, r.ppid)
  const display = tree === undefined ? flatRows(rows) : arrangeTree(rows, tree, glyphsFor(), ppidOf)
  return {
    text: renderListing(display, {
      columns,
      treeColumn: tree === undefined ? undefined : tree === 'process' ? 'COMMAND' : 'NS',
      noHeadings: o.noheadings,
      raw: o.raw,
      width: process.stdout.isTTY && !o.notruncate ? process.stdout.columns : undefined,
      palette: palette(process.stdout),
    }),
  }
}

/** The --json document in formatJson's layout; executeLs's own shape is written directly (json-output.ts). */
export function jsonText(doc: unknown): string {
  const namespaces = (doc as {namespaces?: unknown}).namespaces
  const direct = Array.isArray(namespaces) && Object.keys(doc as object).length === 1
  return `${direct ? namespacesJson(namespaces as NamespaceJson[]) : formatJson(doc)}\n`
}
