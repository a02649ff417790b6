import type {InspectReport} from '../inspect/report.js'
import type {MountEntry} from '../inspect/mounts.js'
import type {IdMap} from '../userns/maps.js'

/** What nsx diff compares, in the order it reports. */
export const DIFF_AREAS = ['namespaces', 'userns-maps', 'credentials', 'cgroups', 'limits', 'capabilities', 'seccomp', 'no-new-privs', 'devices', 'root', 'mounts', 'hostname', 'environment'] as const
export type DiffArea = (typeof DIFF_AREAS)[number]

export type DiffValue = string | number | boolean | null

/** One way in which B's isolation differs from A's. */
export interface Difference {
  area: DiffArea
  /** Within the area: a namespace type, a capability set, a mount's target, a limit, ... */
  item: string
  /** added: only B has it; removed: only A has it; changed: both, with other values. */
  change: 'added' | 'removed' | 'changed'
  /** A's value (absent when added). */
  a?: DiffValue
  /** B's value (absent when removed). */
  b?: DiffValue
  /** For a set (capabilities, environment names, device rules): the members only A has. */
  onlyA?: string[]
  /** The members only B has. */
  onlyB?: string[]
}

export interface DiffSummary {
  /** Both isolations are the same in every area compared. */
  same: boolean
  differences: Difference[]
  /** Areas one side's report cannot speak for (unreadable, or a saved report from before nsx recorded it). */
  notCompared: {area: DiffArea; why: string}[]
}

type Acc = {differences: Difference[]; notCompared: DiffSummary['notCompared']}

/** Compare two inspect reports, area by area. Identity (pid, command, share counts) is not isolation and is ignored. */
export function compareReports(a: InspectReport, b: InspectReport): DiffSummary {
  const acc: Acc = {differences: [], notCompared: []}
  namespaces(acc, a, b)
  usernsMaps(acc, a, b)
  credentials(acc, a, b)
  cgroups(acc, a, b)
  limits(acc, a, b)
  capabilities(acc, a, b)
  seccomp(acc, a, b)
  value(acc, 'no-new-privs', 'no_new_privs', a.noNewPrivs, b.noNewPrivs)
  devices(acc, a, b)
  value(acc, 'root', 'path', a.root, b.root, true)
  value(acc, 'root', 'read-only', a.rootReadOnly, b.rootReadOnly, true)
  mounts(acc, a, b)
  hostname(acc, a, b)
  environment(acc, a, b)
  return {same: acc.differences.length === 0, ...acc}
}

/** An item both sides have (or not): null or undefined on either side is "unknown there" when `unknown`. */
function value(acc: Acc, area: DiffArea, item: string, a: DiffValue | undefined, b: DiffValue | undefined, nullIsUnknown = false): void {
  if (a === undefined || b === undefined || (nullIsUnknown && (a === null || b === null))) {
    if (a !== b) skip(acc, area, `${item}: ${side(a, b)} does not record it`)
    return
  }
  if (a !== b) acc.differences.push({area, item, change: 'changed', a, b})
}

function side(a: unknown, b: unknown): string {
  const ua = a === undefined || a === null
  const ub = b === undefined || b === null
  return ua && ub ? 'neither report' : ua ? 'report A' : 'report B'
}

function skip(acc: Acc, area: DiffArea, why: string): void {
  if (!acc.notCompared.some((n) => n.area === area && n.why === why)) acc.notCompared.push({area, why})
}

/** A set item (capabilities, names): one difference naming the members only one side has. */
function set(acc: Acc, area: DiffArea, item: string, a: readonly string[], b: readonly string[]): void {
  const inB = new Set(b)
  const inA = new Set(a)
  const onlyA = a.filter((x) => !inB.has(x))
  const onlyB = b.filter((x) => !inA.has(x))
  if (onlyA.length === 0 && onlyB.length === 0) return
  const change = onlyA.length === 0 ? 'added' : onlyB.length === 0 ? 'removed' : 'changed'
  acc.differences.push({area, item, change, onlyA, onlyB})
}

