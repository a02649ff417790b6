import {statSync} from 'node:fs'
import {isAbsolute, normalize} from 'node:path'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import {DEFAULT_DEVICE_RULES} from './devices.js'
import {DeviceRule} from '../plan/security-ops.js'
import {ANY, ULIMITS} from '../plan/security-ops.js'
import {containerSeccomp, parseSecurityOpts} from './seccomp.js'
import type {SeccompFilter} from '../plan/security-ops.js'

/**
 * A container's security settings, from docker's flags: what the plan's security ops
 * are built from, and what is saved with the container (so `nsx exec` and a restart get
 * the same filter and rules).
 */
export interface SecuritySpec {
  /** undefined: no filter (seccomp=unconfined, --privileged). */
  seccomp?: SeccompFilter
  readOnly: boolean
  tmpfs: TmpfsMount[]
  devices: DeviceMapping[]
  /** The devices cgroup allow-list: docker's defaults and each --device (empty: --privileged, all allowed). */
  deviceRules: DeviceRule[]
  ulimits: Ulimit[]
  oomScoreAdj?: number
  /** Bytes of /dev/shm (default 64 MiB). */
  shmSize?: number
}

export interface TmpfsMount {
  path: string
  /** Mount flags: ro, nosuid, nodev, noexec. */
  flags: string[]
  /** tmpfs's own options: size=, mode=, uid=, gid=, nr_inodes=. */
  data: string
}

export interface DeviceMapping {
  host: string
  path: string
  type: 'c' | 'b'
  major: number
  minor: number
  /** The file mode bits of the host's node (permissions only). */
  mode: number
  uid: number
  gid: number
  access: string
}

export interface Ulimit {
  name: string
  /** -1: unlimited. */
  soft: number
  hard: number
}

/** What the flags say, as RunOptions carries them. */
export interface SecurityFlags {
  securityOpt?: string[]
  readOnly?: boolean
  tmpfs?: string[]
  devices?: string[]
  ulimits?: string[]
  oomScoreAdj?: string
  shmSize?: string
  privileged: boolean
  /** --device-cgroup-rule 'TYPE MAJOR:MINOR ACCESS' (docker's), e.g. 'c 1:3 mr' or 'c 7:* rwm'. */
  deviceCgroupRules?: string[]
}

const bad = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 125, kind)
}

/** docker's sizes: a number with an optional b, k, m or g (powers of 1024). */
export function parseSize(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(s.trim())
  if (!m) return bad(`invalid ${flag} '${s}': expected a size like 64m (b, k, m, g)`)
  const n = Math.floor(Number(m[1]) * 1024 ** 'bkmgt'.indexOf((m[2] || 'b').toLowerCase()))
  if (!Number.isSafeInteger(n) || n <= 0) return bad(`invalid ${flag} '${s}': it must be greater than 0`)
  return n
}

export function parseUlimit(s: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s)
  if (!m) return bad(`invalid --ulimit '${s}': expected NAME=SOFT[:HARD], e.g. nofile=1024:2048`)
  if (!(m[1] in ULIMITS)) return bad(`invalid --ulimit '${s}': unknown limit ${m[1]} (valid: ${Object.keys(ULIMITS).join(', ')})`)
  const soft = Number(m[2])
  const hard = m[3] === undefined ? soft : Number(m[3])
  for (const v of [soft, hard]) if (v < -1 || !Number.isSafeInteger(v)) bad(`invalid --ulimit '${s}': a value is -1 (unlimited) or a non-negative number`)
  const unl = (v: number) => (v === -1 ? Infinity : v)
  if (unl(soft) > unl(hard)) bad(`invalid --ulimit '${s}': the soft limit ${soft} is above the hard limit ${hard}`)
  return {name: m[1], soft, hard}
}

const TMPFS_FLAGS: Record<string, [flag: string, on: boolean]> = {
  ro: ['ro', true], rw: ['ro', false], noexec: ['noexec', true], exec: ['noexec', false],
  nosuid: ['nosuid', true], suid: ['nosuid', false], nodev: ['nodev', true], dev: ['nodev', false],
}

