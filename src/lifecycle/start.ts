import {existsSync} from 'node:fs'
import type {Socket} from 'node:net'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import type {Plan} from '../plan/ops.js'
import {readStat} from '../proc/process.js'
import type {Store} from '../store/store.js'
import type {CgroupSetup} from '../container/cgroups.js'
import {alive, Container, DEFAULT_LOG, type ContainerLock, ContainerConfig, killIfSame, nameLink, pinPath, readContainer, recordStart, sleep, withContainer} from '../container/state.js'

/** The plan of one start of a container, rebuilt from its saved config each time. */
export async function planStart(store: Store, config: ContainerConfig, dir: string, opts: {detached: boolean; attachClient?: number}): Promise<{plan: Plan; cgroups: CgroupSetup; healthProbe?: {path: string; argv: string[]}}> {
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
      if (!g) throw NsxError.notFound(`no such group: ${config.group} (the container was created in it; nsx group create ${config.group} makes it again)`, 125)
      parent = g.cgroups
    }
    cgroups = planCgroups(layout, own, config.name, config.id, config.limits, parent)
  }
  // The container's own cgroups at its /sys/fs/cgroup (read-only unless privileged).
  const {planCgroupfs, readHostCgroupLinks} = await import('../container/cgroupfs.js')
  cgroups.cgroupfs = planCgroupfs(layout, cgroups.places, {userns: config.spec.userns !== undefined, readOnly: !config.spec.privileged, hostLinks: await readHostCgroupLinks()})
  const {networkPaths} = await import('./container-network.js')
  const {namespacePaths} = await import('./container-namespaces.js')
  const paths = {...containerPaths(dir, pinPath(store, config.id), nameLink(store, config.name)), ...(await networkPaths(store, config)), ...(await namespacePaths(store, config))}
  const {READY_FD} = await import('../container/launch.js')
  const {seccompCachePath} = await import('../security/seccomp.js')
  const seccompCache = config.spec.security?.seccomp ? seccompCachePath(store.root, config.spec.security.seccomp) : undefined
  // Every kept container is logged, as docker's are: a foreground one's output relayed on too (tee); --rm's is not kept.
  // With the none driver the supervisor relays the output the same way and keeps nothing.
  const log = opts.detached || !config.autoRemove ? {path: join(dir, 'container.log'), ...(config.log ?? DEFAULT_LOG), tee: !opts.detached, none: config.log?.driver === 'none'} : undefined
  // The healthcheck's probe, nsx exec's plan for this start's cgroups, run by the supervisor.
  const {planHealthProbe} = await import('../container/health-plan.js')
  const hp = await planHealthProbe(config, dir, store.root, process.geteuid?.() === 0 ? cgroups.places.map((p) => p.dir) : [])
  const healthProbe = hp ? {path: join(dir, 'health-probe'), argv: hp.argv} : undefined
  const health = hp ? {op: 'ctr-health' as const, probe: healthProbe!.path, state: join(dir, 'health'), intervalMs: hp.probe.intervalMs, timeoutMs: hp.probe.timeoutMs, startPeriodMs: hp.probe.startPeriodMs, startIntervalMs: hp.probe.startIntervalMs, retries: hp.probe.retries} : undefined
  const plan = buildRunPlan(config.spec, config.lowerDirs, paths, cgroups, {health,readyFd: opts.detached ? READY_FD : undefined, seccompCache, termGrace: opts.detached ? undefined : (config.stopTimeout ?? 10), keep: !config.autoRemove, log, attach: opts.detached, attachClient: opts.attachClient,
    restart: opts.detached && config.restart && config.restart.policy !== 'no' ? {policy: config.restart.policy, maxRetries: config.restart.maxRetries} : undefined,
  })
  return {plan, cgroups, healthProbe}
}

export type StartResult = {name: string; id: string; started: boolean}

/**
 * docker start: a created or exited container runs again, on its kept upper directory, in
 * the background (its supervisor keeps its output, its terminal and its exit code). A running
 * one is left alone (docker prints its name and succeeds). Returns once the command has been
 * exec'd. (No options: attaching is startAttached's; the Engine API still passes an empty set.)
 */
export async function startContainer(store: Store, ref: string, _opts: Record<string, never> = {}): Promise<StartResult> {
  return withContainer(store, ref, async (c, lock) => {
    if (c.status === 'running' || c.status === 'starting') return {name: c.config.name, id: c.config.id, started: false}
    await launch(store, c, {detached: true, lock})
    return {name: c.config.name, id: c.config.id, started: true}
  })
}