/** Keyed entries: removed (only A), added (only B), changed (both, other text). */
function keyed(acc: Acc, area: DiffArea, a: Map<string, string>, b: Map<string, string>): void {
  for (const [k, va] of a) {
    const vb = b.get(k)
    if (vb === undefined) acc.differences.push({area, item: k, change: 'removed', a: va})
    else if (vb !== va) acc.differences.push({area, item: k, change: 'changed', a: va, b: vb})
  }
  for (const [k, vb] of b) if (!a.has(k)) acc.differences.push({area, item: k, change: 'added', b: vb})
}

function namespaces(acc: Acc, a: InspectReport, b: InspectReport): void {
  const describe = (r: InspectReport) => new Map(r.namespaces.map((n) => [n.type as string, `${n.type}:[${n.inode}]${n.host === true ? ' (host)' : ''}`]))
  keyed(acc, 'namespaces', describe(a), describe(b))
}

function mapText(map: IdMap | undefined): string {
  if (map === undefined) return 'unknown'
  if (map.length === 0) return 'empty (not written yet)'
  return map.map((e) => `${e.inside} ${e.outside} ${e.count}`).join(', ')
}

/** The maps of each process's own user namespace, as nsx reads them (the same namespace has the same maps). */
function usernsMaps(acc: Acc, a: InspectReport, b: InspectReport): void {
  const la = a.userns?.levels?.[0]
  const lb = b.userns?.levels?.[0]
  if (!la || !lb) return skip(acc, 'userns-maps', `${side(la, lb)} has no user-namespace chain`)
  for (const kind of ['uidMap', 'gidMap'] as const) {
    const ma = la[kind]
    const mb = lb[kind]
    if (!ma || !mb) {
      if (ma !== mb) skip(acc, 'userns-maps', `${kind === 'uidMap' ? 'uid_map' : 'gid_map'}: ${side(ma, mb)} could not read it`)
      continue
    }
    value(acc, 'userns-maps', kind === 'uidMap' ? 'uid_map' : 'gid_map', mapText(ma.asRead), mapText(mb.asRead))
  }
  value(acc, 'userns-maps', 'setgroups', la.setgroups, lb.setgroups, true)
}

function credentials(acc: Acc, a: InspectReport, b: InspectReport): void {
  const ids = (s: InspectReport['uids']) => `${s.real} ${s.effective} ${s.saved} ${s.filesystem}`
  value(acc, 'credentials', 'uid (real effective saved fs)', ids(a.uids), ids(b.uids))
  value(acc, 'credentials', 'gid (real effective saved fs)', ids(a.gids), ids(b.gids))
  set(acc, 'credentials', 'groups', (a.groups ?? []).map(String), (b.groups ?? []).map(String))
}

function cgroups(acc: Acc, a: InspectReport, b: InspectReport): void {
  const paths = (r: InspectReport) => new Map(r.cgroups.memberships.map((m) => [m.version === 2 ? 'cgroup2' : m.controllers.join(','), m.path]))
  keyed(acc, 'cgroups', paths(a), paths(b))
}

function limits(acc: Acc, a: InspectReport, b: InspectReport): void {
  const la = a.cgroups.limits
  const lb = b.cgroups.limits
  if (!la || !lb) {
    if (la !== lb) skip(acc, 'limits', `${side(la, lb)} does not record the cgroup limits`)
  } else {
    const text = (n: number | null) => (n === null ? 'none' : String(n))
    value(acc, 'limits', 'memory', text(la.memory), text(lb.memory))
    value(acc, 'limits', 'pids', text(la.pids), text(lb.pids))
    const cpu = (c: typeof la.cpu) => (c === null ? 'none' : `${c.quota}/${c.period}`)
    value(acc, 'limits', 'cpu (quota/period µs)', cpu(la.cpu), cpu(lb.cpu))
    value(acc, 'limits', 'cpuset cpus', la.cpusetCpus ?? 'none', lb.cpusetCpus ?? 'none')
  }
  // Two nsx containers: the limits as nsx run and nsx update set them too.
  if (a.container && b.container) {
    const render = (l: Record<string, unknown>) => new Map(Object.entries(l).map(([k, v]) => [`container ${k}`, JSON.stringify(v)]))
    keyed(acc, 'limits', render(a.container.limits as Record<string, unknown>), render(b.container.limits as Record<string, unknown>))
  }
}

