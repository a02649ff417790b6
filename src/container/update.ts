import {mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import {CgroupLayout, readCgroupLayout} from '../cgroup/hierarchy.js'
import type {Store} from '../store/store.js'
import {locateMemberships, readProcCgroup} from '../cgroup/membership.js'
import {enableControllers, planLimitWrites, removeCgroups, writeCgroupFiles} from './cgroups.js'
import type {CgroupPlace, CgroupWrite} from './cgroup-place.js'
import {findByNameOrId} from './exec.js'
import {Limits, parseCpuList, parseCpus, parseCpuset, parseMemory, parsePidsLimit} from './limits.js'
import {parseResourceFlags, ResourceFlags} from './resources.js'
import {type Container, lockContainer, parseRestart, recordCgroups, type RestartPolicy, writeConfig} from './state.js'

/**
 * docker update: new limits for containers, written at once to the cgroups a running one
 * already has, and saved in its state so that inspect and ps report them (and a stopped one's
 * next start applies them); a new restart policy, which a running container's supervisor reads
 * from its restart-policy file before it decides on a restart. nsx update and the Engine API's
 * POST /containers/{id}/update both call updateContainer.
 */

export interface LimitFlags {
  memory?: string
  cpus?: string
  pidsLimit?: string
  cpusetCpus?: string
  resources?: ResourceFlags
}

export interface UpdateResult {
  name: string
  /** Every limit in force after the update (bytes, CPUs, microseconds; devices by path and major:minor). */
  limits: Limits
  /** The restart policy, when the update gave one. */
  restart?: RestartPolicy
}

/** What else an update may change. */
export interface UpdateOptions {
  /** docker's --restart: no, on-failure[:N], always, unless-stopped. */
  restart?: string
}

const fail = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 1, kind)
}

/** Parse and check limit flags (the same rules as run); `current` gives --memory for the swap and reservation checks. */
export function parseLimitFlags(f: LimitFlags, current: Limits = {}): Limits {
  const lim: Limits = {}
  const cpuOnline = readFileSync('/sys/devices/system/cpu/online', 'utf8')
  if (f.memory !== undefined) lim.memory = parseMemory(f.memory)
  if (f.cpus !== undefined) lim.cpus = parseCpus(f.cpus, parseCpuList(cpuOnline, 'online CPU list').size)
  if (f.pidsLimit !== undefined) lim.pids = parsePidsLimit(f.pidsLimit) ?? -1
  if (f.cpusetCpus !== undefined) lim.cpusetCpus = parseCpuset(f.cpusetCpus, cpuOnline)
  Object.assign(lim, parseResourceFlags(f.resources ?? {}, {memory: lim.memory ?? current.memory, cpus: lim.cpus}))
  return lim
}

/**
 * The limits after an update: what is given replaces what was; --cpus and --cpu-period/--cpu-quota
 * replace each other (both set the CFS quota). Also what must be written: the changed limits,
 * with --memory and its swap together (v1 memsw is bound to the memory limit).
 */
export function mergeLimits(current: Limits, change: Limits): {limits: Limits; write: Limits} {
  const limits: Limits = {...current, ...change}
  if (change.cpus !== undefined) {
    delete limits.cpuPeriod
    delete limits.cpuQuota
  }
  if (change.cpuPeriod !== undefined || change.cpuQuota !== undefined) delete limits.cpus
  if (limits.pids === -1) delete limits.pids
  const write: Limits = {...change}
  if (change.pids === -1) write.pids = -1
  if (change.memory !== undefined && limits.memorySwap !== undefined) write.memorySwap = limits.memorySwap
  if (change.memorySwap !== undefined && limits.memory !== undefined) write.memory = limits.memory
  if (write.memorySwap !== undefined && write.memorySwap !== -1 && write.memory !== undefined && write.memorySwap < write.memory)
    fail(`--memory ${write.memory} is above the container's --memory-swap ${write.memorySwap}: give a --memory-swap too`)
  return {limits, write}
}

