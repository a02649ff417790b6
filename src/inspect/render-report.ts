import {Palette} from '../render/colour.js'
import type {Limits} from '../container/limits.js'
import {printable} from '../render/printable.js'
import {Column, renderTable} from '../render/table.js'
import {CapabilitySet} from '../proc/capabilities.js'
import {groupName} from '../proc/users.js'
import type {NamespaceEntry} from './namespaces.js'
import type {InspectReport} from './report.js'
import {renderChain} from './render-userns.js'
import {INITIAL_INODES} from '../ns/host.js'

const yesNo = (b: boolean | null) => (b === null ? '?' : b ? 'yes' : 'no')

function hostBasisLine(r: InspectReport): string {
  const ref = r.hostReference
  const compared = r.namespaces.filter((n) => n.hostBasis === 'reference-process').map((n) => n.type)
  let s = "HOST = the kernel's initial namespace, known by its fixed inode"
  if (compared.length > 0 && ref) s += `; ${compared.join(', ')} compared with ${ref.name} (pid ${ref.pid})`
  return s
}

function idLine(r: InspectReport): string {
  const u = r.uids
  const g = r.gids
  const user = r.user ? `${r.user} ` : ''
  let s = `${user}uid ${u.real}`
  if (u.effective !== u.real || u.saved !== u.real || u.filesystem !== u.real) s += ` (effective ${u.effective}, saved ${u.saved}, fs ${u.filesystem})`
  s += `, gid ${g.real}`
  if (g.effective !== g.real || g.saved !== g.real || g.filesystem !== g.real) s += ` (effective ${g.effective}, saved ${g.saved}, fs ${g.filesystem})`
  if (r.groups.length > 0) s += `, groups ${r.groups.map((x) => (groupName(x) ? `${x}(${groupName(x)})` : String(x))).join(' ')}`
  return s
}

function capLine(c: CapabilitySet): string {
  return c.summary
}

