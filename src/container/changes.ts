import {lstatSync, readdirSync, Stats} from 'node:fs'
import {join} from 'node:path'
import {lgetxattr} from '../ffi/libc.js'
import {LayerView} from '../image/layer-view.js'
import {mountPointFilter} from '../store/commit-layer.js'
import type {Store} from '../store/store.js'
import {resolveContainer} from './state.js'

/**
 * docker diff (`GET /containers/{id}/changes`): what a container changed in its root, read from
 * its overlay upper directory (kept while the container exists, running or not) against the
 * image's layers. The rules are moby's overlay ones: a whiteout (char 0/0) or an opaque directory
 * is a deletion (D); anything else is an addition (A) unless the layers have the path, then a
 * change (C), except a directory equal to the image's (mode, size, mtime), which overlayfs only
 * copied up to hold a change below it; the parent of an addition or deletion is a change. The
 * mount points the container's setup made (/proc, /sys, /dev, /etc/hosts, ... when the image has
 * none) are not changes, as in docker, whose init layer holds them.
 */

/** docker's kinds: 0 changed (C), 1 added (A), 2 deleted (D). */
export type ChangeKind = 0 | 1 | 2

/** One change, as the Engine API's FilesystemChange: `{Path, Kind}`. */
export interface Change {
  Path: string
  Kind: ChangeKind
}

export const KIND_LETTER: Record<ChangeKind, 'C' | 'A' | 'D'> = {0: 'C', 1: 'A', 2: 'D'}

const OPAQUE = ['trusted.overlay.opaque', 'user.overlay.opaque']

function isOpaque(abs: string): boolean {
  for (const k of OPAQUE) {
    try {
      if (lgetxattr(abs, k)?.toString() === 'y') return true
    } catch {
      // unreadable or unsupported: not opaque
    }
  }
  return false
}

/** The changes of an upper directory over `lowerDirs` (lowest first), in the order of a sorted walk, as docker lists them. */
export function upperChanges(upper: string, lowerDirs: readonly string[]): Change[] {
  const view = new LayerView(lowerDirs)
  const skip = mountPointFilter(upper, [...lowerDirs])
  const out: Change[] = []
  const changedDirs = new Set<string>()
  // /etc holding only the files nsx mounts over was changed by nsx's setup, not by the container.
  const onlyMountPoints = (rel: string) => {
    const names = readdirSync(join(upper, rel))
    return names.length > 0 && names.every((n) => skip(`${rel}/${n}`))
  }
  const walk = (rel: string) => {
    let names: string[]
    try {
      names = readdirSync(rel === '' ? upper : join(upper, rel)).sort()
    } catch {
      return
    }
    for (const n of names) {
      const r = rel === '' ? n : `${rel}/${n}`
      if (skip(r)) continue
      let st: Stats
      try {
        st = lstatSync(join(upper, r))
      } catch {
        continue // removed meanwhile (a running container)
      }
      const deleted = (st.isCharacterDevice() && st.rdev === 0) || (st.isDirectory() && isOpaque(join(upper, r)))
      let kind: ChangeKind | undefined = deleted ? 2 : 1
      if (!deleted) {
        const lower = view.lookup(r)
        if (lower) {
          const bothDirs = st.isDirectory() && lower.st.isDirectory()
          const same = bothDirs && st.mode === lower.st.mode && st.size === lower.st.size && Math.floor(st.mtimeMs) === Math.floor(lower.st.mtimeMs)
          kind = same || (bothDirs && st.mode === lower.st.mode && onlyMountPoints(r)) ? undefined : 0
        }
      }
      if (kind !== undefined) {
        if (st.isDirectory()) changedDirs.add(r)
        const parent = rel
        if ((kind === 1 || kind === 2) && parent !== '' && !changedDirs.has(parent)) {
          out.push({Path: `/${parent}`, Kind: 0})
          changedDirs.add(parent)
        }
        out.push({Path: `/${r}`, Kind: kind})
      }
      if (st.isDirectory()) walk(r)
    }
  }
  walk('')
  return out
}

/** The changes of container `ref` (name or id prefix); throws docker's `No such container` (exit 1, 404). */
export function containerChanges(store: Store, ref: string): Change[] {
  const c = resolveContainer(store, ref)
  return upperChanges(join(c.dir, 'upper'), c.config.lowerDirs)
}

/** docker diff's lines: `A /path`. */
export function renderChanges(changes: readonly Change[]): string {
  return changes.map((c) => `${KIND_LETTER[c.Kind]} ${c.Path}\n`).join('')
}
