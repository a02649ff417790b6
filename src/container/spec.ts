import {lstatSync, readFileSync} from 'node:fs'
import {hostname as osHostname} from 'node:os'
import {isAbsolute, join, normalize} from 'node:path'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import type {ImageDefaults} from '../image/config.js'
import {CAPABILITIES, parseCapability} from '../proc/capabilities.js'
import type {RunOptions} from './options.js'
import {readEnvFile} from './env-flags.js'
import type {IdMapping} from '../plan/ops.js'
import {buildSecuritySpec, SecuritySpec} from '../security/spec.js'
import {parseSysctl} from '../security/sysctls.js'
import type {NetSpec} from '../network/types.js'
import {EtcSpec, parseAddHost, parseDnsOption, parseDnsSearch, parseDnsServer} from './etc-files.js'

/**
 * The container to run, from the flags and the image's config: what nsx run's plan
 * is built from. Pure apart from reading the image's /etc/passwd and /etc/group.
 */
export interface RunSpec {
  name: string
  hostname: string
  argv: string[]
  /** NAME=VALUE, in the order docker applies them: image, --env-file, -e. */
  env: string[]
  workdir: string
  uid: number
  gid: number
  groups: number[]
  caps: number[]
  privileged: boolean
  /** none, host, bridge, container:NAME or a network's name (src/network/). */
  network: string
  /** Ports, address, MAC and aliases on a bridge network. */
  net?: NetSpec
  volumes: Volume[]
  interactive: boolean
  tty: boolean
  detach: boolean
  userns?: UsernsSpec
  /** seccomp, devices, read-only root, tmpfs, rlimits, OOM score (src/security/spec.ts). */
  security: SecuritySpec
  /** What its /etc/hosts, /etc/hostname and /etc/resolv.conf are made from. */
  etc: EtcSpec
  /** --pid, --uts, --ipc, --cgroupns as asked (absent: a namespace of its own): host, container:NAME, private, shareable. */
  namespaces?: {pid?: string; uts?: string; ipc?: string; cgroupns?: string}
  /** --init was asked (nsx's containers always have their init as PID 1: inspect shows what was asked). */
  init?: boolean
  /** --group-add as given (their gids are in groups). */
  groupAdd?: string[]
  /** --device-cgroup-rule as given (the rules are in security.deviceRules). */
  deviceCgroupRules?: string[]
  /** --link NAME[:ALIAS]: the container NAME by ALIAS in /etc/hosts (src/lifecycle/links.ts). */
  links?: {name: string; alias: string}[]
  /** --volumes-from as given (the volumes are in volumes). */
  volumesFrom?: string[]
  /** --sysctl, written in the container's own namespaces after pivot_root. */
  sysctls?: Record<string, string>
}

/** The container's user namespace: maps written by the supervisor; rootless = no host privilege. */
export interface UsernsSpec {
  uidMap: IdMapping[]
  gidMap: IdMapping[]
  setgroups: 'allow' | 'deny'
  rootless: boolean
}

/** --userns CONTAINER:HOST:COUNT[,CONTAINER:HOST:COUNT...]: the same map for uids and gids. */
export function parseUserns(s: string): IdMapping[] {
  const out: IdMapping[] = []
  for (const part of s.split(',')) {
    const m = /^(\d+):(\d+):(\d+)$/.exec(part)
    if (!m) return bad(`invalid --userns '${s}': expected CONTAINER:HOST:COUNT, e.g. 0:100000:65536`)
    const [inside, outside, count] = [Number(m[1]), Number(m[2]), Number(m[3])]
    if (count < 1 || inside + count > 4294967295 || outside + count > 4294967295) return bad(`invalid --userns '${s}': the range ${part} is empty or too large`)
    for (const o of out)
      if (inside < o.inside + o.count && o.inside < inside + count) return bad(`invalid --userns '${s}': container ids overlap`)
    out.push({inside, outside, count})
  }
  if (!out.some((x) => x.inside === 0)) return bad(`invalid --userns '${s}': container root (id 0) must be mapped`)
  return out
}

export interface Volume {
  /** The host path bound; for a named or anonymous volume, its data directory once resolved (src/volume/mounts.ts). */
  source: string
  target: string
  readOnly: boolean
  /** A named volume (`-v NAME:/path`) or an anonymous one (`-v /path`): its name. */
  volume?: string
  /** `-v /path`: a volume made for this container, removed with it by rm -v. */
  anonymous?: boolean
  /** `:nocopy`: the image's content at the path is not copied into a new volume. */
  noCopy?: boolean
}

/** docker's rule for a local volume's name: a word that is not a path. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/

const bad = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 125, kind)
}

/** docker's default capability set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
]

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** runc's default masked paths: hidden from the container. */
export const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
]