export interface StartAttachedOptions {
  /** -i: this stdin goes to the container too, when it was created with -i (docker's rule); its end closes the container's. */
  interactive?: boolean
  /** --detach-keys, docker's form (ctrl-p,ctrl-q by default). */
  detachKeys?: string
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
}

export type StartAttachedResult = {name: string; id: string; detached: true} | {name: string; id: string; detached: false; exitCode: number}

/**
 * docker start -a [-i]: attach, then start, as docker's CLI does. The container is started
 * in the background as by nsx start, with nsx's end of a socket pair as its supervisor's first
 * attach client from the fork on, so no output is said before nsx listens; a running one is
 * attached to through its socket. Ends with the container (its exit code) or when the detach
 * keys are typed (it goes on running).
 */
export async function startAttached(store: Store, ref: string, opts: StartAttachedOptions): Promise<StartAttachedResult> {
  const {parseDetachKeys, connectAttach, relayAttach} = await import('./attach.js')
  const keys = parseDetachKeys(opts.detachKeys ?? 'ctrl-p,ctrl-q')
  const {c, sock, exited} = await withContainer(store, ref, async (c, lock) => {
    if (c.status === 'running' || c.status === 'starting') {
      if (!existsSync(join(c.dir, 'attach.sock'))) throw NsxError.conflict(`container ${c.config.name} was started in the foreground: its terminal is the one of the nsx that started it`, 1)
      return {c, sock: await connectAttach(c.dir), exited: undefined}
    }
    const started = await launch(store, c, {detached: true, lock, attachClient: true})
    return {c, sock: started.attach!, exited: started.exited}
  })
  const name = c.config.name
  const id = c.config.id
  const forwardSignal = (signal: NodeJS.Signals) => {
    const now = readContainer(c.dir)
    if (now?.status === 'running' && now.pids) killIfSame(now.pids.supervisor, signal)
  }
  const {detached} = await relayAttach(sock, {tty: c.config.spec.tty, input: Boolean(opts.interactive) && c.config.spec.interactive, closeStdin: true, keys, forwardSignal, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr})
  if (detached) return {name, id, detached: true}
  // Started here: its supervisor's status is the exit code, even of an --rm container already removed.
  if (exited) {
    const alive = setInterval(() => {}, 1 << 30) // the supervisor is an unreferenced child: keep Node up for its exit
    try {
      return {name, id, detached: false, exitCode: await exited}
    } finally {
      clearInterval(alive)
    }
  }
  const {waitContainer} = await import('./wait.js')
  const w = await waitContainer(store, id)
  return {name, id, detached: false, exitCode: w.exitCode}
}

/**
 * Start C (its lock held by the caller): the previous start's leftovers go, the start is
 * recorded, the cgroups made, the executor run. Throws with the executor's status if the
 * command could not be started (125/126/127).
 */
export async function launch(store: Store, c: Container, opts: {detached: boolean; lock?: ContainerLock; attachClient?: boolean}): Promise<{attach?: Socket; exited?: Promise<number>}> {
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
    const {ATTACH_CLIENT_FD} = await import('../container/launch.js')
    planned = await planStart(store, c.config, c.dir, {detached: opts.detached, attachClient: opts.attachClient ? ATTACH_CLIENT_FD : undefined})
  } catch (err) {
    if (await attaching.then(() => true, () => false)) await net.detachAfterFailure(store, c.config)
    throw err
  }
  await attaching
  const {plan, cgroups, healthProbe} = planned
  if (healthProbe) {
    const {writeFileSync} = await import('node:fs')
    writeFileSync(healthProbe.path, healthProbe.argv.map((a) => `${a}\0`).join(''), {mode: 0o600})
  }
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
  // The log driver none keeps no container.log, not even an empty one.
  const containerLog = c.config.log?.driver === 'none' ? undefined : join(c.dir, 'container.log')
  const started = await launcher.startDetached(plan, join(c.dir, 'supervisor.log'), () => {}, containerLog, {attachClient: opts.attachClient}).catch(async (err) => {
    await net.detachAfterFailure(store, c.config)
    throw err
  })
  if (started.failed !== null && started.failed !== 0) {
    await net.detachAfterFailure(store, c.config)
    // A command not found or not executable is the request's fault (dockerd's startInvalidConfigError: 400).
    throw new NsxError(started.message || `the container exited with status ${started.failed} before its command ran`, started.failed, started.failed === 126 || started.failed === 127 ? 'invalid' : 'internal')
  }
  return {attach: started.attach, exited: started.exited}
}
