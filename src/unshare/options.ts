import {constants as osConstants} from 'node:os'
import {NsxError} from '../cli/errors.js'
import {OptionSpec, getoptForCommand} from '../cli/getopt.js'
import type {NsType} from '../ns/types.js'
import type {Propagation} from '../plan/ops.js'
import {MapSpecError, parseRangeSpec, RangeSpec} from '../userns/map-spec.js'

/** -c: map to our own id, whatever it is when the plan is built. */
export const CURRENT = Symbol('current id')

/** What `nsx unshare` was asked to do, after parsing and before looking at the system. */
export interface UnshareOptions {
  /** Namespaces to unshare, each with its persistence file when one was given (--net=FILE). */
  namespaces: Map<NsType, string | undefined>
  fork: boolean
  /** --forward-signals: the fork parent passes SIGINT and SIGTERM on. */
  forwardSignals: boolean
  /** --clear-env (empty list) or --whitelist-env NAMES: the variables kept. */
  keepEnv?: string[]
  /** --kill-child: the signal number (SIGKILL when given bare). */
  killChild?: number
  /** --mount-proc: the directory (default /proc). */
  mountProc?: string
  /** Single mappings: --map-user/-r/-c (uid) and --map-group/-r/-c (gid); names unresolved, CURRENT for -c. */
  mapUser?: string | typeof CURRENT
  mapGroup?: string | typeof CURRENT
  mapUsers: RangeSpec[]
  mapGroups: RangeSpec[]
  /** --owner UID:GID: become these ids before unsharing, so the new user namespace is theirs. */
  owner?: {uid: number; gid: number}
  setgroups?: 'allow' | 'deny'
  propagation: Propagation | 'unchanged'
  keepCaps: boolean
  root?: string
  wd?: string
  setuid?: number
  setgid?: number
  monotonic?: bigint
  boottime?: bigint
  dryRun: boolean
  json: boolean
  help: boolean
  version: boolean
  command: string[]
}

const NS_KEY: Record<string, string> = {mount: 'mnt', uts: 'uts', ipc: 'ipc', net: 'net', pid: 'pid', user: 'user', cgroup: 'cgroup', time: 'time'}
const LONG_OF_SHORT: Record<string, string> = {m: 'mount', u: 'uts', i: 'ipc', n: 'net', p: 'pid', U: 'user', C: 'cgroup', T: 'time'}

/** util-linux unshare 2.42's options, letter for letter, and nsx's own (--dry-run, --json). */
export const UNSHARE_OPTIONS: readonly OptionSpec[] = [
  // Short namespace options take no argument (util-linux: "-mun" clusters); --mount=FILE persists.
  ...Object.entries(LONG_OF_SHORT).flatMap(([short, long]): OptionSpec[] => [
    {key: NS_KEY[long], short, arg: 'none'},
    {key: NS_KEY[long], long, arg: 'optional'},
  ]),
  {key: 'fork', long: 'fork', short: 'f', arg: 'none'},
  {key: 'kill-child', long: 'kill-child', arg: 'optional'},
  {key: 'forward-signals', long: 'forward-signals', arg: 'none'},
  {key: 'clear-env', long: 'clear-env', arg: 'none'},
  {key: 'whitelist-env', long: 'whitelist-env', arg: 'required'},
  {key: 'mount-proc', long: 'mount-proc', arg: 'optional'},
  {key: 'map-user', long: 'map-user', arg: 'required'},
  {key: 'map-users', long: 'map-users', arg: 'required'},
  {key: 'map-group', long: 'map-group', arg: 'required'},
  {key: 'map-groups', long: 'map-groups', arg: 'required'},
  {key: 'map-root-user', long: 'map-root-user', short: 'r', arg: 'none'},
  {key: 'map-current-user', long: 'map-current-user', short: 'c', arg: 'none'},
  {key: 'map-auto', long: 'map-auto', arg: 'none'},
  {key: 'map-subids', long: 'map-subids', arg: 'none'},
  {key: 'owner', long: 'owner', arg: 'required'},
  {key: 'propagation', long: 'propagation', arg: 'required'},
  {key: 'setgroups', long: 'setgroups', arg: 'required'},
  {key: 'keep-caps', long: 'keep-caps', arg: 'none'},
  {key: 'setuid', long: 'setuid', short: 'S', arg: 'required'},
  {key: 'setgid', long: 'setgid', short: 'G', arg: 'required'},
  {key: 'root', long: 'root', short: 'R', arg: 'required'},
  {key: 'wd', long: 'wd', short: 'w', arg: 'required'},
  {key: 'monotonic', long: 'monotonic', arg: 'required'},
  {key: 'boottime', long: 'boottime', arg: 'required'},
  {key: 'dry-run', long: 'dry-run', arg: 'none'},
  {key: 'json', long: 'json', arg: 'none'},
  {key: 'help', long: 'help', short: 'h', arg: 'none'},
  {key: 'version', long: 'version', short: 'V', arg: 'none'},
]

