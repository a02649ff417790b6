import {NsxError} from '../cli/errors.js'
import {PROC_ROOT} from '../proc/fs.js'
import {readStat} from '../proc/process.js'
import {PidResolver, pidOrOclif, requireProcess} from '../proc/target.js'
import {refuseZombie} from './target.js'
import {discoverNamespaces} from '../ns/discover.js'
import {Discovery} from '../ns/records.js'
import {
  Direction,
  IdKind,
  Translation,
  TranslationError,
  UsernsChain,
  buildUsernsChain,
  linkInode,
  procReader,
  readOverflowId,
  translateId,
  usernsAncestry,
} from '../userns/chain.js'
import {MAX_ID} from '../userns/maps.js'

export interface UidmapReport extends UsernsChain {
  name: string
  overflowUid: number
  overflowGid: number
  translations: Translation[]
}

export interface UidmapRequest {
  /** The ids to translate, one per --uid/--gid given, in command-line order. */
  ids?: readonly IdRequest[]
  toInside?: boolean
  procRoot?: string
  /** pid or container name -> pid (the commands layer's resolver); default: a pid as typed. */
  resolvePid?: PidResolver
}

export interface IdRequest {
  kind: IdKind
  arg: string
}

/** Validate an id argument: a decimal 0..4294967294 ((uid_t)-1 is not an id). */
export function parseId(arg: string, kind: IdKind): number {
  if (!/^\d+$/.test(arg) || Number(arg) > MAX_ID) throw new NsxError(`invalid ${kind} '${arg}': expected an integer from 0 to ${MAX_ID}`)
  return Number(arg)
}

/** The user-namespace chain of a process, with translations of the ids asked for. */
export function gatherUidmap(pidArg: string, req: UidmapRequest = {}): UidmapReport {
  const root = req.procRoot ?? PROC_ROOT
  const pid = (req.resolvePid ?? pidOrOclif)(pidArg)
  // Validate every argument before touching the process, so bad input fails the same way always.
  const wanted: [IdKind, number][] = (req.ids ?? []).map(({kind, arg}) => [kind, parseId(arg, kind)])
  if (req.toInside && wanted.length === 0) throw new NsxError('--to-inside translates the id given with --uid or --gid: give one')
  const {status} = requireProcess(pid, {}, root)
  refuseZombie(pid, status)
  const started = readStat(pid, root)?.starttime

  let ancestry
  try {
    ancestry = usernsAncestry(pid, root)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') {
      throw new NsxError(`process ${pid} (${status.name}): permission denied opening its user namespace (ptrace access is needed: run as root or as its owner)`)
    }
    if (code === 'ENOENT' || code === 'ESRCH') throw new NsxError(`no such process: ${pid} (it exited)`)
    throw new NsxError(`process ${pid}: cannot open its user namespace: ${(err as Error).message}`)
  }
  const viewerInode = linkInode(`${root}/self/ns/user`)
  // Only levels above the process's own and below nsx's need another process to read through.
  let discovery: Discovery | undefined
  const processIn = (inode: number) => {
    discovery ??= discoverNamespaces({types: ['user'], procRoot: root, relations: false})
    return discovery.get('user', inode)?.pids[0]
  }
  const chain = buildUsernsChain(pid, ancestry, viewerInode, procReader(processIn, viewerInode, root))
  const overflowUid = readOverflowId('uid', root)
  const overflowGid = readOverflowId('gid', root)
  const direction: Direction = req.toInside ? 'to-inside' : 'to-host'
  const translations = wanted.map(([kind, id]) => {
    try {
      return translateId(chain, kind, id, direction, kind === 'uid' ? overflowUid : overflowGid)
    } catch (err) {
      if (err instanceof TranslationError) throw new NsxError(err.message)
      throw err
    }
  })
  if (readStat(pid, root)?.starttime !== started) throw new NsxError(`process ${pid} exited while it was being inspected`)
  return {...chain, name: status.name, overflowUid, overflowGid, translations}
}
