import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import type {Plan} from '../plan/ops.js'
import {readStat} from '../proc/process.js'
import type {Store} from '../store/store.js'
import type {CgroupSetup} from '../container/cgroups.js'
import {alive, Container, DEFAULT_LOG, type ContainerLock, ContainerConfig, killIfSame, nameLink, pinPath, recordStart, sleep, withContainer} from '../container/state.js'

/** The plan of one start of a container, rebuilt from its saved config each time. */
export async function planStart(store: Store, config: ContainerConfig, dir: string, opts: {detached: boolean}): Promise<{plan: Plan; cgroups: CgroupSetup}> {
  const [{planCgroups}, {buildRunPlan, containerPaths}] = await Promise.all([import('../container/cgroups.js'), import('../container/plan.js')])
  let cgroups: CgroupSetup = {places: [], enable: [], writes: []}
  const {readCgroupLayout} = await import('../cgroup/hierarchy.js')
  const layout = readCgroupLayout()
  if ((process.geteuid?.() ?? 0) === 0) {
    const {locateMemberships, readProcCgroup} = await import('../cgroup/membership.js')
    const own = locateMemberships(readProcCgroup('self') ?? [], layout)
    let parent: string | string[] | undefined = config.cgroupParent
    if (config.group !== undefined) {
      const {readGroup} = await import('../container/group-record.js')
      const g = readGroup(store, config.group)
      if (!g) throw new NsxError(`no such group: ${config.group} (the container was created in it; nsx group create ${config.group} makes it again)`, 125)
      parent = g.cgroups
    }
    cgroups = planCgroups(layout, own, config.name, config.id, config.limits, parent)
  }
  // The container's own cgroups at its /sys/fs/cgroup (read-only unless privileged).
  const {planCgroupfs, readHostCgroupLinks} = await import('../container/cgroupfs.js')
  cgroups.cgroupfs = planCgroupfs(layout, cgroups.places, {userns: config.spec.userns !== undefined, readOnly: !config.spec.privileged, hostLinks: await readHostCgroupLinks()})
  const {networkPaths} = await import('./container-network.js')
  const paths = {...containerPaths(dir, pinPath(store, config.id), nameLink(store, config.name)), ...(await networkPaths(store, config))}
  const {READY_FD} = await import('../container/launch.js')
  const {seccompCachePath} = await import('../security/seccomp.js')
  const seccompCache = config.spec.security?.seccomp ? seccompCachePath(store.root, config.spec.security.seccomp) : undefined
  // Every kept container is logged, as docker's are: a foreground one's output relayed on too (tee); --rm's is not kept.
  const log = opts.detached || !config.autoRemove ? {path: join(dir, 'container.log'), ...(config.log ?? DEFAULT_LOG), tee: !opts.detached} : undefined
  const plan = buildRunPlan(config.spec, config.lowerDirs, paths, cgroups, {readyFd: opts.detached ? READY_FD : undefined, seccompCache, termGrace: opts.detached ? undefined : (config.stopTimeout ?? 10), keep: !config.autoRemove, log, attach: opts.detached,
    restart: opts.detached && config.restart && config.restart.policy !== 'no' ? {policy: config.restart.policy, maxRetries: config.restart.maxRetries} : undefined,
  })
  return {plan, cgroups}
}

export interface StartOptions {
  /** -a: stay attached (nsx becomes the supervisor, the command's output on this terminal, its status nsx's). */
  attach?: boolean
  /** -i: this stdin goes to the container too (its own -i decides whether it reads it). */
  interactive?: boolean
}

export type StartResult = {name: string; id: string; started: boolean}

/**
 * docker start: a created or exited container runs again, on its kept upper directory.
 * A running one is left alone (docker prints its name and succeeds). Detached, returns once
 * the command has been exec'd; attached, never returns (nsx becomes its supervisor).
 */
export async function startContainer(store: Store, ref: string, opts: StartOptions = {}): Promise<StartResult> {
  return withContainer(store, ref, async (c, lock) => {
    if (c.status === 'running' || c.status === 'starting') return {name: c.config.name, id: c.config.id, started: false}
    await launch(store, c, {detached: !opts.attach, lock})
    return {name: c.config.name, id: c.config.id, started: true}
  })
}

/**
 * Start C (its lock held by the caller): the previous start's leftovers go, the start is
 * recorded, the cgroups made, the executor run. Throws with the executor's status if the
 * command could not be started (125/126/127).
 */
export async function launch(store: Store, c: Container, opts: {detached: boolean; lock?: ContainerLock}): Promise<void> {
  if (c.orphanInit) {
    killIfSame(c.orphanInit, 'SIGKILL')
    const init = c.orphanInit
    for (let i = 0; i < 200 && alive(init); i++) await sleep(10)
  }
  const {applyCgroups, removeCgroups} = await import('../container/cgroups.js')
  if (c.run) removeCgroups(c.run.cgroups)
  // CNI ADD before anything is recorded (a taken port fails here, and the container stays as
  // it was), its plugins running while the start is planned.
  const net = await import('./container-network.js')
  const attaching = net.attachForStart(store, c.config, c.dir)
  attaching.catch(() => {}) // awaited below
  let planned: Awaited<ReturnType<typeof planStart>>
  try {
    planned = await planStart(store, c.config, c.dir, opts)
  } catch (err) {
    if (await attaching.then(() => true, () => false)) await net.detachAfterFailure(store, c.config)
    throw err
  }
  await attaching
  const {plan, cgroups} = planned
  const self = readStat(process.pid)
  recordStart(c.dir, {startedAt: new Date().toISOString(), creator: {pid: process.pid, startTime: self?.starttime ?? 0}, cgroups: cgroups.places.map((p) => p.dir), ...(cgroups.spare ? {spareCgroups: cgroups.spare.map((p) => p.dir)} : {}), detached: opts.detached})
  try {
    applyCgroups(cgroups)
  } catch (err) {
    removeCgroups(cgroups.places.map((p) => p.dir))
    await net.detachAfterFailure(store, c.config)
    throw err
  }
  const launcher = await import('../container/launch.js')
  if (!opts.detached) {
    // Neither lock may pass to the supervisor (it inherits every file nsx has open): the
    // next verb reads this container as starting, then running, and waits on nothing.
    store.unlock()
    opts.lock?.release()
    await launcher.execForeground(plan).catch(async (err) => {
      await net.detachAfterFailure(store, c.config)
      throw err
    }) // never returns
  }
  const started = await launcher.startDetached(plan, join(c.dir, 'supervisor.log'), () => {}, join(c.dir, 'container.log')).catch(async (err) => {
    await net.detachAfterFailure(store, c.config)
    throw err
  })
  if (started.failed !== null && started.failed !== 0) {
    await net.detachAfterFailure(store, c.config)
    throw new NsxError(started.message || `the container exited with status ${started.failed} before its command ran`, started.failed)
  }
}