const NS_KEYS: readonly string[] = ['mnt', 'uts', 'ipc', 'net', 'pid', 'user', 'cgroup', 'time']
const PROPAGATIONS = ['private', 'shared', 'slave', 'unchanged'] as const

const fail = (msg: string): never => {
  throw new NsxError(msg, 125)
}

/**
 * A signal by name (KILL, SIGKILL, kill) or number, as util-linux's signame_to_signum
 * takes it; real-time signals as RTMIN+N / RTMAX-N.
 */
export function parseSignal(s: string): number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s)
    return n >= 1 && n <= 64 ? n : undefined
  }
  const name = s.toUpperCase().replace(/^SIG/, '')
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name)
  if (rt) {
    const base = rt[1] === 'MIN' ? 34 : 64
    const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '-' ? -1 : 1)
    const n = base + off
    return n >= 34 && n <= 64 ? n : undefined
  }
  const n = (osConstants.signals as Record<string, number>)[`SIG${name}`]
  return n
}

function signalNames(): string {
  return Object.keys(osConstants.signals).map((s) => s.slice(3)).join(' ')
}

function parseId(value: string, option: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 4294967294) fail(`${option}: '${value}' is not an id (a number up to 4294967294)`)
  return Number(value)
}

/** A clock offset in seconds: a signed 64-bit integer, as util-linux takes it. */
function parseOffset(value: string, option: string): bigint {
  if (!/^[+-]?\d+$/.test(value)) fail(`${option}: '${value}' is not a number of seconds`)
  const v = BigInt(value)
  if (v > 9223372036854775807n || v < -9223372036854775808n) fail(`${option}: '${value}' is out of range`)
  return v
}

function nonEmpty(value: string | undefined, given: string): string | undefined {
  if (value === '') fail(`option ${given}: empty path`)
  return value
}

/**
 * nsx accepts `-n=FILE` for `--net=FILE` (util-linux unshare rejects it; nsenter takes
 * it): '=' is no option letter, so this cannot change what a cluster like -mun means.
 */
function expandShortFileForms(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]
    if (w === '--' || !w.startsWith('-') || w === '-') return [...out, ...argv.slice(i)]
    const m = /^-([muinpUCT])=(.*)$/s.exec(w)
    if (m) {
      out.push(`--${LONG_OF_SHORT[m[1]]}=${m[2]}`)
      continue
    }
    out.push(w)
    // Skip the argument of an option that takes the next word, so it is not rewritten.
    if (/^-[^-]*[RwSG]$/.test(w) || /^--(map-users?|map-groups?|owner|propagation|setgroups|setuid|setgid|root|wd|monotonic|boottime|whitelist-env)$/.test(w)) {
      if (i + 1 < argv.length) out.push(argv[++i])
    }
  }
  return out
}

