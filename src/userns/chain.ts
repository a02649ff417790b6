import {closeSync, constants, fstatSync, openSync} from 'node:fs'
import {NS_GET_PARENT, nsGetOwnerUid, nsRelated} from '../ffi/libc.js'
import {PROC_ROOT, readLink, readText} from '../proc/fs.js'
import {parseNsLink} from '../ns/types.js'
import {IdMap, MAX_ID, IdMapSyntaxError, mapIn, mapOut, parseIdMap, rebaseMap} from './maps.js'

/**
 * A process's user-namespace chain: its own user namespace, that one's parent, and so on up
 * to the initial one (or to nsx's own, above which the kernel shows nothing). At each level,
 * the id maps and setgroups, read through a process that lives in that namespace.
 */

/** The kernel's fixed inode of the initial user namespace (PROC_USER_INIT_INO, since Linux 3.8). */
export const INITIAL_USERNS_INODE = 0xeffffffd

export interface LevelMaps {
  /**
   * The map as the kernel shows it to nsx: outside ids are nsx's own user namespace's ids,
   * except for nsx's own namespace, whose map shows its parent's ids.
   */
  asRead: IdMap
  /** Relative to the next level up, as its creator wrote it; null when that level's map is unknown. */
  toParent: IdMap | null
  /**
   * False when the map file is empty: its creator has not written it yet, so every id is
   * unmapped there (seen as the overflow id, usually 65534, on the other side).
   */
  written: boolean
}

export interface UsernsLevel {
  /** 0 for the process's own user namespace, 1 for its parent, ... */
  depth: number
  inode: number
  /** The kernel's initial user namespace. */
  initial: boolean
  /** The user namespace nsx runs in: ids outside are shown in its terms. */
  viewer: boolean
  /** uid of the creator, in nsx's user namespace (NS_GET_OWNER_UID); null when unknown. */
  ownerUid: number | null
  /** The process the maps were read through; null when no visible process lives here. */
  readVia: number | null
  setgroups: 'allow' | 'deny' | null
  uidMap: LevelMaps | null
  gidMap: LevelMaps | null
}

export interface UsernsChain {
  pid: number
  levels: UsernsLevel[]
  /** Why the chain stops where it does. */
  top: 'initial' | 'viewer' | 'unknown'
  viewerInode: number | null
}

export interface NsAncestor {
  inode: number
  /** Owner uid, for user namespaces, when asked for. */
  ownerUid?: number
}

/**
 * Open path (an nsfs file) and walk NS_GET_PARENT to the top the kernel lets us see:
 * innermost first. EPERM ends the walk: no parent, or one outside nsx's user namespace.
 * Every fd opened here is closed before returning.
 */
export function walkNsParents(path: string, opts: {ownerUid?: boolean} = {}): NsAncestor[] {
  const fd = openSync(path, constants.O_RDONLY /* libuv adds O_CLOEXEC itself */)
  const out: NsAncestor[] = []
  let cur = fd
  try {
    for (let guard = 0; guard < 64; guard++) {
      const entry: NsAncestor = {inode: fstatSync(cur).ino}
      if (opts.ownerUid) {
        try {
          entry.ownerUid = nsGetOwnerUid(cur)
        } catch {
          // ENOTTY before Linux 4.11: the chain is still right without owners.
        }
      }
      out.push(entry)
      const next = nsRelated(cur, NS_GET_PARENT)
      if (next.fd === undefined) break
      if (cur !== fd) closeSync(cur)
      cur = next.fd
    }
  } finally {
    if (cur !== fd) closeSync(cur)
    closeSync(fd)
  }
  return out
}

/** Inode of an nsfs link under /proc, without FFI (also works on fixture trees). */
export function linkInode(path: string): number | undefined {
  const link = readLink(path)
  return link === undefined ? undefined : parseNsLink(link)?.inode
}

/**
 * The user namespaces above pid's, innermost first. On a fixture tree (nothing to open)
 * only the process's own level is known, from its link.
 */
export function usernsAncestry(pid: number, root = PROC_ROOT): NsAncestor[] {
  const path = `${root}/${pid}/ns/user`
  try {
    return walkNsParents(path, {ownerUid: true})
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') throw err
    const inode = linkInode(path)
    if (inode === undefined) throw err
    return [{inode}]
  }
}

/** Where the levels' maps are read from. */
export interface ChainReader {
  /** A pid living in the user namespace with this inode, or undefined when none is visible. */
  processIn(inode: number): number | undefined
  /** Contents of /proc/PID/<file>, or undefined. */
  read(pid: number, file: 'uid_map' | 'gid_map' | 'setgroups'): string | undefined
}

/** nsx's own pid as /proc at root names it (a fixture tree's "self" link, or the real one). */
export function selfPid(root = PROC_ROOT): number | undefined {
  const n = Number(readLink(`${root}/self`))
  return Number.isInteger(n) && n > 0 ? n : undefined
}

/**
 * Read levels through /proc: nsx's own level through nsx itself (always there), the others
 * through a member found by `members` (a scan of /proc).
 */
export function procReader(members: (inode: number) => number | undefined, viewerInode: number | undefined, root = PROC_ROOT): ChainReader {
  return {
    processIn: (inode) => (inode === viewerInode ? (selfPid(root) ?? members(inode)) : members(inode)),
    read: (pid, file) => readText(`${root}/${pid}/${file}`),
  }
}

function parseMapOrNull(text: string | undefined): IdMap | null {
  if (text === undefined) return null
  try {
    return parseIdMap(text)
  } catch (err) {
    if (err instanceof IdMapSyntaxError) return null
    throw err
  }
}

/**
 * Assemble the chain from the walked ancestry. The target's own level is read through the
 * target; nsx's own level through nsx; others through any process found in them.
 */