/** runc's default read-only paths. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

/** docker's container name rule; also a valid pin id and directory name. */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/

export function checkName(name: string): string {
  if (!NAME_RE.test(name)) bad(`invalid container name '${name}': use letters, digits, '_', '.' and '-', starting with a letter or digit, at most 63 characters`)
  return name
}

export function checkHostname(h: string): string {
  if (h.length > 64 || !/^[a-zA-Z0-9]([a-zA-Z0-9-.]*[a-zA-Z0-9])?$/.test(h)) bad(`invalid hostname '${h}': letters, digits, '-' and '.', at most 64 characters`)
  return h
}

/** Capability numbers: the default set (or all with --privileged), then --cap-drop, then --cap-add ("ALL" allowed in both). */
export function resolveCaps(o: Pick<RunOptions, 'capAdd' | 'capDrop' | 'privileged'>, lastCap: number): number[] {
  const all = Array.from({length: lastCap + 1}, (_, i) => i)
  const parse = (s: string, flag: string): number[] => {
    if (s.toUpperCase() === 'ALL') return all
    const n = parseCapability(s)
    if (n === undefined || n > lastCap || /^\d+$/.test(s))
      return bad(`unknown capability '${s}' for ${flag} (valid: ${CAPABILITIES.slice(0, lastCap + 1).map((c) => c.slice(4)).join(', ')}, ALL)`)
    return [n]
  }
  const set = new Set(o.privileged ? all : DEFAULT_CAPS.map((c) => parseCapability(c)!))
  const drop = o.capDrop.flatMap((c) => parse(c, '--cap-drop'))
  const add = o.capAdd.flatMap((c) => parse(c, '--cap-add'))
  for (const c of drop) set.delete(c)
  for (const c of add) set.add(c)
  return [...set].sort((a, b) => a - b)
}

/**
 * -v HOST:CTR[:OPTS], -v NAME:CTR[:OPTS] (a named volume) or -v CTR (an anonymous one); OPTS
 * is ro or rw, and nocopy for a volume. A host path must be absolute and exist; a volume's
 * source is filled in when the container is created (src/volume/mounts.ts).
 */
export function parseVolume(v: string): Volume {
  const parts = v.split(':')
  if (parts.length === 1 && isAbsolute(v)) parts.unshift('')
  let opts: string[] = []
  if (parts.length === 3) opts = parts.pop()!.split(',')
  if (parts.length !== 2 || parts[1] === '' || (parts[0] === '' && v.includes(':'))) bad(`invalid volume '${v}': expected HOST:CONTAINER[:ro], NAME:CONTAINER[:ro] or CONTAINER`)
  const [source, target] = parts
  const named = source !== '' && !isAbsolute(source)
  for (const o of opts) if (!['ro', 'rw', ...(source === '' || named ? ['nocopy'] : [])].includes(o)) bad(`invalid volume '${v}': unknown option '${o}' (ro, rw${named || source === '' ? ', nocopy' : ''})`)
  if (named && !VOLUME_NAME.test(source)) bad(`invalid volume '${v}': "${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`)
  if (!isAbsolute(target)) bad(`invalid volume '${v}': the container path must be absolute`)
  if (normalize(target) === '/') bad(`invalid volume '${v}': cannot mount over the container's root`)
  const readOnly = opts.includes('ro')
  if (source === '') return {source: '', target: normalize(target), readOnly, anonymous: true, ...(opts.includes('nocopy') ? {noCopy: true} : {})}
  if (named) return {source: '', target: normalize(target), readOnly, volume: source, ...(opts.includes('nocopy') ? {noCopy: true} : {})}
  try {
    lstatSync(source)
  } catch {
    bad(`invalid volume '${v}': ${source} does not exist`)
  }
  return {source, target: normalize(target), readOnly}
}

/** A file of the image, from the topmost layer that has it (lowerDirs lowest first); undefined when absent. */
export function readImageFile(lowerDirs: readonly string[], path: string): string | undefined {
  for (let i = lowerDirs.length - 1; i >= 0; i--) {
    const p = join(lowerDirs[i], path)
    try {
      const st = lstatSync(p)
      // A whiteout (char 0/0) deletes the file in this and the lower layers.
      if (st.isCharacterDevice()) return undefined
      if (!st.isFile()) return undefined
      return readFileSync(p, 'utf8')
    } catch {
      // not in this layer
    }
  }
  return undefined
}

interface PasswdEntry {
  name: string
  uid: number
  gid: number
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  return (text ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[2]) && /^\d+$/.test(f[3]))
    .map((f) => ({name: f[0], uid: Number(f[2]), gid: Number(f[3])}))
}

