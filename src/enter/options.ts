import {NsxError} from '../cli/errors.js'
import {OptionSpec, getoptForCommand} from '../cli/getopt.js'
import type {NsType} from '../ns/types.js'
import type {EnterOptions} from '../plan/enter.js'


/** util-linux nsenter 2.42's options, letter for letter, and nsx's own. */
export const ENTER_OPTIONS: readonly OptionSpec[] = [
  {key: 'all', long: 'all', short: 'a', arg: 'none'},
  {key: 'target', long: 'target', short: 't', arg: 'required'},
  {key: 'mnt', long: 'mount', short: 'm', arg: 'optional'},
  {key: 'uts', long: 'uts', short: 'u', arg: 'optional'},
  {key: 'ipc', long: 'ipc', short: 'i', arg: 'optional'},
  {key: 'net', long: 'net', short: 'n', arg: 'optional'},
  {key: 'net-socket', long: 'net-socket', short: 'N', arg: 'required'},
  {key: 'pid', long: 'pid', short: 'p', arg: 'optional'},
  {key: 'cgroup', long: 'cgroup', short: 'C', arg: 'optional'},
  {key: 'user', long: 'user', short: 'U', arg: 'optional'},
  {key: 'time', long: 'time', short: 'T', arg: 'optional'},
  {key: 'setuid', long: 'setuid', short: 'S', arg: 'required'},
  {key: 'setgid', long: 'setgid', short: 'G', arg: 'required'},
  {key: 'preserve-credentials', long: 'preserve-credentials', arg: 'none'},
  {key: 'keep-caps', long: 'keep-caps', arg: 'none'},
  {key: 'user-parent', long: 'user-parent', arg: 'none'},
  {key: 'root', long: 'root', short: 'r', arg: 'optional'},
  {key: 'wd', long: 'wd', short: 'w', arg: 'optional'},
  {key: 'wdns', long: 'wdns', short: 'W', arg: 'optional'},
  {key: 'env', long: 'env', short: 'e', arg: 'none'},
  {key: 'no-fork', long: 'no-fork', short: 'F', arg: 'none'},
  {key: 'join-cgroup', long: 'join-cgroup', short: 'c', arg: 'none'},
  {key: 'mount-proc', long: 'mount-proc', arg: 'none'},
  {key: 'privileged', long: 'privileged', arg: 'none'},
  {key: 'dry-run', long: 'dry-run', arg: 'none'},
  {key: 'json', long: 'json', arg: 'none'},
  {key: 'help', long: 'help', short: 'h', arg: 'none'},
  {key: 'version', long: 'version', short: 'V', arg: 'none'},
]

const NS_KEYS: readonly string[] = ['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup', 'user', 'time']

/** nsenter strips one leading '=' so that `-m=/path` works like `--mount=/path`. */
const stripEq = (v: string | undefined) => (v !== undefined && v.startsWith('=') ? v.slice(1) : v)

function parseId(value: string, what: 'uid' | 'gid'): number | 'follow' {
  if (value === 'follow') return 'follow'
  if (!/^\d+$/.test(value) || Number(value) > 4294967294) {
    throw new NsxError(`failed to parse ${what}: '${value}' (expected a number up to 4294967294, or follow)`, 125)
  }
  return Number(value)
}

function nonEmpty(value: string | undefined, given: string): string | undefined {
  if (value === '') throw new NsxError(`option ${given}: empty path`, 125)
  return value
}

export function parseEnterArgs(argv: readonly string[]): EnterOptions {
  const parsed = getoptForCommand('enter', argv, ENTER_OPTIONS)
  const o: EnterOptions = {
    all: false,
    namespaces: new Map(),
    preserveCredentials: false,
    keepCaps: false,
    env: false,
    noFork: false,
    joinCgroup: false,
    userParent: false,
    mountProc: false,
    privileged: false,
    dryRun: false,
    json: false,
    help: false,
    version: false,
    command: [],
  }
  let wdGiven = false
  let wdnsGiven = false
  for (const {key, given, value} of parsed.options) {
    if (NS_KEYS.includes(key)) {
      o.namespaces.set(key as NsType, nonEmpty(stripEq(value), given))
      continue
    }
    switch (key) {
      case 'all': o.all = true; break
      case 'target':
        if (o.target !== undefined) throw new NsxError('option --target may be given only once', 125)
        o.target = value
        break
      case 'setuid': o.setuid = parseId(value ?? '', 'uid'); break
      case 'setgid': o.setgid = parseId(value ?? '', 'gid'); break
      case 'preserve-credentials': o.preserveCredentials = true; break
      case 'keep-caps': o.keepCaps = true; break
      case 'user-parent': o.userParent = true; break
      case 'net-socket':
        if (!/^\d+$/.test(value ?? '') || Number(value) > 2 ** 30) throw new NsxError(`failed to parse file descriptor: '${value}'`, 125)
        o.netSocket = Number(value)
        break
      case 'root': o.root = {path: nonEmpty(stripEq(value), given)}; break
      case 'wd': wdGiven = true; o.wd = {path: nonEmpty(stripEq(value), given)}; break
      case 'wdns':
        wdnsGiven = true
        // Without a directory (-W alone, --wdns without =): the target's working directory, as nsenter.
        if (value === undefined) o.wd = {path: undefined}
        else o.wdns = nonEmpty(stripEq(value), given)
        break
      case 'env': o.env = true; break
      case 'no-fork': o.noFork = true; break
      case 'join-cgroup': o.joinCgroup = true; break
      case 'mount-proc': o.mountProc = true; break
      case 'privileged': o.privileged = true; break
      case 'dry-run': o.dryRun = true; break
      case 'json': o.json = true; break
      case 'help': o.help = true; break
      case 'version': o.version = true; break
    }
  }
  if (wdGiven && wdnsGiven) throw new NsxError('options --wd and --wdns are mutually exclusive', 125)
  if (o.json && !o.dryRun) throw new NsxError('--json only goes with --dry-run (enter prints nothing of its own otherwise)', 125)
  o.command = [...parsed.rest]
  return o
}

/** The nsenter options that choose what to enter or how: a container NAME without --privileged takes none of them. */
export function nsenterOptionsGiven(o: EnterOptions): string[] {
  const given: string[] = []
  if (o.all) given.push('-a')
  for (const ns of o.namespaces.keys()) given.push(`--${ns === 'mnt' ? 'mount' : ns}`)
  if (o.setuid !== undefined) given.push('-S')
  if (o.setgid !== undefined) given.push('-G')
  if (o.preserveCredentials) given.push('--preserve-credentials')
  if (o.keepCaps) given.push('--keep-caps')
  if (o.root) given.push('-r')
  if (o.wd) given.push('-w')
  if (o.wdns !== undefined) given.push('-W')
  if (o.env) given.push('-e')
  if (o.noFork) given.push('-F')
  if (o.joinCgroup) given.push('-c')
  if (o.userParent) given.push('--user-parent')
  if (o.netSocket !== undefined) given.push('-N')
  if (o.mountProc) given.push('--mount-proc')
  return given
}
