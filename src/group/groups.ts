import {closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {readCgroupLayout} from '../cgroup/hierarchy.js'
import {groupCgroupLeaf} from '../cgroup/units.js'
import {locateMemberships, readProcCgroup} from '../cgroup/membership.js'
import type {Store} from '../store/store.js'
import {applyCgroups, enableControllers, planCgroups, removeCgroups, writeCgroupFiles} from '../container/cgroups.js'
import type {Limits} from '../container/limits.js'
import {flockExclusive, idOfName, listContainers, readContainer, containerDir} from '../container/state.js'
import {sweepStale} from '../container/sweep.js'
import {LimitFlags, mergeLimits, orderMemoryWrites, parseLimitFlags, placesOf, planUpdate} from '../container/update.js'
import {Group, groupFile, groupsDir, NAME, readGroup} from '../container/group-record.js'

// The record moved to container/group-record.ts (nsx run --group reads it); exported here as well.

/**
 * Named groups (the source material's Professors and Students): a cgroup per hierarchy, made
 * below nsx's own cgroup (or below a parent group) on v1, v2 and hybrid hosts, holding limits
 * that every container run with --group NAME shares. Recorded in the store as
 * ROOT/groups/NAME.json; the containers inside are found by the group saved in their state.
 */


export interface GroupView extends Group {
  /** Running containers inside it, by name. */
  containers: string[]
  /** Groups whose parent it is. */
  children: string[]
}

const fail = (msg: string, code = 1): never => {
  throw new NsxError(msg, code)
}




export function requireGroup(store: Store, name: string): Group {
  return readGroup(store, name) ?? fail(`no such group: ${name} (see nsx group ls)`)
}

function saveGroup(store: Store, g: Group): void {
  mkdirSync(groupsDir(store), {recursive: true, mode: 0o700})
  const tmp = join(groupsDir(store), `.${g.name}.json.${process.pid}`)
  writeFileSync(tmp, JSON.stringify(g, null, 2) + '\n', {mode: 0o600})
  renameSync(tmp, groupFile(store, g.name))
}

export function listGroups(store: Store): GroupView[] {
  let files: string[] = []
  try {
    files = readdirSync(groupsDir(store)).filter((f) => f.endsWith('.json') && !f.startsWith('.'))
  } catch {
    return []
  }
  const groups = files.map((f) => readGroup(store, f.slice(0, -'.json'.length))).filter((g): g is Group => g !== undefined)
  const live = listContainers(store).filter((c) => c.status === 'running' || c.status === 'starting')
  return groups
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((g) => ({...g, containers: live.filter((c) => c.config.group === g.name).map((c) => c.config.name), children: groups.filter((x) => x.parent === g.name).map((x) => x.name)}))
}

export function inspectGroup(store: Store, name: string): GroupView {
  return listGroups(store).find((g) => g.name === name) ?? fail(`no such group: ${name} (see nsx group ls)`)
}

/** "50%" of the host: memory of MemTotal, CPUs of those online; anything else is left to the usual parser. */
export function resolvePercent(flags: LimitFlags, host: {memTotal: number; cpus: number}): {flags: LimitFlags; percent: Group['percent']} {
  const out: LimitFlags = {...flags}
  const percent: Group['percent'] = {}
  const pct = (s: string, flag: string): number | undefined => {
    const m = /^(\d+(?:\.\d+)?)%$/.exec(s.trim())
    if (!m) return undefined
    const v = Number(m[1])
    if (v <= 0 || v > 100) fail(`invalid ${flag} '${s}': a share of the host is above 0% and at most 100%`)
    return v / 100
  }
  if (flags.memory !== undefined) {
    const p = pct(flags.memory, '--memory')
    if (p !== undefined) {
      percent.memory = flags.memory.trim()
      out.memory = String(Math.floor((host.memTotal * p) / 4096) * 4096)
    }
  }
  if (flags.cpus !== undefined) {
    const p = pct(flags.cpus, '--cpus')
    if (p !== undefined) {
      percent.cpus = flags.cpus.trim()
      out.cpus = String(Math.max(0.01, Math.round(host.cpus * p * 100) / 100))
    }
  }
  return {flags: out, percent}
}

export function hostSize(): {memTotal: number; cpus: number} {
  const kb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0)
  const online = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim()
  let cpus = 0
  for (const part of online.split(',')) {
    const [lo, hi] = part.split('-').map(Number)
    cpus += (hi ?? lo) - lo + 1
  }
  return {memTotal: kb * 1024, cpus}
}

export interface CreateGroupOptions {
  name: string
  parent?: string
  limits: LimitFlags
}

/** nsx group create: the cgroups with their limits, then the record; nothing is left when either fails. */
export async function createGroup(store: Store, o: CreateGroupOptions): Promise<Group> {
  return withGroupsLock(store, () => createLocked(store, o))
}

/**
 * Group verbs change a group's record and cgroups: one at a time (ROOT/groups/lock, flock), so
 * two creates of one name, or an update and a rm, never interleave.
 */
