import {accessSync, constants, readFileSync, statSync, statfsSync} from 'node:fs'
import {delimiter, dirname, join, resolve} from 'node:path'
import {NsxError} from '../cli/errors.js'
import type {NsType} from '../ns/types.js'
import {parseStatus} from '../proc/process.js'
import {idByName, userName} from '../proc/users.js'
import {CURRENT, UnshareOptions} from './options.js'

/** What buildUnsharePlan needs to know about the machine and the caller; read by gatherUnshareFacts. */
export interface UnshareFacts {
  euid: number
  egid: number
  userName?: string
  /** Effective capabilities of the caller (CapEff), which the executor inherits. */
  capEff: bigint
  /** --map-user/--map-group resolved to ids. */
  mapUid?: number
  mapGid?: number
  /** Text of /proc/self/uid_map and gid_map. */
  uidMap: string
  gidMap: string
  /** /etc/subuid and /etc/subgid text; undefined when missing or not needed. */
  subuid?: string
  subgid?: string
  /** newuidmap/newgidmap found in PATH. */
  newidmap: boolean
}

export const SUBUID = '/etc/subuid'
export const SUBGID = '/etc/subgid'
export const CAP_SETUID = 7
export const CAP_SETGID = 6
export const CAP_SYS_ADMIN = 21
const NSFS_MAGIC = 0x6e736673

export const hasCap = (f: UnshareFacts, cap: number) => (f.capEff & (1n << BigInt(cap))) !== 0n

const fail = (msg: string, code = 125): never => {
  throw new NsxError(msg, code)
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

function resolveId(value: string, kind: 'user' | 'group', option: string): number {
  if (/^\d+$/.test(value)) {
    if (Number(value) > 4294967294) fail(`${option}: '${value}' is not an id (a number up to 4294967294)`)
    return Number(value)
  }
  const id = idByName(value, kind)
  if (id === undefined) fail(`${option}: no ${kind} named '${value}' in /etc/${kind === 'user' ? 'passwd' : 'group'}`)
  return id as number
}

function inPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    try {
      accessSync(join(dir || '.', cmd), constants.F_OK)
      return true
    } catch {
      // next directory
    }
  }
  return false
}

export async function gatherUnshareFacts(o: UnshareOptions): Promise<UnshareFacts> {
  const euid = process.geteuid?.() ?? 0
  const egid = process.getegid?.() ?? 0
  const status = parseStatus(readOr('/proc/self/status') ?? '')
  const needsSubids = [...o.mapUsers, ...o.mapGroups].some((s) => s.kind === 'auto' || s.kind === 'subids')
  const ranges = o.mapUsers.length > 0 || o.mapGroups.length > 0
  return {
    euid,
    egid,
    userName: userName(euid),
    capEff: status.capEff,
    mapUid: o.mapUser === undefined ? undefined : o.mapUser === CURRENT ? euid : resolveId(o.mapUser, 'user', '--map-user'),
    mapGid: o.mapGroup === undefined ? undefined : o.mapGroup === CURRENT ? egid : resolveId(o.mapGroup, 'group', '--map-group'),
    uidMap: readOr('/proc/self/uid_map') ?? '',
    gidMap: readOr('/proc/self/gid_map') ?? '',
    subuid: needsSubids || (ranges && euid !== 0) ? readOr(SUBUID) : undefined,
    subgid: needsSubids || (ranges && euid !== 0) ? readOr(SUBGID) : undefined,
    newidmap: ranges && euid !== 0 ? inPath('newuidmap') && inPath('newgidmap') : false,
  }
}

/**
 * Check a persistence target before anything is done: its directory must exist, and
 * the file must be missing (the executor creates it), an empty regular file, or not
 * already hold a namespace. util-linux would bind over any file, even a non-empty one.
 */
export function checkPersistTarget(ns: NsType, path: string): string {
  const abs = resolve(path)
  const dir = dirname(abs)
  let st
  try {
    st = statSync(dir)
  } catch {
    fail(`cannot keep the ${ns} namespace at ${path}: directory ${dir} does not exist`)
  }
  if (!st!.isDirectory()) fail(`cannot keep the ${ns} namespace at ${path}: ${dir} is not a directory`)
  let target
  try {
    target = statSync(abs)
  } catch {
    return abs // missing: created by the executor, removed again if anything fails
  }
  let onNsfs = false
  try {
    onNsfs = statfsSync(abs).type === NSFS_MAGIC
  } catch {
    // not readable as a file system: decided by the checks below
  }
  if (onNsfs) fail(`cannot keep the ${ns} namespace at ${path}: it already holds a namespace (umount ${path} first)`)
  if (!target.isFile()) fail(`cannot keep the ${ns} namespace at ${path}: not a regular file`)
  if (target.size > 0) fail(`cannot keep the ${ns} namespace at ${path}: the file is not empty (a bind mount would hide its contents)`)
  return abs
}

/** The command must exist before namespaces are made (then nothing is left behind). */
export function checkCommand(o: UnshareOptions): void {
  const cmd = o.command[0]
  if (cmd === undefined || o.root !== undefined) return // resolved inside the new root
  const found = cmd.includes('/') ? (() => {
    if (!cmd.startsWith('/') && o.wd !== undefined) return true // relative to -w, checked by exec
    try {
      accessSync(cmd, constants.F_OK)
      return true
    } catch {
      return false
    }
  })() : inPath(cmd)
  if (!found) fail(`failed to execute ${cmd}: No such file or directory`, 127)
}

export function checkRoot(o: UnshareOptions): void {
  if (o.root === undefined) return
  try {
    if (statSync(o.root).isDirectory()) return
  } catch {
    fail(`cannot change root directory to '${o.root}': No such file or directory`)
  }
  fail(`cannot change root directory to '${o.root}': Not a directory`)
}