/** --tmpfs PATH[:OPTIONS]: docker's defaults noexec, nosuid, nodev; options as mount(8) takes them. */
export function parseTmpfs(s: string): TmpfsMount {
  const colon = s.indexOf(':')
  const path = colon < 0 ? s : s.slice(0, colon)
  const opts = colon < 0 ? '' : s.slice(colon + 1)
  if (!isAbsolute(path)) return bad(`invalid --tmpfs '${s}': the path must be absolute`)
  if (normalize(path) === '/') return bad(`invalid --tmpfs '${s}': cannot mount over the container's root`)
  // A tmpfs on /proc would hide proc and the masks over its sensitive files; runc refuses it too.
  if (/^\/proc(\/|$)/.test(normalize(path))) return bad(`invalid --tmpfs '${s}': cannot mount over /proc`)
  const flags = new Map([['noexec', true], ['nosuid', true], ['nodev', true], ['ro', false]])
  const data: string[] = []
  for (const o of opts.split(',').filter(Boolean)) {
    const f = TMPFS_FLAGS[o]
    if (f) {
      flags.set(f[0], f[1])
      continue
    }
    const m = /^(size|mode|uid|gid|nr_inodes|nr_blocks)=(.+)$/.exec(o)
    if (!m) return bad(`invalid --tmpfs '${s}': unknown option '${o}' (valid: ro, rw, exec, noexec, suid, nosuid, dev, nodev, size=, mode=, uid=, gid=, nr_inodes=)`)
    const ok = m[1] === 'mode' ? /^[0-7]{1,4}$/.test(m[2]) : m[1] === 'size' ? /^\d+[kmg%]?$/i.test(m[2]) : /^\d+[kmg]?$/i.test(m[2])
    if (!ok) return bad(`invalid --tmpfs '${s}': bad value in '${o}'`)
    data.push(o)
  }
  return {path: normalize(path).replace(/(.)\/+$/, '$1'), flags: [...flags].filter(([, on]) => on).map(([f]) => f), data: data.join(',')}
}

/** --device HOST[:CTR][:rwm]: a host device node made in the container (and allowed in its devices cgroup). */
export function parseDevice(s: string): DeviceMapping {
  const parts = s.split(':')
  let access = 'rwm'
  if (parts.length > 1 && /^[rwm]+$/.test(parts[parts.length - 1]) && !parts[parts.length - 1].startsWith('/')) access = parts.pop()!
  if (parts.length > 2 || parts[0] === '') return bad(`invalid --device '${s}': expected HOST[:CONTAINER][:rwm]`)
  const host = parts[0]
  const path = parts[1] ?? host
  if (!isAbsolute(host) || !isAbsolute(path)) return bad(`invalid --device '${s}': paths must be absolute`)
  if (new Set(access).size !== access.length) return bad(`invalid --device '${s}': permissions are some of r, w and m, each once`)
  let st
  try {
    st = statSync(host, {bigint: true})
  } catch {
    return bad(`invalid --device '${s}': ${host} does not exist`)
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return bad(`invalid --device '${s}': ${host} is not a device node`)
  const rdev = st.rdev
  // glibc's major()/minor() of a dev_t.
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn))
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn))
  return {host, path: normalize(path).replace(/(.)\/+$/, '$1'), type: st.isCharacterDevice() ? 'c' : 'b', major, minor, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), access}
}

/** --device-cgroup-rule: docker's form, TYPE (a, b, c) MAJOR:MINOR (a number or *) ACCESS (of r, w, m). */
export function parseDeviceCgroupRule(s: string): DeviceRule {
  const m = /^([acb]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/.exec(s.trim())
  if (!m || new Set(m[4]).size !== m[4].length) return bad(`invalid --device-cgroup-rule '${s}': expected TYPE MAJOR:MINOR ACCESS, e.g. 'c 1:3 mr' (TYPE a, b or c; * for any number; ACCESS of r, w, m)`)
  const num = (x: string) => (x === '*' ? ANY : Number(x))
  if ([m[2], m[3]].some((x) => x !== '*' && Number(x) > 4294967295)) return bad(`invalid --device-cgroup-rule '${s}': a device number is too large`)
  return {type: m[1] as DeviceRule['type'], major: num(m[2]), minor: num(m[3]), access: m[4]}
}

export function buildSecuritySpec(f: SecurityFlags, caps: readonly number[]): SecuritySpec {
  const opts = parseSecurityOpts(f.securityOpt ?? [])
  const devices = (f.devices ?? []).map(parseDevice)
  let oomScoreAdj: number | undefined
  if (f.oomScoreAdj !== undefined) {
    if (!/^-?\d+$/.test(f.oomScoreAdj) || Math.abs(Number(f.oomScoreAdj)) > 1000) bad(`invalid --oom-score-adj '${f.oomScoreAdj}': an integer from -1000 to 1000`)
    oomScoreAdj = Number(f.oomScoreAdj)
  }
  const ulimits = new Map<string, Ulimit>()
  for (const u of (f.ulimits ?? []).map(parseUlimit)) ulimits.set(u.name, u)
  return {
    seccomp: containerSeccomp(opts, f.privileged, caps),
    readOnly: f.readOnly ?? false,
    tmpfs: (f.tmpfs ?? []).map(parseTmpfs),
    devices,
    // A --device node is made by mknod in the container, so its rule always allows m (docker's default allows m for every device).
    deviceRules: f.privileged ? [] : [...DEFAULT_DEVICE_RULES, ...devices.map((d) => ({type: d.type, major: d.major, minor: d.minor, access: d.access.includes('m') ? d.access : `${d.access}m`})), ...(f.deviceCgroupRules ?? []).map(parseDeviceCgroupRule)],
    ulimits: [...ulimits.values()],
    oomScoreAdj,
    shmSize: f.shmSize === undefined ? undefined : parseSize(f.shmSize, '--shm-size'),
  }
}