function parseGroup(text: string | undefined): {name: string; gid: number; members: string[]}[] {
  return (text ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[2]))
    .map((f) => ({name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean)}))
}

/** -u / the image's User: "", user, uid, user:group or uid:gid, names looked up in the image. */
export function resolveUser(spec: string, passwdText: string | undefined, groupText: string | undefined): {uid: number; gid: number; groups: number[]} {
  if (spec === '') return {uid: 0, gid: 0, groups: []}
  const [u, g] = spec.split(':', 2)
  const passwd = parsePasswd(passwdText)
  const groups = parseGroup(groupText)
  const idOk = (s: string) => /^\d+$/.test(s) && Number(s) <= 4294967294
  let uid: number
  let gid: number | undefined
  let userName: string | undefined
  if (idOk(u)) {
    uid = Number(u)
    const e = passwd.find((p) => p.uid === uid)
    gid = e?.gid
    userName = e?.name
  } else {
    const e = passwd.find((p) => p.name === u)
    if (!e) return bad(`unable to find user ${u}: no matching entries in the image's /etc/passwd`)
    uid = e.uid
    gid = e.gid
    userName = e.name
  }
  if (g !== undefined && g !== '') {
    if (idOk(g)) gid = Number(g)
    else {
      const e = groups.find((x) => x.name === g)
      if (!e) return bad(`unable to find group ${g}: no matching entries in the image's /etc/group`)
      gid = e.gid
    }
  }
  const supplementary = userName === undefined || (g !== undefined && g !== '') ? [] : groups.filter((x) => x.members.includes(userName!)).map((x) => x.gid)
  return {uid, gid: gid ?? 0, groups: [...new Set(supplementary)]}
}

/** --group-add: a gid, or a group's name in the image's /etc/group (docker's rule). */
export function resolveGroupAdd(groups: readonly string[], groupText: string | undefined): number[] {
  const table = parseGroup(groupText)
  return groups.map((g) => {
    if (/^\d+$/.test(g) && Number(g) <= 4294967294) return Number(g)
    const e = table.find((x) => x.name === g)
    return e ? e.gid : bad(`unable to find group ${g}: no matching entries in the image's /etc/group`)
  })
}

/** docker's rule: the command replaces Cmd; --entrypoint replaces Entrypoint (and drops Cmd). */
export function resolveCommand(o: Pick<RunOptions, 'entrypoint' | 'command'>, d: ImageDefaults | undefined): string[] {
  const entrypoint = o.entrypoint !== undefined ? (o.entrypoint === '' ? [] : [o.entrypoint]) : d?.entrypoint ?? []
  const cmd = o.command.length > 0 ? o.command : o.entrypoint !== undefined ? [] : d?.cmd ?? []
  const argv = [...entrypoint, ...cmd]
  if (argv.length === 0) bad('no command: give one after the options (nsx run --layer DIR -- CMD), or use an image that defines Cmd or Entrypoint')
  return argv
}

/**
 * The container's environment as docker's Config.Env shows it: the defaults (PATH, HOSTNAME,
 * TERM with -t), the image's, --env-file, then -e. A bare NAME (no '=') unsets NAME, the
 * image's or a default's value too, and stays in the list bare, as moby keeps it in Config.Env;
 * the process gets only the NAME=VALUE entries (encodeEnv). The caller's values for bare names
 * are the CLI's business (resolveCallerEnv), never looked up here: the Engine API's client sent
 * what it meant.
 */
export function buildEnv(o: Pick<RunOptions, 'env' | 'envFiles' | 'tty'>, d: ImageDefaults | undefined, hostname: string, hostEnv: NodeJS.ProcessEnv = process.env): string[] {
  const vars = new Map<string, string | undefined>()
  const put = (entry: string) => {
    const eq = entry.indexOf('=')
    if (eq === 0 || entry === '') bad(`invalid environment variable '${entry}': expected NAME=VALUE`)
    if (entry.includes('\0')) bad('invalid environment variable: it holds a NUL byte')
    if (eq < 0) vars.set(entry, undefined)
    else vars.set(entry.slice(0, eq), entry.slice(eq + 1))
  }
  put(`PATH=${DEFAULT_PATH}`)
  put(`HOSTNAME=${hostname}`)
  if (o.tty) put('TERM=xterm')
  for (const e of d?.env ?? []) if (e.includes('=')) put(e)
  for (const f of o.envFiles) for (const e of readEnvFile(f, hostEnv)) put(e)
  for (const e of o.env) put(e)
  if (!vars.has('HOME')) vars.set('HOME', '/root')
  return [...vars].map(([k, v]) => (v === undefined ? k : `${k}=${v}`))
}

