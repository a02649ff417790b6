import {createHash} from 'node:crypto'
import {closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, Stats} from 'node:fs'
import {join} from 'node:path'
import {createRequire} from 'node:module'
import type {Ignore} from '@balena/dockerignore'
import {NsxError} from '../cli/errors.js'
import {LayerView} from '../image/layer-view.js'

/**
 * Where COPY and ADD read from: the build context (a directory, filtered by its
 * .dockerignore with docker's rules, through @balena/dockerignore) or another stage's or
 * image's merged layers. Sources are patterns with Go's filepath.Match wildcards (* ? [...])
 * per path component, resolved relative to the source root; nothing resolves outside it.
 */

export interface SourceNode {
  /** Path relative to the source root. */
  rel: string
  abs: string
  st: Stats
}

export interface SourceRoot {
  label: string
  stat(rel: string): SourceNode | undefined
  list(rel: string): string[]
}

export class ContextSource implements SourceRoot {
  private readonly ignore: ((p: string) => boolean) | undefined
  constructor(readonly dir: string) {
    let text: string | undefined
    try {
      text = readFileSync(join(dir, '.dockerignore'), 'utf8')
    } catch {
      text = undefined
    }
    if (text !== undefined) {
      // A CommonJS module whose types claim an ES default export: loaded as CommonJS.
      const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as () => Ignore
      const ig = dockerignore().add(text.split('\n'))
      this.ignore = (p: string) => ig.ignores(p)
    }
  }

  get label(): string {
    return 'the build context'
  }

  excluded(rel: string): boolean {
    return rel !== '' && this.ignore !== undefined && this.ignore(rel)
  }

  stat(rel: string): SourceNode | undefined {
    // An excluded directory holding a re-included path (!pattern) is there, with only that inside.
    if (this.excluded(rel) && !this.hasIncludedBelow(rel)) return undefined
    try {
      const abs = join(this.dir, rel)
      return {rel, abs, st: lstatSync(abs)}
    } catch {
      return undefined
    }
  }

  list(rel: string): string[] {
    try {
      return readdirSync(join(this.dir, rel))
        .sort()
        .filter((n) => !this.excluded(rel === '' ? n : `${rel}/${n}`) || this.hasIncludedBelow(rel === '' ? n : `${rel}/${n}`))
    } catch {
      return []
    }
  }

  /** An excluded directory may hold re-included paths (!pattern): walk it anyway. */
  private hasIncludedBelow(rel: string): boolean {
    try {
      if (!lstatSync(join(this.dir, rel)).isDirectory()) return false
    } catch {
      return false
    }
    return this.list(rel).length > 0
  }
}

export class LayerSource implements SourceRoot {
  private readonly view: LayerView
  constructor(
    layers: readonly string[],
    readonly label: string,
  ) {
    this.view = new LayerView(layers)
  }

  stat(rel: string): SourceNode | undefined {
    const r = this.view.resolve(rel, false)
    const n = this.view.lookup(r)
    return n ? {rel: r, abs: n.abs, st: n.st} : undefined
  }

  list(rel: string): string[] {
    return [...this.view.readdir(this.view.resolve(rel)).keys()].sort()
  }
}

/** Clean a source path: relative to the root, no way above it. */
export function cleanSourcePath(p: string): string {
  const out: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') out.pop()
    else out.push(part)
  }
  return out.join('/')
}

const hasWildcard = (s: string) => /[*?[]/.test(s)

/** Go's filepath.Match for one component. */
function componentRegex(pat: string): RegExp {
  let re = '^'
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i]
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = pat.indexOf(']', i + 1)
      if (end < 0) throw NsxError.invalid(`bad pattern '${pat}': unclosed [`)
      let cls = pat.slice(i + 1, end)
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`
      re += `[${cls.replace(/\\/g, '\\\\')}]`
      i = end
    } else if (c === '\\' && i + 1 < pat.length) re += pat[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`${re}$`)
}

/** The nodes a source pattern names, in sorted order. */
export function resolveSources(root: SourceRoot, pattern: string): SourceNode[] {
  const clean = cleanSourcePath(pattern)
  if (!hasWildcard(clean)) {
    const n = root.stat(clean)
    return n ? [n] : []
  }
  let current: string[] = ['']
  for (const part of clean.split('/')) {
    const next: string[] = []
    for (const base of current) {
      if (!hasWildcard(part)) {
        const rel = base === '' ? part : `${base}/${part}`
        if (root.stat(rel)) next.push(rel)
        continue
      }
      const re = componentRegex(part)
      for (const n of root.list(base)) if (re.test(n)) next.push(base === '' ? n : `${base}/${n}`)
    }
    current = next
  }
  return current.map((r) => root.stat(r)).filter((n): n is SourceNode => n !== undefined)
}

/** Every node below (and including) a source, depth first, sorted. */
export function walkSource(root: SourceRoot, node: SourceNode, visit: (n: SourceNode) => void): void {
  visit(node)
  if (!node.st.isDirectory()) return
  for (const name of root.list(node.rel)) {
    const child = root.stat(node.rel === '' ? name : `${node.rel}/${name}`)
    if (child) walkSource(root, child, visit)
  }
}

/** What the cache keys a copy on: names, types, modes and contents of everything copied (not mtimes, as docker). */
export function digestSources(root: SourceRoot, nodes: SourceNode[]): string {
  const h = createHash('sha256')
  const buf = Buffer.alloc(1 << 20)
  for (const top of nodes)
    walkSource(root, top, (n) => {
      h.update(`${n.rel}\0${n.st.mode}\0${n.st.size}\0`)
      if (n.st.isSymbolicLink()) h.update(readlinkSync(n.abs))
      else if (n.st.isFile()) {
        const fd = openSync(n.abs, 'r')
        try {
          let r: number
          while ((r = readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, r))
        } finally {
          closeSync(fd)
        }
      }
      h.update('\n')
    })
  return h.digest('hex')
}
