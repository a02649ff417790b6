import {existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync} from 'node:fs'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import type {CgroupLayout} from '../cgroup/hierarchy.js'
import type {CgroupMembership} from '../cgroup/membership.js'
import {containerCgroupLeaf} from '../cgroup/units.js'
import {CFS_PERIOD_US, cpuQuotaUs, Limits} from './limits.js'
import {planResourceWrites} from './resource-writes.js'
import type {CgroupfsMount} from '../plan/ops.js'
import type {CgroupPlace, CgroupWrite} from './cgroup-place.js'

// In cgroup-place.ts since resource-writes.ts needs them too; exported here as well for callers.

/**
 * A container's cgroups on v1, v2 and hybrid hosts: one directory, nsx-NAME-ID8, per mounted hierarchy
 * (every v1 hierarchy with a controller, and the cgroup2 tree), made below a parent
 * (nsx's own cgroup in that hierarchy, or --cgroup-parent), with the limits written
 * before the container's first process joins. Planned as data (unit-tested over
 * fixture layouts), then applied; removed by the supervisor after the container ends.
 */

export interface CgroupSetup {
  places: CgroupPlace[]
  /**
   * Where the container's cgroup would be in the v1 hierarchies of limits it starts without
   * (cpu, cpuset, blkio on a hybrid host): not made, but registered with the supervisor's
   * cleanup, so that nsx update can add one there later and it goes when the container ends.
   */
  spare?: CgroupPlace[]
  /** v2: controllers to enable in each parent's cgroup.subtree_control first. */
  enable: {dir: string; controllers: string[]}[]
  writes: CgroupWrite[]
  /** What of them the container sees on /sys/fs/cgroup (src/container/cgroupfs.ts); none when absent. */
  cgroupfs?: CgroupfsMount[]
}

const fail = (msg: string, kind: ErrorKind = 'internal'): never => {
  throw new NsxError(msg, 125, kind)
}

/** v1 controllers a container may start without and be given a limit of by nsx update. */
const UPDATABLE = ['cpu', 'cpuset', 'blkio']

function join(base: string, rel: string): string {
  const r = rel.replace(/^\/+|\/+$/g, '')
  return r === '' ? base : `${base}/${r}`
}

/** Where a controller is: a v1 hierarchy, the v2 tree, or nowhere. */
function placeOf(controller: string, layout: CgroupLayout, places: CgroupPlace[]): CgroupPlace | undefined {
  const v1 = layout.v1.find((h) => h.controllers.includes(controller))
  if (v1) return places.find((p) => p.version === 1 && p.hierarchy === v1.controllers.join(','))
  if (layout.v2Controllers.includes(controller)) return places.find((p) => p.version === 2)
  return undefined
}

/**
 * @param own this process's memberships, located (directory set where mounted)
 * @param parent --cgroup-parent: a path from each hierarchy's root, instead of our own cgroup
 */