export function parseUnshareArgs(argv: readonly string[]): UnshareOptions {
  const parsed = getoptForCommand('unshare', expandShortFileForms(argv), UNSHARE_OPTIONS)
  const o: UnshareOptions = {
    namespaces: new Map(),
    fork: false,
    forwardSignals: false,
    mapUsers: [],
    mapGroups: [],
    propagation: 'private',
    keepCaps: false,
    dryRun: false,
    json: false,
    help: false,
    version: false,
    command: [],
  }
  const ranges = (value: string, into: RangeSpec[]) => {
    try {
      into.push(parseRangeSpec(value))
    } catch (err) {
      if (err instanceof MapSpecError) fail(err.message)
      throw err
    }
  }
  for (const {key, given, value} of parsed.options) {
    if (NS_KEYS.includes(key)) {
      // A bare -n after --net=FILE keeps the file; a later --net=FILE replaces it.
      const file = nonEmpty(value, given)
      if (file !== undefined || !o.namespaces.has(key as NsType)) o.namespaces.set(key as NsType, file)
      continue
    }
    switch (key) {
      case 'fork': o.fork = true; break
      case 'kill-child': {
        const sig = value === undefined ? 9 : parseSignal(value)
        if (sig === undefined) fail(`unknown signal '${value}' for --kill-child; valid: a number 1-64 or one of ${signalNames()}`)
        o.killChild = sig
        o.fork = true
        break
      }
      case 'forward-signals': o.forwardSignals = true; o.fork = true; break
      case 'clear-env': o.keepEnv ??= []; break
      case 'whitelist-env': {
        const names = (value ?? '').split(',').filter((n) => n !== '')
        const bad = names.find((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
        if (bad !== undefined || names.length === 0) fail(`--whitelist-env: '${bad ?? value}' is not a list of variable names (NAME,NAME,...)`)
        o.keepEnv = [...(o.keepEnv ?? []), ...names]
        break
      }
      case 'mount-proc':
        o.mountProc = nonEmpty(value, given) ?? '/proc'
        if (!o.namespaces.has('mnt')) o.namespaces.set('mnt', undefined)
        break
      case 'map-user': o.mapUser = value; break
      case 'map-group': o.mapGroup = value; break
      case 'map-root-user': o.mapUser = '0'; o.mapGroup = '0'; break
      case 'map-current-user': o.mapUser = CURRENT; o.mapGroup = CURRENT; break
      case 'map-users': ranges(value ?? '', o.mapUsers); break
      case 'map-groups': ranges(value ?? '', o.mapGroups); break
      case 'map-auto': o.mapUsers.push({kind: 'auto'}); o.mapGroups.push({kind: 'auto'}); break
      case 'map-subids': o.mapUsers.push({kind: 'subids'}); o.mapGroups.push({kind: 'subids'}); break
      case 'owner': {
        const m = /^(\d+):(\d+)$/.exec(value ?? '')
        if (!m || Number(m[1]) > 4294967294 || Number(m[2]) > 4294967294) fail(`--owner: '${value}' is not UID:GID`)
        o.owner = {uid: Number(m![1]), gid: Number(m![2])}
        break
      }
      case 'propagation':
        if (!(PROPAGATIONS as readonly string[]).includes(value ?? '')) fail(`unsupported propagation mode '${value}'; valid: ${PROPAGATIONS.join(', ')}`)
        o.propagation = value as UnshareOptions['propagation']
        break
      case 'setgroups':
        if (value !== 'allow' && value !== 'deny') fail(`unsupported --setgroups argument '${value}'; valid: allow, deny`)
        o.setgroups = value as 'allow' | 'deny'
        break
      case 'keep-caps': o.keepCaps = true; break
      case 'setuid': o.setuid = parseId(value ?? '', given); break
      case 'setgid': o.setgid = parseId(value ?? '', given); break
      case 'root': o.root = nonEmpty(value, given); break
      case 'wd': o.wd = nonEmpty(value, given); break
      case 'monotonic': o.monotonic = parseOffset(value ?? '', given); break
      case 'boottime': o.boottime = parseOffset(value ?? '', given); break
      case 'dry-run': o.dryRun = true; break
      case 'json': o.json = true; break
      case 'help': o.help = true; break
      case 'version': o.version = true; break
    }
  }
  // Every mapping option implies a user namespace (util-linux: "implies --user").
  if (o.mapUser !== undefined || o.mapGroup !== undefined || o.mapUsers.length > 0 || o.mapGroups.length > 0 || o.owner) {
    if (!o.namespaces.has('user')) o.namespaces.set('user', undefined)
  }
  // unshare writes a single gid map itself, which the kernel takes only with setgroups denied; it
  // refuses the pair whoever runs it, and so does nsx (a --map-groups range goes through newgidmap).
  if (o.setgroups === 'allow' && o.mapGroup !== undefined && o.mapGroups.length === 0) {
    fail('options --setgroups=allow and --map-group are mutually exclusive')
  }
  if ((o.monotonic !== undefined || o.boottime !== undefined) && !o.namespaces.has('time')) {
    fail('options --monotonic and --boottime need a new time namespace (-T)')
  }
  if (o.json && !o.dryRun) fail('--json only goes with --dry-run (unshare prints nothing of its own otherwise)')
  o.command = [...parsed.rest]
  return o
}
