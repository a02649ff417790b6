import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError, reportError} from '../cli/errors.js'
import type {Plan} from '../plan/ops.js'
import {readStat} from '../proc/process.js'
import type {Limits} from './limits.js'
import type {CgroupSetup} from './cgroups.js'
import type {RunOptions} from './options.js'
import type {RunSpec} from './spec.js'
import {anyResourceFlag, parseResourceFlags} from './resources.js'

export type RunOutcome = {kind: 'help'} | {kind: 'done'; exitCode: number}

/**
 * `nsx run ARGS`: parse (docker's flags), prepare the root from the image store, take the
 * name, make the cgroups, then hand over to the native executor, which stays as the
 * supervisor. Shared by bin/nsx's fast path (no oclif) and commands/run.ts. Everything
 * that fails before the executor runs is nsx's own failure: one line, 125, nothing left.
 */
export async function runRun(argv: readonly string[]): Promise<RunOutcome> {
  const undo: Array<() => void> = []
  try {
    const {parseRunArgs} = await import('./options.js')
    const o = parseRunArgs(argv)
    if (o.help) return {kind: 'help'}
    // docker's check: -i with -t relays this terminal, so there must be one (a pipe would hang at a prompt).
    if (o.interactive && o.tty && !o.dryRun && !(await import('node:tty')).isatty(0)) return {kind: 'done', exitCode: reportError(new NsxError('the input device is not a TTY', 1), 'nsx run', 1)}
    const r = await prepare(o, undo)
    if (o.dryRun) {
      const {renderDryRun, dryRunJson} = await import('../plan/dry-run.js')
      process.stdout.write(o.json ? `${JSON.stringify({...dryRunJson(r.plan), spec: r.spec}, null, 2)}\n` : renderDryRun(r.plan))
      return {kind: 'done', exitCode: 0}
    }
    const {claimContainer} = await import('./state.js')
    const {applyCgroups, removeCgroups} = await import('./cgroups.js')
    const {pinLayers, unpin} = await import('../store/pins.js')
    const {encodeEnv} = await import('./plan.js')
    const etc = await import('./etc-files.js')
    const self = readStat(process.pid)
    const dir = claimContainer(
      r.store,
      {
        version: 1,
        name: r.spec.name,
        id: r.id,
        created: new Date().toISOString(),
        command: r.spec.argv,
        image: o.image,
        layers: r.lowerDirs.length,
        hostname: r.spec.hostname,
        detached: o.detach,
        cgroups: r.cgroups.places.map((p) => p.dir),
        limits: r.limits,
        ...(o.group !== undefined ? {group: o.group} : {}),
        creator: {pid: process.pid, startTime: self?.starttime ?? 0},
        process: {
          uid: r.spec.uid,
          gid: r.spec.gid,
          groups: r.spec.groups,
          caps: r.spec.caps,
          workdir: r.spec.workdir,
          noNewPrivs: true,
          privileged: r.spec.privileged,
          userns: r.spec.userns !== undefined,
          seccomp: r.spec.security.seccomp,
        },
      },
      {env: encodeEnv(r.spec.env), ...etc.etcFiles(r.spec.etc, {resolvConf: etc.hostResolvConf(), hosts: etc.hostHosts()})},
    )
    undo.push(() => r.store.retire(dir))
    if (r.spec.userns && !r.spec.userns.rootless) {
      // Mount points of the idmapped layers; the upper and work directories belong to container root.
      const {mkdirSync, chownSync} = await import('node:fs')
      for (let i = 0; i < r.lowerDirs.length; i++) mkdirSync(join(dir, 'lower', String(i)), {recursive: true})
      const host = (m: import('../plan/ops.js').IdMapping[]) => m.find((x) => x.inside === 0)!.outside
      for (const d of ['upper', 'work', ...Object.keys(etc.ETC_TARGETS)]) chownSync(join(dir, d), host(r.spec.userns.uidMap), host(r.spec.userns.gidMap))
    }
    applyCgroups(r.cgroups)
    undo.push(() => removeCgroups(r.cgroups.places.map((p) => p.dir)))
    undo.push(() => unpin(r.store, r.spec.name))
    if (!o.detach) {
      // The supervisor keeps this pid (execve), so the pin names it from now on.
      pinLayers(r.store, r.spec.name, process.pid, r.layers, r.imageIds)
      // The pin keeps gc away from the layers; the lock must not pass to the supervisor.
      r.store.unlock()
      const {execForeground} = await import('./launch.js')
      return await execForeground(r.plan)
    }
    const {startDetached} = await import('./launch.js')
    const started = await startDetached(r.plan, join(dir, 'log'), (pid) => pinLayers(r.store, r.spec.name, pid, r.layers, r.imageIds))
    undo.length = 0 // the supervisor owns the cleanup now
    if (started.failed !== null && started.failed !== 0) {
      throw new NsxError(started.message || `the container exited with status ${started.failed} before its command ran`, started.failed)
    }
    process.stdout.write(`${r.spec.name}\n`)
    return {kind: 'done', exitCode: 0}
  } catch (err) {
    for (const u of undo.reverse()) {
      try {
        u()
      } catch {
        // best effort: the next sweep removes the rest
      }
    }
    // The store's errors carry the inspection commands' 1; before the executor runs, nsx run fails with 125.
    const e = err instanceof NsxError && err.exitCode === 1 ? new NsxError(err.message, 125) : err
    return {kind: 'done', exitCode: reportError(e, 'nsx run', 125)}
  }
}

