import {lstatSync, readdirSync, readlinkSync, Stats} from 'node:fs'
import {join} from 'node:path'
import {lgetxattr} from '../ffi/libc.js'

/**
 * The merged view of a stack of stored layers (overlayfs form, lowest first) read without
 * mounting it: a path's topmost copy, hidden by a whiteout (char 0/0), by an opaque
 * directory or by a non-directory above it. Used to copy from another stage (COPY --from),
 * to find where a destination really is (through the image's symlinks), and to copy a
 * parent directory's metadata into a new layer.
 */

export interface ViewNode {
  /** Host path of the topmost copy. */
  abs: string
  st: Stats
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0

function isOpaque(abs: string): boolean {
  for (const k of ['trusted.overlay.opaque', 'user.overlay.opaque']) {
    try {
      if (lgetxattr(abs, k)?.toString() === 'y') return true
    } catch {
      // not permitted or not supported: not opaque for us
    }
  }
  return false
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p)
  } catch {
    return undefined
  }
}

export class LayerView {
  constructor(readonly layers: readonly string[]) {}

  /** rel: a path without leading slash ("" is the root); no symlinks followed. */
  lookup(rel: string): ViewNode | undefined {
    const parts = rel.split('/').filter((p) => p !== '' && p !== '.')
    if (parts.length === 0) return this.layers.length > 0 ? {abs: this.layers[this.layers.length - 1], st: lstatSync(this.layers[this.layers.length - 1])} : undefined
    for (let i = this.layers.length - 1; i >= 0; i--) {
      // Does this layer hide the path (whiteout / non-dir / opaque dir on the way)?
      let hidden = false
      let cur = this.layers[i]
      for (let k = 0; k < parts.length; k++) {
        cur = join(cur, parts[k])
        const st = lstatOrUndefined(cur)
        if (!st) break
        if (isWhiteout(st)) return undefined
        if (k === parts.length - 1) return {abs: cur, st}
        if (!st.isDirectory()) return undefined
        if (isOpaque(cur)) {
          hidden = true
          // the rest of the path must be in this layer: keep walking it, else hidden
        }
      }
      if (hidden) return undefined
    }
    return undefined
  }

  /** Names in a directory of the merged view, with their topmost copies. */
  readdir(rel: string): Map<string, ViewNode> {
    const out = new Map<string, ViewNode>()
    const gone = new Set<string>()
    const parts = rel.split('/').filter((p) => p !== '' && p !== '.')
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const dir = join(this.layers[i], ...parts)
      const st = lstatOrUndefined(dir)
      if (!st) continue
      if (!st.isDirectory()) break
      for (const n of readdirSync(dir)) {
        if (out.has(n) || gone.has(n)) continue
        const cst = lstatSync(join(dir, n))
        if (isWhiteout(cst)) gone.add(n)
        else out.set(n, {abs: join(dir, n), st: cst})
      }
      if (isOpaque(dir)) break
    }
    return out
  }

  /**
   * Where a path of the image really is: every symlink on the way resolved inside the
   * image's root (an absolute target is from the image's root, ".." stops at it). The last
   * component is followed only when followLast. Returns the resolved relative path.
   */
  resolve(rel: string, followLast = true): string {
    let todo = rel.split('/').filter((p) => p !== '' && p !== '.')
    const done: string[] = []
    let hops = 0
    while (todo.length > 0) {
      const name = todo.shift()!
      if (name === '..') {
        done.pop()
        continue
      }
      const candidate = [...done, name].join('/')
      const node = todo.length === 0 && !followLast ? undefined : this.lookup(candidate)
      if (node?.st.isSymbolicLink()) {
        if (++hops > 40) return [...done, name, ...todo].join('/')
        const target = readlinkSync(node.abs)
        const tparts = target.split('/').filter((p) => p !== '' && p !== '.')
        if (target.startsWith('/')) done.length = 0
        todo = [...tparts, ...todo]
        continue
      }
      done.push(name)
    }
    return done.join('/')
  }
}