export function renderReport(r: InspectReport, p: Palette): string {
  const out: string[] = []
  const field = (k: string, v: string) => out.push(`${k.padEnd(13)}${v}`)
  // Name, command line, hostname, paths and cgroup names are the process's to choose: escaped (printable).
  out.push(`${p.bold(`pid ${r.pid}`)} (${printable(r.name)})${r.command ? `  ${printable(r.command)}` : ''}`)
  const verdict = r.isolated.length === 0 ? p.yellow(r.verdict) : p.green(r.verdict)
  field('verdict', verdict)
  field('parent', `pid ${r.ppid}`)
  field('user', idLine(r))
  if (r.uts) field('hostname', printable(r.uts.domainname && r.uts.domainname !== '(none)' ? `${r.uts.hostname} (domain ${r.uts.domainname})` : r.uts.hostname))
  else field('hostname', `unknown (${r.utsError ?? 'not read'})`)
  field('root', r.root === null ? 'unknown' : printable(r.root))
  field('cwd', r.cwd === null ? 'unknown' : printable(r.cwd))
  if (r.container) {
    field('container', `${r.container.name}${r.container.group ? ` (group ${r.container.group})` : ''}`)
    field('limits', limitsLine(r.container.limits))
  }
  out.push('')

  out.push(p.bold('NAMESPACES'), p.dim(hostBasisLine(r)))
  const cols: Column<NamespaceEntry>[] = [
    {header: 'TYPE', value: (n) => n.type},
    {header: 'INODE', align: 'right', value: (n) => String(n.inode)},
    {header: 'HOST', value: (n) => yesNo(n.host)},
    {header: 'PROCS', align: 'right', value: (n) => (n.processes === null ? '-' : String(n.processes))},
    {header: 'OTHER', align: 'right', value: (n) => String(n.otherHolders)},
    {header: 'OWNER', value: (n) => (n.owner === null ? '-' : `user:[${n.owner}]`)},
  ]
  out.push(renderTable(cols, r.namespaces).trimEnd())
  if (r.forChildren.pid !== undefined) out.push(`children get pid:[${r.forChildren.pid}] (pid_for_children differs)`)
  // One line per namespace the threads are in: a runtime's worker threads come by the dozen.
  const apart = new Map<string, number[]>()
  for (const t of r.threadsApart) apart.set(`${t.type}:[${t.inode}]`, [...(apart.get(`${t.type}:[${t.inode}]`) ?? []), t.tid])
  for (const [ns, tids] of apart) {
    const type = ns.slice(0, ns.indexOf(':'))
    const own = r.namespaces.find((n) => n.type === type)
    const who = tids.length === 1 ? `thread ${tids[0]} is` : `${tids.length} threads are`
    out.push(`${who} in ${ns}, not the process's ${type}:[${own?.inode ?? '?'}]${tids.length > 1 ? `: ${tids.join(' ')}` : ''}`)
  }
  if (r.forChildren.time !== undefined) out.push(`children get time:[${r.forChildren.time}] (time_for_children differs)`)
  out.push('')

  out.push(p.bold('PIDS'), p.dim('the pid in each pid namespace, outermost first (NSpid)'))
  for (const l of r.nspid) {
    const ns = l.pidns === null ? 'pid:[?]' : `pid:[${l.pidns}]`
    const host = l.pidns === INITIAL_INODES.pid ? ' (host)' : ''
    out.push(`  ${String(l.pid).padStart(7)}  in ${ns}${host}`)
  }
  out.push('')

  out.push(p.bold('USER NAMESPACES'), p.dim('innermost first; map ids outside are the parent namespace\'s'))
  out.push(renderChain(r.userns, p, '  ').trimEnd())
  out.push('')

  out.push(p.bold(`CGROUPS (${r.cgroups.mode})`))
  if (r.cgroups.memberships.length === 0) out.push('  none readable')
  else {
    out.push(
      renderTable(
        [
          {header: 'VER', value: (m) => `v${m.version}`},
          {header: 'ID', align: 'right', value: (m) => String(m.hierarchyId)},
          {header: 'CONTROLLERS', value: (m) => (m.controllers.length > 0 ? printable(m.controllers.join(',')) : '-')},
          {header: 'PATH', value: (m) => printable(m.path)},
          {header: 'DIRECTORY', value: (m) => (m.directory === undefined ? '(not mounted here)' : printable(m.directory))},
        ],
        r.cgroups.memberships,
      ).trimEnd(),
    )
  }
  out.push('')

  out.push(p.bold('SECURITY'), p.dim(`capabilities count over user:[${r.capabilities.userns}]`))
  field('effective', capLine(r.capabilities.effective))
  field('permitted', capLine(r.capabilities.permitted))
  field('bounding', capLine(r.capabilities.bounding))
  if (r.capabilities.inheritable.names.length > 0) field('inheritable', capLine(r.capabilities.inheritable))
  if (r.capabilities.ambient.names.length > 0) field('ambient', capLine(r.capabilities.ambient))
  const filters = r.seccomp.mode === 'filter' ? ` (${r.seccomp.filters} filter${r.seccomp.filters === 1 ? '' : 's'})` : ''
  const insns = r.seccomp.instructions ? `, ${r.seccomp.instructions.join('+')} instructions` : ''
  field('seccomp', `${r.seccomp.mode}${filters.replace(/\)$/, `${insns})`)}${r.seccomp.readError ? ` (not read back: ${r.seccomp.readError})` : ''}`)
  if (r.seccomp.verdicts?.length) {
    const groups = new Map<string, string[]>()
    for (const v of r.seccomp.verdicts) groups.set(v.verdict, [...(groups.get(v.verdict) ?? []), v.syscall])
    for (const [verdict, names] of groups) field("", `${verdict}: ${names.join(" ")}`)
  }
  field('no_new_privs', yesNo(r.noNewPrivs))
  field('root', r.rootReadOnly === null ? 'unknown' : r.rootReadOnly ? 'read-only' : 'read-write')
  const dev = r.devices
  if (dev.error) field('devices', `unknown (${dev.error})`)
  else if (dev.source === 'none') field('devices', 'all allowed (no device rules)')
  else {
    field('devices', dev.source === 'v2' ? `cgroup2 device program${dev.programs === 1 ? '' : 's'} (${dev.programs}); of the usual devices it allows:` : 'cgroup v1 devices.list:')
    for (const rule of dev.rules) field('', rule)
  }

  if (r.notes.length > 0) {
    out.push('', p.bold('NOTES'))
    for (const n of r.notes) out.push(`  - ${n}`)
  }
  return out.join('\n') + '\n'
}

/** A container's limits in docker's flag names, sizes in MiB: "memory 64MiB, cpu-shares 512". */
function limitsLine(l: Limits): string {
  const mib = (b: number) => `${Math.round((b / 1024 / 1024) * 100) / 100}MiB`
  const parts: string[] = []
  const add = (k: string, v: unknown) => v !== undefined && parts.push(`${k} ${v}`)
  add('memory', l.memory === undefined ? undefined : mib(l.memory))
  add('memory-reservation', l.memoryReservation === undefined ? undefined : mib(l.memoryReservation))
  add('memory-swap', l.memorySwap === undefined ? undefined : l.memorySwap === -1 ? 'unlimited' : mib(l.memorySwap))
  add('memory-swappiness', l.memorySwappiness)
  if (l.oomKillDisable) parts.push('oom-kill-disable')
  add('cpus', l.cpus)
  add('cpu-shares', l.cpuShares)
  add('cpu-period', l.cpuPeriod)
  add('cpu-quota', l.cpuQuota)
  add('cpuset-cpus', l.cpusetCpus)
  add('cpuset-mems', l.cpusetMems)
  add('pids-limit', l.pids)
  add('blkio-weight', l.blkioWeight)
  for (const [k, list] of [['blkio-weight-device', l.blkioWeightDevice], ['device-read-bps', l.deviceReadBps], ['device-write-bps', l.deviceWriteBps], ['device-read-iops', l.deviceReadIops], ['device-write-iops', l.deviceWriteIops]] as const)
    for (const d of list ?? []) parts.push(`${k} ${printable(d.path)}:${d.value}`)
  return parts.length > 0 ? parts.join(', ') : 'none'
}
