import {Palette} from '../render/colour.js'
import {printable} from '../render/printable.js'
import {TreeGlyphs, TreeNode, UNICODE_GLYPHS, renderTree} from '../render/tree.js'
import type {PidNamespace, ProcessNode, ProcessTree} from './tree.js'

/**
 * The text view: every pid namespace is a boundary line, and the processes living in it
 * hang below that line, so nesting on screen is nesting of namespaces.
 *
 *   pid:[4026531836] level 0, owner user:[4026531837] uid 0
 *   └─systemd(1)
 *     └─containerd-shim(880) [mnt,net,uts,ipc]
 *       └─pid:[4026532301] level 1, owner user:[4026531837] uid 0
 *         └─sh(901/1)
 */
export interface RenderOptions {
  palette: Palette
  glyphs?: TreeGlyphs
  /** Show the uid where it changes, as pstree -u does. */
  uidChanges?: boolean
  /** Full command lines, as pstree -a does. */
  args?: boolean
}

export function renderProcessTree(tree: ProcessTree, opts: RenderOptions): string {
  const byInode = new Map<number, PidNamespace>()
  for (const ns of tree.namespaces) if (ns.inode !== null) byInode.set(ns.inode, ns)
  const r = new Renderer(opts, byInode)
  const top = r.grouped(tree.processes, undefined, true)
  return renderTree(top, opts.glyphs ?? UNICODE_GLYPHS)
}


class Renderer {
  constructor(
    private readonly opts: RenderOptions,
    private readonly namespaces: Map<number, PidNamespace>,
  ) {}

  /**
   * Processes in the parent's pid namespace hang directly below it; the others are grouped
   * under one boundary per namespace. At the top, every group gets its boundary.
   */
  grouped(nodes: ProcessNode[], parent: ProcessNode | undefined, top = false): TreeNode[] {
    const out: TreeNode[] = []
    const groups = new Map<string, TreeNode>()
    for (const n of nodes) {
      const same = parent !== undefined && n.pidns === parent.pidns && n.level === parent.level
      if (same && !top) {
        out.push(this.process(n))
        continue
      }
      // An unreadable namespace gets a boundary per process: siblings are usually in different ones.
      const key = n.pidns !== null ? String(n.pidns) : `? ${n.pid}`
      let boundary = groups.get(key)
      if (!boundary) {
        boundary = {label: this.boundary(n, top), children: []}
        groups.set(key, boundary)
        out.push(boundary)
      }
      boundary.children.push(this.process(n))
    }
    return out
  }

  private boundary(first: ProcessNode, top: boolean): string {
    const p = this.opts.palette
    const ns = first.pidns !== null ? this.namespaces.get(first.pidns) : undefined
    const parts: string[] = []
    parts.push(`${first.pidns !== null ? `pid:[${first.pidns}]` : 'pid:[?]'} level ${first.level}`)
    if (ns?.owner) parts.push(`owner user:[${ns.owner.inode}]${ns.owner.uid !== null ? ` uid ${ns.owner.uid}` : ''}`)
    // Nesting already shows the parent below the top; a subtree's top boundary names it.
    if (top && ns?.parent) parts.push(`parent pid:[${ns.parent}]`)
    const text = parts.join(', ') + (first.pidns === null ? ' (namespace links not readable)' : '')
    return p.bold(p.cyan(text))
  }

  private process(n: ProcessNode): TreeNode {
    const children = this.grouped(n.children, n)
    if (n.threadList) {
      for (const t of n.threadList) children.push({label: this.opts.palette.dim(`{${printable(t.name)}}(${t.nstid.join('/')})`), children: []})
    }
    return {label: this.label(n), children}
  }

  private label(n: ProcessNode): string {
    const p = this.opts.palette
    let ids = n.nspid.join('/')
    if (this.opts.uidChanges && n.uidChanged) ids += `,${p.magenta(n.user ?? String(n.uid))}`
    let s = `${printable(n.name)}(${ids})`
    // pid changes are the boundary lines; the marks list the other types, as pstree -S does.
    const changes = n.nsChanges.filter((t) => t !== 'pid')
    if (changes.length > 0) s += ` ${p.yellow(`[${changes.join(',')}]`)}`
    if (n.state === 'Z') s += ` ${p.red('<defunct>')}`
    if (n.threads > 1 && !n.threadList) s += ` ${p.dim(`{${n.threads} threads}`)}`
    const cmd = this.opts.args ? commandLine(n) : ''
    if (cmd !== '') s += ` ${cmd}`
    return s
  }
}

/** argv for display: like pstree -a, without argv[0] when it merely repeats the name. */
export function commandLine(n: Pick<ProcessNode, 'name' | 'args'>): string {
  const args = n.args ?? []
  const first = args[0] ?? ''
  // A login shell's argv[0] is "-bash".
  const base = first.slice(first.lastIndexOf('/') + 1).replace(/^-/, '')
  // comm is argv[0]'s base name cut to 15 characters.
  const rest = base === n.name || (n.name.length === 15 && base.startsWith(n.name)) ? args.slice(1) : args
  return rest.map(quoteArg).join(' ')
}

function quoteArg(a: string): string {
  if (a === '') return "''"
  if (/^[\w@%+=:,./-]+$/.test(a)) return a
  return `'${printable(a).replace(/'/g, `'\\''`)}'`
}