const CAP_SETS = ['effective', 'permitted', 'bounding', 'inheritable', 'ambient'] as const

function capabilities(acc: Acc, a: InspectReport, b: InspectReport): void {
  for (const s of CAP_SETS) set(acc, 'capabilities', s, a.capabilities[s].names, b.capabilities[s].names)
}

function seccomp(acc: Acc, a: InspectReport, b: InspectReport): void {
  value(acc, 'seccomp', 'mode', a.seccomp.mode, b.seccomp.mode)
  value(acc, 'seccomp', 'filters', a.seccomp.filters, b.seccomp.filters)
  if (a.seccomp.mode !== 'filter' || b.seccomp.mode !== 'filter') return
  // The filters' identity as far as the kernel shows it: their lengths, and their answers.
  const ins = (r: InspectReport) => r.seccomp.instructions?.join(' ')
  value(acc, 'seccomp', 'instructions per filter', ins(a), ins(b))
  const verdicts = (r: InspectReport) => (r.seccomp.verdicts ? new Map(r.seccomp.verdicts.map((v) => [`verdict ${v.syscall}`, v.verdict])) : undefined)
  const va = verdicts(a)
  const vb = verdicts(b)
  if (va && vb) keyed(acc, 'seccomp', va, vb)
  else if (va !== vb) skip(acc, 'seccomp', `filter verdicts: ${side(va, vb)} could not read them back`)
}

function devices(acc: Acc, a: InspectReport, b: InspectReport): void {
  const da = a.devices
  const db = b.devices
  if (!da || !db || da.source === 'unknown' || db.source === 'unknown') {
    skip(acc, 'devices', `${side(da?.source === 'unknown' ? null : da, db?.source === 'unknown' ? null : db)} could not read the device rules`)
    return
  }
  value(acc, 'devices', 'source', da.source, db.source)
  set(acc, 'devices', 'rules', da.rules, db.rules)
}

/** A mount as one line: type, source, the directory of it mounted, and options. */
export function mountText(m: MountEntry): string {
  const root = m.root === '/' ? '' : `[${m.root}]`
  const sup = m.superOptions.length > 0 ? ` (${m.superOptions.join(',')})` : ''
  return `${m.fstype} ${m.source}${root} ${m.options.join(',')}${sup}`
}

/** Mounts by target; a target mounted on more than once keeps each in order ("/x", "/x #2"). */
function mountMap(list: readonly MountEntry[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of list) {
    let key = m.target
    for (let n = 2; out.has(key); n++) key = `${m.target} #${n}`
    out.set(key, mountText(m))
  }
  return out
}

function mounts(acc: Acc, a: InspectReport, b: InspectReport): void {
  if (!a.mounts || !b.mounts) return skip(acc, 'mounts', `${side(a.mounts, b.mounts)} does not record its mounts`)
  keyed(acc, 'mounts', mountMap(a.mounts), mountMap(b.mounts))
}

function hostname(acc: Acc, a: InspectReport, b: InspectReport): void {
  if (!a.uts || !b.uts) return skip(acc, 'hostname', `${side(a.uts, b.uts)} could not read it${a.utsError || b.utsError ? ` (${a.utsError ?? b.utsError})` : ''}`)
  value(acc, 'hostname', 'hostname', a.uts.hostname, b.uts.hostname)
  value(acc, 'hostname', 'domainname', a.uts.domainname, b.uts.domainname)
}

function environment(acc: Acc, a: InspectReport, b: InspectReport): void {
  if (!a.environment || !b.environment) return skip(acc, 'environment', `${side(a.environment, b.environment)} does not record its environment`)
  set(acc, 'environment', 'names', a.environment, b.environment)
}