/** The container's cgroup of each hierarchy, from the directories in its state. */
export function placesOf(dirs: string[], layout: CgroupLayout): CgroupPlace[] {
  const places: CgroupPlace[] = []
  for (const dir of dirs) {
    const parentDir = dir.slice(0, dir.lastIndexOf('/'))
    if (layout.v2 && dir.startsWith(`${layout.v2}/`)) {
      places.push({hierarchy: 'v2', version: 2, parentDir, dir})
      continue
    }
    const h = layout.v1.find((x) => dir.startsWith(`${x.mountpoint}/`))
    if (h) places.push({hierarchy: h.controllers.join(','), version: 1, parentDir, dir})
  }
  return places
}

/**
 * The writes of `write` to a container's cgroups. A v1 hierarchy it has no cgroup in (a limit
 * of a kind it started without, on a hybrid host) gets one at its spare place (registered with
 * its supervisor's cleanup at the start), returned in `make`; without one, refused by name.
 */
export function planUpdate(
  name: string,
  places: CgroupPlace[],
  layout: CgroupLayout,
  write: Limits,
  spare: CgroupPlace[] = [],
): {writes: CgroupWrite[]; enable: {dir: string; controllers: string[]}[]; make: CgroupPlace[]} {
  const enable: {dir: string; controllers: string[]}[] = []
  const make: CgroupPlace[] = []
  const need = (controller: string, flag: string): CgroupPlace => {
    const v1 = layout.v1.find((h) => h.controllers.includes(controller))
    if (v1) {
      const key = v1.controllers.join(',')
      const p = places.find((x) => x.version === 1 && x.hierarchy === key) ?? make.find((x) => x.hierarchy === key)
      if (p) return p
      const s = spare.find((x) => x.version === 1 && x.hierarchy === key)
      if (!s) return fail(`${flag}: container ${name} has no ${controller} cgroup, and it was started by an nsx that could not add one later: give the limit at its next start`)
      make.push(s)
      return s
    }
    const v2Name = controller === 'blkio' ? 'io' : controller
    const p = places.find((x) => x.version === 2)
    if (!p || !layout.v2Controllers.includes(v2Name)) return fail(`${flag} needs the ${controller} cgroup controller, which is not mounted here (cgroup mode ${layout.mode})`)
    const e = enable.find((x) => x.dir === p.parentDir)
    if (!e) enable.push({dir: p.parentDir, controllers: [v2Name]})
    else if (!e.controllers.includes(v2Name)) e.controllers.push(v2Name)
    return p
  }
  const writes = planLimitWrites(write, need).map((w) => (w.file === 'pids.max' && w.value === '-1' ? {...w, value: 'max'} : w))
  // A new v1 cpuset cgroup has no CPUs or memory nodes until given its parent's.
  const seed: CgroupWrite[] = []
  for (const p of make) {
    if (layout.v1.find((h) => h.controllers.join(',') === p.hierarchy)?.controllers.includes('cpuset')) {
      seed.push({dir: p.dir, file: 'cpuset.cpus', value: {copy: true}}, {dir: p.dir, file: 'cpuset.mems', value: {copy: true}})
    }
  }
  return {writes: [...seed, ...writes], enable, make}
}

const pidsIn = (dir: string): number[] => {
  const out: number[] = []
  const walk = (d: string) => {
    let text = ''
    try {
      text = readFileSync(`${d}/cgroup.procs`, 'utf8')
    } catch {
      return
    }
    for (const l of text.split('\n')) if (l !== '') out.push(Number(l))
    // The container's own sub-cgroups (a privileged container may make some).
    for (const e of readdirSync(d, {withFileTypes: true})) if (e.isDirectory()) walk(`${d}/${e.name}`)
  }
  walk(dir)
  return out
}

/**
 * Move every process of the container (those in `from`, its cgroup in a hierarchy it has had
 * from its start, and below it) into `to`, again until a pass finds none left behind: a process
 * forked while others moved may have been born where its parent was.
 */