export function buildUsernsChain(pid: number, ancestry: NsAncestor[], viewerInode: number | undefined, reader: ChainReader): UsernsChain {
  const levels: UsernsLevel[] = ancestry.map((a, depth) => {
    const viewer = a.inode === viewerInode
    let via: number | undefined
    if (depth === 0) via = pid
    else via = reader.processIn(a.inode)
    const uid = via === undefined ? null : parseMapOrNull(reader.read(via, 'uid_map'))
    const gid = via === undefined ? null : parseMapOrNull(reader.read(via, 'gid_map'))
    const sg = via === undefined ? undefined : reader.read(via, 'setgroups')?.trim()
    return {
      depth,
      inode: a.inode,
      initial: a.inode === INITIAL_USERNS_INODE,
      viewer,
      ownerUid: a.ownerUid ?? null,
      readVia: via ?? null,
      setgroups: sg === 'allow' || sg === 'deny' ? sg : null,
      uidMap: uid === null ? null : {asRead: uid, toParent: null, written: uid.length > 0},
      gidMap: gid === null ? null : {asRead: gid, toParent: null, written: gid.length > 0},
    }
  })
  // Per-level maps: a level just below nsx's own (or nsx's own) already reads relative to its
  // parent; deeper ones read in nsx's terms and are rebased through their parent's map.
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]
    const parent = levels[i + 1]
    for (const kind of ['uidMap', 'gidMap'] as const) {
      const m = l[kind]
      if (m === null) continue
      if (l.viewer || parent === undefined || parent.viewer) m.toParent = m.asRead
      else if (parent[kind] !== null) m.toParent = rebaseMap(m.asRead, parent[kind]!.asRead).map
    }
  }
  const last = levels[levels.length - 1]
  const top = last === undefined ? 'unknown' : last.initial ? 'initial' : last.viewer ? 'viewer' : 'unknown'
  return {pid, levels, top, viewerInode: viewerInode ?? null}
}

export type IdKind = 'uid' | 'gid'
export type Direction = 'to-host' | 'to-inside'

export interface TranslationStep {
  depth: number
  inode: number
  /** The id in this namespace; null when unmapped here or unknown. */
  id: number | null
  /** False when this level's map could not be read (the id is then unknown, not unmapped). */
  known: boolean
}

export interface Translation {
  kind: IdKind
  direction: Direction
  /** The id given: inside the process's user namespace (to-host) or in nsx's (to-inside). */
  id: number
  /** One step per level, in the order of travel. */
  steps: TranslationStep[]
  /** The id at the far end, or null when it is unmapped on the way. */
  result: number | null
  /** Depth of the level whose map lacks the id, or null when it is mapped all the way. */
  unmappedAt: number | null
  /** What the other side sees instead of an unmapped id (/proc/sys/kernel/overflowuid or overflowgid). */
  overflowId: number
}

export class TranslationError extends Error {}

/**
 * Translate an id through every level, exactly as the kernel does. Works in nsx's terms: the
 * innermost map as nsx reads it already spans all levels, so a level whose map is unknown
 * costs only its own step, not the result.
 */
export function translateId(chain: UsernsChain, kind: IdKind, id: number, direction: Direction, overflowId: number): Translation {
  if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw new TranslationError(`invalid ${kind} ${id}: expected 0..${MAX_ID}`)
  const levels = chain.levels
  const top = levels.findIndex((l) => l.viewer)
  if (top < 0) {
    throw new TranslationError(`user namespace chain of process ${chain.pid} does not reach nsx's own user namespace: cannot translate`)
  }
  const mapOf = (l: UsernsLevel) => (kind === 'uid' ? l.uidMap : l.gidMap)?.asRead ?? null
  /** The id of viewer-id v at level l, or null when unmapped; undefined when unknown. */
  const inLevel = (l: UsernsLevel, v: number): number | null | undefined => {
    if (l.viewer) return v
    const m = mapOf(l)
    if (m === null) return undefined
    return mapIn(m, v) ?? null
  }

  let viewerId: number | null
  if (direction === 'to-host') {
    const inner = levels[0]
    if (inner.viewer) viewerId = id
    else {
      const m = mapOf(inner)
      if (m === null) throw new TranslationError(`cannot read the ${kind} map of process ${chain.pid}`)
      viewerId = mapOut(m, id) ?? null
    }
  } else viewerId = id

  const order = levels.slice(0, top + 1)
  if (direction === 'to-inside') order.reverse()
  const steps: TranslationStep[] = []
  let unmappedAt: number | null = null
  for (const l of order) {
    if (direction === 'to-host' && l.depth === 0) {
      steps.push({depth: 0, inode: l.inode, id, known: true})
      if (viewerId === null) unmappedAt = 0
      continue
    }
    if (viewerId === null) {
      steps.push({depth: l.depth, inode: l.inode, id: null, known: true})
      continue
    }
    const x = inLevel(l, viewerId)
    if (x === undefined) steps.push({depth: l.depth, inode: l.inode, id: null, known: false})
    else {
      steps.push({depth: l.depth, inode: l.inode, id: x, known: true})
      if (x === null && unmappedAt === null) unmappedAt = l.depth
    }
  }
  const last = steps[steps.length - 1]
  const result = unmappedAt !== null ? null : last.id
  return {kind, direction, id, steps, result, unmappedAt, overflowId}
}

/** /proc/sys/kernel/overflowuid or overflowgid: what an unmapped id reads as. */
export function readOverflowId(kind: IdKind, root = PROC_ROOT): number {
  const n = Number(readText(`${root}/sys/kernel/overflow${kind}`)?.trim())
  return Number.isInteger(n) ? n : 65534
}