export function planCgroups(layout: CgroupLayout, own: CgroupMembership[], name: string, id: string, limits: Limits, parent?: string | string[], opts: {leaf?: string} = {}): CgroupSetup {
  // The id keeps two stores (NSX_ROOT) with a container of the same name apart.
  const leaf = opts.leaf ?? containerCgroupLeaf(name, id)
  // Below a named group (its directories, one per hierarchy), or making one: every hierarchy,
  // so that each of the group's limits holds for what is inside it.
  const every = Array.isArray(parent) || opts.leaf !== undefined
  const below = (mountpoint: string): string | undefined => (Array.isArray(parent) ? parent.find((d) => d.startsWith(`${mountpoint}/`)) : undefined)
  const places: CgroupPlace[] = []
  const spare: CgroupPlace[] = []
  // With a cgroup2 tree the container is born in its v2 cgroup (clone3 CLONE_INTO_CGROUP); a v1
  // hierarchy is added only for a limit it enforces or a figure `nsx top` shows, since every
  // v1 join (a write to cgroup.procs) costs the kernel an RCU grace period (~15 ms here). On a
  // v1-only host, all. Memory and pids are counted only by their controllers (v1 on a hybrid
  // host); CPU usage the cgroup2 tree counts for every cgroup (cpu.stat), so cpuacct is not needed.
  // The freezer always: nsx pause needs it, and on a hybrid host it is v1's (docker and runc's choice there).
  const wanted = new Set<string>(['freezer', 'memory', 'pids'])
  if (limits.cpus !== undefined || limits.cpuShares !== undefined || limits.cpuPeriod !== undefined || limits.cpuQuota !== undefined) wanted.add('cpu')
  if (limits.cpusetCpus !== undefined || limits.cpusetMems !== undefined) wanted.add('cpuset')
  // A v1 devices cgroup only where rules beyond the defaults were asked: a plain run pays no join.
  if (limits.devicesV1) wanted.add('devices')
  if (limits.blkioWeight !== undefined || (limits.blkioWeightDevice ?? limits.deviceReadBps ?? limits.deviceWriteBps ?? limits.deviceReadIops ?? limits.deviceWriteIops)) wanted.add('blkio')
  for (const h of layout.v1) {
    if (!h.controllers.some((c) => !c.startsWith('name='))) continue
    const skip = layout.v2 !== undefined && !every && !h.controllers.some((c) => wanted.has(c))
    if (skip && !h.controllers.some((c) => UPDATABLE.includes(c))) continue
    const key = h.controllers.join(',')
    let parentDir: string | undefined
    if (Array.isArray(parent)) parentDir = below(h.mountpoint)
    else if (parent !== undefined) parentDir = join(h.mountpoint, rootRelative(parent, h.root))
    else parentDir = own.find((m) => m.version === 1 && m.controllers.join(',') === key)?.directory
    if (parentDir === undefined) continue
    ;(skip ? spare : places).push({hierarchy: key, version: 1, parentDir, dir: join(parentDir, leaf)})
  }
  if (layout.v2) {
    const parentDir = Array.isArray(parent) ? below(layout.v2) : parent !== undefined ? join(layout.v2, rootRelative(parent, layout.v2Root ?? '/')) : own.find((m) => m.version === 2)?.directory
    if (parentDir !== undefined) places.push({hierarchy: 'v2', version: 2, parentDir, dir: join(parentDir, leaf)})
  }
  const setup: CgroupSetup = {places, enable: [], writes: [], ...(spare.length > 0 ? {spare} : {})}
  const need = (controller: string, flag: string): CgroupPlace => {
    const p = placeOf(controller, layout, places)
    if (!p) return fail(`${flag} needs the ${controller} cgroup controller, which is not mounted here (cgroup mode ${layout.mode})`)
    if (p.version === 2) {
      const e = setup.enable.find((x) => x.dir === p.parentDir)
      if (e) {
        if (!e.controllers.includes(controller)) e.controllers.push(controller)
      }
      else setup.enable.push({dir: p.parentDir, controllers: [controller]})
    }
    return p
  }
  // A v1 cpuset child has no CPUs or memory nodes until given some: nothing could join it.
  const cpuset = placeOf('cpuset', layout, places)
  if (cpuset?.version === 1) {
    setup.writes.push({dir: cpuset.dir, file: 'cpuset.cpus', value: {copy: true}}, {dir: cpuset.dir, file: 'cpuset.mems', value: {copy: true}})
  }
  // Devices: on a host with a cgroup2 tree the executor attaches an eBPF program to the v2
  // cgroup (hybrid hosts too: the kernel runs it before the v1 check, and no v1 join is paid),
  // and writes the v1 devices cgroup as well only for rules beyond the defaults (devicesV1).
  if (limits.devices && (!layout.v2 || limits.devicesV1)) {
    const p = placeOf('devices', layout, places)
    if (p) for (const w of limits.devices) setup.writes.push({dir: p.dir, file: w.file, value: w.value})
  }
  setup.writes.push(...planLimitWrites(limits, (controller, flag) => {
    // Block IO is v1's blkio or v2's io.
    if (controller === 'blkio' && !placeOf('blkio', layout, places) && layout.v2Controllers.includes('io')) return need('io', flag)
    return need(controller, flag)
  }))
  return setup
}

/**
 * The files of a container's (or group's) limits, in an order the kernel accepts; `need` gives
 * the cgroup of a controller (or throws). Used at creation and by nsx update.
 */