function moveProcesses(from: string, to: string): number {
  for (let pass = 0; pass < 50; pass++) {
    const there = new Set(pidsIn(to))
    const left = pidsIn(from).filter((p) => !there.has(p))
    if (left.length === 0) return there.size
    for (const pid of left) {
      try {
        writeFileSync(`${to}/cgroup.procs`, String(pid))
      } catch (err) {
        // Gone meanwhile: nothing to move.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
      }
    }
  }
  return fail(`cannot move the processes of ${from} into ${to}: they keep forking`)
}

/** Make the cgroups of `make`, move the container's processes into them; on failure, undo and throw one line. */
function attachNew(make: CgroupPlace[], from: string, origin: (p: CgroupPlace) => string | undefined, apply: () => void): string[] {
  const made: CgroupPlace[] = []
  try {
    for (const p of make) {
      try {
        mkdirSync(p.dir)
      } catch (err) {
        fail(`cannot create the cgroup ${p.dir}: ${(err as Error).message}`, 'internal')
      }
      made.push(p)
    }
    apply()
    for (const p of made) if (moveProcesses(from, p.dir) === 0) fail('it is not running any more', 'conflict')
    return made.map((p) => p.dir)
  } catch (err) {
    for (const p of made.reverse()) {
      const back = origin(p)
      for (const pid of back === undefined ? [] : pidsIn(p.dir)) {
        try {
          writeFileSync(`${back}/cgroup.procs`, String(pid))
        } catch {
          /* gone */
        }
      }
      removeCgroups([p.dir])
    }
    throw err
  }
}

/**
 * v1 keeps memsw at or above the memory limit at every moment: raising both, memsw goes first;
 * lowering, memory first. The kernel's current limit decides.
 */
export function orderMemoryWrites(writes: CgroupWrite[], currentLimit: (dir: string) => number | undefined): CgroupWrite[] {
  const mem = writes.findIndex((w) => w.file === 'memory.limit_in_bytes')
  const sw = writes.findIndex((w) => w.file === 'memory.memsw.limit_in_bytes')
  if (mem < 0 || sw < 0 || sw < mem) return writes
  const now = currentLimit(writes[mem].dir)
  const next = Number(writes[mem].value)
  if (now === undefined || next <= now) return writes
  const out = [...writes]
  const [s] = out.splice(sw, 1)
  out.splice(mem, 0, s)
  return out
}

function readLimit(dir: string): number | undefined {
  try {
    return Number(readFileSync(`${dir}/memory.limit_in_bytes`, 'utf8').trim())
  } catch {
    return undefined
  }
}

/**
 * One container's limits (and restart policy) changed; throws one line (exit 1) for a container
 * that cannot be. Under the container's lock, as every verb that changes it: two updates (or an
 * update and a start, stop or rename) are serialised, and neither writes a config.json the other
 * read before.
 */
export async function updateContainer(store: Store, spec: string, flags: LimitFlags, layout: CgroupLayout = readCgroupLayout(), opts: UpdateOptions = {}): Promise<UpdateResult> {
  const found = findByNameOrId(store, spec)
  if (!found) return fail(`No such container: ${spec}`, 'not-found')
  const {lock, container: c} = await lockContainer(store, found)
  try {
    return updateLocked(c, flags, layout, opts)
  } finally {
    lock.release()
  }
}

/** docker update CONTAINER...: each updated in turn (`given`: the names as given, of those updated); one's failure (its line in `errors`) does not stop the others. */
export async function updateContainers(store: Store, specs: readonly string[], flags: LimitFlags, opts: UpdateOptions = {}): Promise<{updated: UpdateResult[]; given: string[]; errors: string[]}> {
  const layout = readCgroupLayout()
  const updated: UpdateResult[] = []
  const given: string[] = []
  const errors: string[] = []
  for (const spec of specs) {
    try {
      updated.push(await updateContainer(store, spec, flags, layout, opts))
      given.push(spec)
    } catch (err) {
      if (!(err instanceof NsxError)) throw err
      errors.push(err.message)
    }
  }
  return {updated, given, errors}
}