export async function withGroupsLock<T>(store: Store, fn: () => Promise<T> | T): Promise<T> {
  mkdirSync(groupsDir(store), {recursive: true, mode: 0o700})
  const fd = openSync(join(groupsDir(store), 'lock'), 'a', 0o600)
  try {
    await flockExclusive(fd)
    return await fn()
  } finally {
    closeSync(fd)
  }
}

function createLocked(store: Store, o: CreateGroupOptions): Group {
  if (!NAME.test(o.name)) fail(`invalid group name '${o.name}': letters, digits, '_', '.' and '-', starting with a letter or digit`)
  if (readGroup(store, o.name)) fail(`group ${o.name} exists already`)
  const parent = o.parent !== undefined ? requireGroup(store, o.parent) : undefined
  const {flags, percent} = resolvePercent(o.limits, hostSize())
  const limits = parseLimitFlags(flags)
  if (limits.pids === -1) delete limits.pids
  const layout = readCgroupLayout()
  const own = locateMemberships(readProcCgroup('self') ?? [], layout)
  const setup = planCgroups(layout, own, o.name, '', limits, parent?.cgroups, {leaf: groupCgroupLeaf(o.name)})
  // The group's own ancestors stay as they are: containers below it get what they need.
  setup.cgroupfs = []
  try {
    applyCgroups(setup)
  } catch (err) {
    if (err instanceof NsxError) fail(err.message)
    throw err
  }
  const g: Group = {name: o.name, ...(parent ? {parent: parent.name} : {}), created: new Date().toISOString(), limits, percent, cgroups: setup.places.map((p) => p.dir)}
  try {
    saveGroup(store, g)
  } catch (err) {
    removeCgroups(g.cgroups)
    throw err
  }
  return g
}

/** nsx group update: new limits written to the group's cgroups at once (percentages of the host again turned absolute). */
export async function updateGroup(store: Store, name: string, flags: LimitFlags): Promise<Group> {
  return withGroupsLock(store, () => updateLocked(store, name, flags))
}

function updateLocked(store: Store, name: string, flags: LimitFlags): Group {
  const g = requireGroup(store, name)
  const resolved = resolvePercent(flags, hostSize())
  const change = parseLimitFlags(resolved.flags, g.limits)
  if (Object.keys(change).length === 0) fail('nothing to update: give at least one limit flag (see nsx group update --help)')
  const {limits, write} = mergeLimits(g.limits, change)
  const layout = readCgroupLayout()
  const {writes, enable} = planUpdate(name, placesOf(g.cgroups, layout), layout, write)
  try {
    enableControllers(enable)
    writeCgroupFiles(orderMemoryWrites(writes, (dir) => Number(readFileSync(`${dir}/memory.limit_in_bytes`, 'utf8'))))
  } catch (err) {
    if (err instanceof NsxError) fail(`group ${name}: ${err.message}`)
    throw err
  }
  const percent = {...g.percent}
  if (flags.memory !== undefined) percent.memory = resolved.percent.memory
  if (flags.cpus !== undefined) percent.cpus = resolved.percent.cpus
  for (const k of ['memory', 'cpus'] as const) if (percent[k] === undefined) delete percent[k]
  const next = {...g, limits, percent}
  saveGroup(store, next)
  return next
}

/** nsx group rm: refused while a container or a child group is inside; with force the containers are stopped first. */
export async function removeGroup(store: Store, name: string, opts: {force?: boolean} = {}): Promise<{name: string; stopped: string[]}> {
  return withGroupsLock(store, () => removeLocked(store, name, opts))
}

async function removeLocked(store: Store, name: string, opts: {force?: boolean}): Promise<{name: string; stopped: string[]}> {
  // What killed containers left inside (their cgroups) goes first, as nsx ps and gc do.
  sweepStale(store)
  const g = inspectGroup(store, name)
  if (g.children.length > 0) fail(`group ${name} has child groups (${g.children.join(', ')}): remove them first`)
  if (g.containers.length > 0 && !opts.force) fail(`group ${name} has running containers (${g.containers.join(', ')}): stop them first, or use -f`)
  const stopped: string[] = []
  if (g.containers.length > 0) {
    for (const c of g.containers) {
      await stopByName(store, c, 10)
      stopped.push(c)
    }
  }
  // A stopped container's supervisor removes its cgroups as it ends: wait a little for it.
  let left = removeCgroups(g.cgroups)
  for (let i = 0; left.length > 0 && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100))
    left = removeCgroups(left)
  }
  if (left.length > 0) fail(`group ${name}: cannot remove ${left.join(', ')}: it is busy (a process outside nsx's containers may be inside)`)
  rmSync(groupFile(store, name), {force: true})
  return {name, stopped}
}

/** Stop a group's container as nsx stop does, under the container's lock (a start or stop in progress goes first). */
async function stopByName(store: Store, name: string, graceSeconds: number): Promise<void> {
  const id = idOfName(store, name)
  if (!id || !readContainer(containerDir(store, id))) return
  const {stopContainer} = await import('../lifecycle/stop.js')
  await stopContainer(store, id, {time: graceSeconds})
}