export function buildSpec(o: RunOptions, lowerDirs: readonly string[], d: ImageDefaults | undefined, name: string, lastCap: number, userns?: UsernsSpec): RunSpec {
  // docker: with the host's network the container is called as the host is (its UTS namespace stays its own).
  // --uts host: the host's name, which the container cannot change for it (docker refuses --hostname with it).
  if (o.uts === 'host' && o.hostname !== undefined) bad('conflicting options: --hostname and --uts host (the container has the host\'s name)')
  const hostname = checkHostname(o.hostname ?? (o.network === 'host' || o.uts === 'host' ? osHostname() : name.slice(0, 64).replace(/[_.]/g, '-').replace(/-+$/, '')))
  const workdir = o.workdir ?? (d?.workingDir || '/')
  if (!isAbsolute(workdir)) bad(`invalid working directory '${workdir}': it must be absolute`)
  const user = resolveUser(o.user ?? d?.user ?? '', readImageFile(lowerDirs, 'etc/passwd'), readImageFile(lowerDirs, 'etc/group'))
  const env = buildEnv(o, d, hostname)
  if (user.uid !== 0) {
    // HOME of a non-root user, when the image's passwd knows it and nothing set it.
    const home = (readImageFile(lowerDirs, 'etc/passwd') ?? '').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(user.uid))?.[5]
    const i = env.findIndex((e) => e.startsWith('HOME='))
    if (home && i >= 0 && env[i] === 'HOME=/root' && !(d?.env ?? []).some((e) => e.startsWith('HOME='))) env[i] = `HOME=${home}`
  }
  const caps = resolveCaps(o, lastCap)
  if (o.groupAdd?.length) user.groups = [...new Set([...user.groups, ...resolveGroupAdd(o.groupAdd, readImageFile(lowerDirs, 'etc/group'))])]
  const namespaces = Object.fromEntries(Object.entries({pid: o.pid, uts: o.uts, ipc: o.ipc, cgroupns: o.cgroupns}).filter(([, v]) => v !== undefined))
  return {
    name,
    hostname,
    argv: resolveCommand(o, d),
    env,
    workdir: normalize(workdir),
    ...user,
    caps,
    privileged: o.privileged,
    network: o.network,
    ...(o.network === 'host' || o.network === 'none' || o.network.startsWith('container:')
      ? {}
      : {net: {publish: o.publish ?? [], publishAll: o.publishAll ?? false, exposed: d?.exposedPorts ?? [], ...(o.ip !== undefined ? {ip: o.ip} : {}), ...(o.ip6 !== undefined ? {ip6: o.ip6} : {}), ...(o.macAddress !== undefined ? {mac: o.macAddress} : {}), aliases: o.networkAliases ?? [], ...(o.linkLocalIps?.length ? {linkLocalIps: o.linkLocalIps} : {}), ...(o.endpointDriverOpts ? {driverOpts: o.endpointDriverOpts} : {})}}),
    volumes: o.volumes.map(parseVolume),
    interactive: o.interactive,
    tty: o.tty,
    detach: o.detach,
    userns,
    security: buildSecuritySpec(o, caps),
    etc: {
      hostname,
      name,
      network: o.network,
      addresses: [],
      extraHosts: (o.addHosts ?? []).map(parseAddHost),
      dns: (o.dns ?? []).map(parseDnsServer),
      dnsSearch: (o.dnsSearch ?? []).map(parseDnsSearch),
      dnsOptions: (o.dnsOptions ?? []).map(parseDnsOption),
    },
    ...(Object.keys(namespaces).length > 0 ? {namespaces} : {}),
    ...(o.init ? {init: true} : {}),
    ...(o.groupAdd?.length ? {groupAdd: o.groupAdd} : {}),
    ...(o.deviceCgroupRules?.length ? {deviceCgroupRules: o.deviceCgroupRules} : {}),
    ...(o.links?.length ? {links: o.links.map(parseLink)} : {}),
    ...(o.volumesFrom?.length ? {volumesFrom: o.volumesFrom} : {}),
    ...(o.sysctls?.length ? {sysctls: Object.fromEntries(o.sysctls.map((x) => parseSysctl(x, {network: o.network, ipc: o.ipc})).map((x) => [x.name, x.value]))} : {}),
  }
}

/** --link NAME[:ALIAS] (docker's; ALIAS defaults to NAME; a leading / of docker's names is dropped). */
export function parseLink(s: string): {name: string; alias: string} {
  const [rawName, alias = ''] = s.split(':', 2)
  const name = rawName.replace(/^\//, '')
  // docker's stored form /NAME:/SELF/ALIAS is taken too.
  const a = alias === '' ? name : alias.split('/').pop()!
  if (!NAME_RE.test(name) || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(a) || s.split(':').length > 2) return bad(`invalid --link '${s}': expected NAME[:ALIAS]`)
  return {name, alias: a}
}