/** A new restart policy, checked as docker checks it; a running container's supervisor must have been given one at its start. */
function restartChange(c: Container, given: string): RestartPolicy {
  let p: RestartPolicy
  try {
    p = parseRestart(given)
  } catch (err) {
    return fail((err as Error).message)
  }
  if (p.policy !== 'no' && c.config.autoRemove) fail(`Restart policy cannot be updated because AutoRemove is enabled for the container ${c.config.name}`)
  if (c.status === 'running' && p.policy !== 'no' && (c.config.restart?.policy ?? 'no') === 'no')
    fail(`container ${c.config.name} runs without a restart policy, and its supervisor cannot take one while it runs: stop it, update it, start it again`, 'conflict')
  return p
}

function updateLocked(c: Container, flags: LimitFlags, layout: CgroupLayout, opts: UpdateOptions): UpdateResult {
  const name = c.config.name
  if (c.status !== 'running' && c.status !== 'created' && c.status !== 'exited') fail(`container ${name} is ${c.status}: update it once it runs or has stopped`, 'conflict')
  const restart = opts.restart === undefined ? undefined : restartChange(c, opts.restart)
  const {devices: _devices, devicesV1: _v1, ...current} = c.config.limits ?? {}
  const change = parseLimitFlags(flags, current)
  if (Object.keys(change).length === 0 && restart === undefined) fail('nothing to update: give at least one limit flag or --restart (see nsx update --help)')
  const {limits, write} = mergeLimits(current, change)
  if (Object.keys(change).length > 0 && c.status === 'running') writeLive(c, write, layout)
  // The supervisor reads the policy before its next restart; the config is what inspect and the next start read.
  if (restart !== undefined && c.status === 'running') {
    writeFileSync(`${c.dir}/restart-policy.tmp`, `${restart.policy} ${restart.maxRetries}\n`)
    renameSync(`${c.dir}/restart-policy.tmp`, `${c.dir}/restart-policy`)
  } else if (restart !== undefined) rmSync(`${c.dir}/restart-policy`, {force: true}) // the next start's supervisor is given the config's

  writeConfig(c.dir, {...c.config, limits: {...limits, ...(c.config.limits.devices ? {devices: c.config.limits.devices} : {}), ...(c.config.limits.devicesV1 ? {devicesV1: true} : {})}, ...(restart !== undefined ? {restart} : {})})
  return {name, limits, ...(restart !== undefined ? {restart} : {})}
}

/** The changed limits written to a running container's cgroups (a v1 cgroup it lacks made and its processes moved in). */
function writeLive(c: Container, write: Limits, layout: CgroupLayout): void {
  const name = c.config.name
  const cgroups = c.run?.cgroups ?? []
  if (cgroups.length === 0) fail(`container ${name} has no cgroups of its own (rootless): its limits cannot be changed`)
  const places = placesOf(cgroups, layout)
  const {writes, enable, make} = planUpdate(name, places, layout, write, placesOf(c.run?.spareCgroups ?? [], layout))
  const apply = () => {
    enableControllers(enable)
    writeCgroupFiles(orderMemoryWrites(writes, readLimit))
  }
  let added: string[] = []
  try {
    if (make.length === 0) apply()
    else {
      // The processes come from a cgroup it has had since its start (the cgroup2 one on a hybrid host).
      const from = (places.find((p) => p.version === 2) ?? places[0])?.dir
      if (from === undefined) fail('it has no cgroup to find its processes in')
      // Where they are now in each new cgroup's hierarchy, to go back to if something fails.
      const now = locateMemberships(readProcCgroup(c.pids?.init.pid ?? 0) ?? [], layout)
      const origin = (p: CgroupPlace) => now.find((m) => m.version === 1 && m.controllers.join(',') === p.hierarchy)?.directory
      added = attachNew(make, from!, origin, apply)
    }
  } catch (err) {
    // The cgroup writers speak with nsx run's 125; update is docker's exit 1.
    if (err instanceof NsxError) fail(`container ${name}: ${err.message}`, err.kind)
    throw err
  }
  if (added.length > 0 && c.run) recordCgroups(c.dir, c.run, [...cgroups, ...added])
}