interface Prepared {
  store: import('../store/store.js').Store
  spec: RunSpec
  id: string
  plan: Plan
  lowerDirs: string[]
  layers: string[]
  imageIds: string[]
  cgroups: CgroupSetup
  limits: Limits
}

async function prepare(o: RunOptions, undo: Array<() => void>): Promise<Prepared> {
  const [{Store}, {prepareRootfs}, {sweepStale, containerDir}, spec, cg, limits, {buildRunPlan, containerPaths}] = await Promise.all([
    import('../store/store.js'),
    import('../store/import.js'),
    import('./state.js'),
    import('./spec.js'),
    import('./cgroups.js'),
    import('./limits.js'),
    import('./plan.js'),
  ])
  if (o.layers.length === 0 && o.image === undefined) throw new NsxError('nothing to run: give --image PATH[:TAG] (or a stored image) and/or --layer DIR|TAR', 125)
  const euid = process.geteuid?.() ?? 0
  const rootless = euid !== 0
  let userns: import('./spec.js').UsernsSpec | undefined
  if (rootless) {
    // An ordinary user: container root is the user's own uid and gid, nothing else is mapped.
    if (o.userns !== undefined) throw new NsxError('--userns needs root (rootless, container root is your own uid, and only it is mapped)', 125)
    if (o.memory ?? o.cpus ?? o.pidsLimit ?? o.cpusetCpus ?? o.cgroupParent ?? o.group ?? (anyResourceFlag(o.resources ?? {}) || undefined)) throw new NsxError('limits need root: a rootless container gets no cgroup of its own', 125)
    const gid = process.getegid?.() ?? 0
    userns = {uidMap: [{inside: 0, outside: euid, count: 1}], gidMap: [{inside: 0, outside: gid, count: 1}], setgroups: 'deny', rootless: true}
  } else if (o.userns !== undefined) {
    const map = spec.parseUserns(o.userns)
    userns = {uidMap: map, gidMap: map, setgroups: 'allow', rootless: false}
  }
  // Validate every flag before touching the store.
  const lim: Limits = {}
  const cpuOnline = readFileSync('/sys/devices/system/cpu/online', 'utf8')
  if (o.memory !== undefined) lim.memory = limits.parseMemory(o.memory)
  if (o.cpus !== undefined) lim.cpus = limits.parseCpus(o.cpus, limits.parseCpuList(cpuOnline, 'online CPU list').size)
  if (o.pidsLimit !== undefined) lim.pids = limits.parsePidsLimit(o.pidsLimit)
  if (o.cpusetCpus !== undefined) lim.cpusetCpus = limits.parseCpuset(o.cpusetCpus, cpuOnline)
  Object.assign(lim, parseResourceFlags(o.resources ?? {}, {memory: lim.memory, cpus: lim.cpus}))
  const id = randomBytes(16).toString('hex')
  const name = spec.checkName(o.name ?? id.slice(0, 12))
  if (o.hostname !== undefined) spec.checkHostname(o.hostname)
  for (const v of o.volumes) spec.parseVolume(v)
  const etc = await import('./etc-files.js')
  o.addHosts?.forEach(etc.parseAddHost)
  o.dns?.forEach(etc.parseDnsServer)
  o.dnsSearch?.forEach(etc.parseDnsSearch)
  o.dnsOptions?.forEach(etc.parseDnsOption)
  const {readLastCap} = await import('../proc/capabilities.js')
  const lastCap = readLastCap()
  const security = await import('../security/spec.js')
  const sec = security.buildSecuritySpec(o, spec.resolveCaps(o, lastCap))
  if (sec.devices.length > 0 && userns) throw new NsxError('--device needs root without --userns (a user namespace cannot make device nodes)', 125)
  const profileOpt = (o.securityOpt ?? []).find((x) => /^seccomp[=:]/.test(x))
  if (sec.seccomp && profileOpt) {
    const {checkSeccomp} = await import('../security/seccomp.js')
    checkSeccomp(sec.seccomp, profileOpt.slice('seccomp='.length))
  }

  const {v1DeviceWrites} = await import('../security/devices.js')
  lim.devices = v1DeviceWrites(sec.deviceRules)

  const store = Store.open()
  store.lock('shared')
  undo.push(() => store.unlock())
  sweepStale(store)
  // An image the store lacks is pulled (docker run's rule); the registry client loads only then.
  const rootfs = await prepareRootfs(store, {
    image: o.image,
    layers: o.layers,
    resolveImage: async (st, ref) => (await import('../registry/ensure.js')).ensureImage(st, ref),
  })
  for (const d of rootfs.lowerDirs) if (/[:,\\]/.test(d)) throw new NsxError(`layer path ${d} holds ':' ',' or '\\', which overlayfs options cannot carry`, 125)
  const s = spec.buildSpec(o, rootfs.lowerDirs, rootfs.image?.defaults, name, lastCap, userns)

  const {readCgroupLayout} = await import('../cgroup/hierarchy.js')
  const {locateMemberships, readProcCgroup} = await import('../cgroup/membership.js')
  const layout = readCgroupLayout()
  const own = locateMemberships(readProcCgroup('self') ?? [], layout)
  let parent: string | string[] | undefined = o.cgroupParent
  if (o.group !== undefined) {
    if (o.cgroupParent !== undefined) throw new NsxError('--group and --cgroup-parent both place the container: give one', 125)
    const {readGroup} = await import('./group-record.js')
    const g = readGroup(store, o.group)
    if (!g) throw new NsxError(`no such group: ${o.group} (see nsx group ls; nsx group create ${o.group} makes it)`, 125)
    parent = g.cgroups
  }
  const cgroups = rootless ? {places: [], enable: [], writes: []} : cg.planCgroups(layout, own, name, id, lim, parent)
  const {planCgroupfs, readHostCgroupLinks} = await import('./cgroupfs.js')
  cgroups.cgroupfs = planCgroupfs(layout, cgroups.places, {userns: userns !== undefined, readOnly: !o.privileged, hostLinks: await readHostCgroupLinks()})
  const dir = containerDir(store, name)
  const paths = containerPaths(dir, join(store.root, 'containers', `${name}.json`))
  const {seccompCachePath} = await import('../security/seccomp.js')
  const seccompCache = s.security.seccomp ? seccompCachePath(store.root, s.security.seccomp) : undefined
  const plan = buildRunPlan(s, rootfs.lowerDirs, paths, cgroups, {...(o.detach ? {readyFd: 3} : {termGrace: o.stopTimeout ?? 10}), seccompCache})
  const {devices: _, ...saved} = lim
  return {store, spec: s, id, plan, lowerDirs: rootfs.lowerDirs, layers: rootfs.layers, imageIds: rootfs.image ? [rootfs.image.id] : [], cgroups, limits: saved}
}