export function planLimitWrites(limits: Limits, need: (controller: string, flag: string) => CgroupPlace): CgroupWrite[] {
  const writes: CgroupWrite[] = []
  if (limits.memory !== undefined) {
    const p = need('memory', '--memory')
    const v = String(limits.memory)
    // Without an explicit --memory-swap, no swap: otherwise the kernel swaps instead of killing and the limit would not hold.
    if (p.version === 1) {
      writes.push({dir: p.dir, file: 'memory.limit_in_bytes', value: v})
      if (limits.memorySwap === undefined) writes.push({dir: p.dir, file: 'memory.memsw.limit_in_bytes', value: v, optional: true})
    } else {
      writes.push({dir: p.dir, file: 'memory.max', value: v})
      if (limits.memorySwap === undefined) writes.push({dir: p.dir, file: 'memory.swap.max', value: '0', optional: true})
    }
  }
  if (limits.pids !== undefined) {
    const p = need('pids', '--pids-limit')
    writes.push({dir: p.dir, file: 'pids.max', value: String(limits.pids)})
  }
  if (limits.cpus !== undefined) {
    const p = need('cpu', '--cpus')
    const q = cpuQuotaUs(limits.cpus)
    if (p.version === 1) {
      writes.push({dir: p.dir, file: 'cpu.cfs_period_us', value: String(CFS_PERIOD_US)}, {dir: p.dir, file: 'cpu.cfs_quota_us', value: String(q)})
    } else {
      writes.push({dir: p.dir, file: 'cpu.max', value: `${q} ${CFS_PERIOD_US}`})
    }
  }
  if (limits.cpusetCpus !== undefined) {
    const p = need('cpuset', '--cpuset-cpus')
    writes.push({dir: p.dir, file: 'cpuset.cpus', value: limits.cpusetCpus})
  }
  writes.push(...planResourceWrites(limits, need))
  return writes
}

/** --cgroup-parent is a path from the hierarchy root; a mount exposing a subtree hides what is above it. */
function rootRelative(path: string, mountRoot: string): string {
  const p = `/${path.replace(/^\/+/, '')}`
  if (mountRoot === '/' || mountRoot === '') return p
  if (p === mountRoot || p.startsWith(`${mountRoot}/`)) return p.slice(mountRoot.length)
  return fail(`--cgroup-parent ${path} is outside the part of the hierarchy mounted here (${mountRoot})`, 'invalid')
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  const map: Record<string, string> = {EINVAL: 'Invalid argument', EACCES: 'Permission denied', EPERM: 'Operation not permitted', EBUSY: 'Device or resource busy', ENOENT: 'No such file or directory', ENOSPC: 'No space left on device', EEXIST: 'File exists'}
  return (e.code && map[e.code]) ?? e.message
}

/** Make the directories and write the limits; on any failure remove what was made and throw one line. */
export function applyCgroups(setup: CgroupSetup): void {
  const made: string[] = []
  try {
    enableControllers(setup.enable)
    for (const p of setup.places) {
      try {
        mkdirSync(p.dir)
      } catch (err) {
        fail(`cannot create the cgroup ${p.dir}: ${errText(err)}`)
      }
      made.push(p.dir)
    }
    writeCgroupFiles(setup.writes)
  } catch (err) {
    removeCgroups(made)
    throw err
  }
}

/** rmdir, deepest last made first; cgroups that are gone already are fine. */
export function removeCgroups(dirs: string[]): string[] {
  const left: string[] = []
  for (const d of [...dirs].reverse()) {
    try {
      rmdirSync(d)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(d)
    }
  }
  return left
}

/** Write limits in order; a file the kernel lacks (unless optional) or refuses is one line naming it. */
export function writeCgroupFiles(writes: CgroupWrite[]): void {
  for (const w of writes) {
    const file = `${w.dir}/${w.file}`
    if (!w.optional && typeof w.value === 'string' && !existsSync(file)) fail(`cannot set ${w.file}: the kernel has no ${file}${w.why ? ` (${w.why})` : ''}`)
    let value: string
    if (typeof w.value === 'string') value = w.value
    else value = readFileSync(`${w.dir.slice(0, w.dir.lastIndexOf('/'))}/${w.file}`, 'utf8').trim()
    try {
      writeFileSync(file, value)
    } catch (err) {
      if (w.optional && (err as NodeJS.ErrnoException).code === 'ENOENT') continue
      fail(`cannot set ${w.file} to ${value} in ${w.dir}: ${errText(err)}`)
    }
  }
}

/** v2: turn the controllers on in each parent's cgroup.subtree_control (what is on already is left). */
export function enableControllers(enable: {dir: string; controllers: string[]}[]): void {
  for (const e of enable) {
    const file = `${e.dir}/cgroup.subtree_control`
    let have: string[] = []
    try {
      have = readFileSync(file, 'utf8').trim().split(/\s+/)
    } catch (err) {
      fail(`cannot read ${file}: ${errText(err)}`)
    }
    const missing = e.controllers.filter((c) => !have.includes(c))
    if (missing.length === 0) continue
    try {
      writeFileSync(file, missing.map((c) => `+${c}`).join(' '))
    } catch (err) {
      const hint = (err as NodeJS.ErrnoException).code === 'EBUSY' ? ' (the parent holds processes: choose another with --cgroup-parent)' : ''
      fail(`cannot enable ${missing.join(', ')} in ${file}: ${errText(err)}${hint}`)
    }
  }
}
