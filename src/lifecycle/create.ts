import {randomBytes} from 'node:crypto'
import {chownSync, mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import type {IdMapping} from '../plan/ops.js'
import {pinLayers} from '../store/pins.js'
import {Store} from '../store/store.js'
import type {Limits} from '../container/limits.js'
import {anyResourceFlag, parseResourceFlags} from '../container/resources.js'
import type {RunOptions} from '../container/options.js'
import type {UsernsSpec} from '../container/spec.js'
import {recordContainerEvent} from '../container/events.js'
import {ContainerConfig, createContainerDir, DEFAULT_LOG, idOfName, LogConfig, parseRestart} from '../container/state.js'
import {sweepStale} from '../container/sweep.js'

/** What `nsx create` (and the first half of `nsx run`) made. */
export interface Created {
  store: Store
  config: ContainerConfig
  dir: string
}

/**
 * Everything about a new container that can be decided without touching the store:
 * flags validated, limits parsed, user namespace chosen. Shared by create and --dry-run.
 */
async function validate(o: RunOptions): Promise<{limits: Limits; userns?: UsernsSpec; lastCap: number}> {
  const spec = await import('../container/spec.js')
  const limits = await import('../container/limits.js')
  if (o.layers.length === 0 && o.image === undefined) throw NsxError.invalid('nothing to run: give an IMAGE (a stored image, or PATH[:TAG] of an OCI layout or docker archive), --image, or --layer DIR|TAR', 125)
  const euid = process.geteuid?.() ?? 0
  let userns: UsernsSpec | undefined
  if (euid !== 0) {
    // An ordinary user: container root is the user's own uid and gid, nothing else is mapped.
    if (o.userns !== undefined) throw NsxError.invalid('--userns needs root (rootless, container root is your own uid, and only it is mapped)', 125)
    if (o.memory ?? o.cpus ?? o.pidsLimit ?? o.cpusetCpus ?? o.cgroupParent ?? o.group ?? (anyResourceFlag(o.resources ?? {}) || undefined)) throw NsxError.invalid('limits need root: a rootless container gets no cgroup of its own', 125)
    const gid = process.getegid?.() ?? 0
    userns = {uidMap: [{inside: 0, outside: euid, count: 1}], gidMap: [{inside: 0, outside: gid, count: 1}], setgroups: 'deny', rootless: true}
  } else if (o.userns !== undefined) {
    const map = spec.parseUserns(o.userns)
    userns = {uidMap: map, gidMap: map, setgroups: 'allow', rootless: false}
  }
  const lim: Limits = {}
  const cpuOnline = readFileSync('/sys/devices/system/cpu/online', 'utf8')
  if (o.memory !== undefined) lim.memory = limits.parseMemory(o.memory)
  if (o.cpus !== undefined) lim.cpus = limits.parseCpus(o.cpus, limits.parseCpuList(cpuOnline, 'online CPU list').size)
  if (o.pidsLimit !== undefined) lim.pids = limits.parsePidsLimit(o.pidsLimit)
  if (o.cpusetCpus !== undefined) lim.cpusetCpus = limits.parseCpuset(o.cpusetCpus, cpuOnline)
  Object.assign(lim, parseResourceFlags(o.resources ?? {}, {memory: lim.memory, cpus: lim.cpus}))
  // A namespace of the host or of another container is not one the container's user namespace owns.
  const shared = (['pid', 'uts', 'ipc', 'cgroupns'] as const).filter((k) => o[k] !== undefined && o[k] !== 'private' && o[k] !== 'shareable')
  if (shared.length > 0 && userns) throw NsxError.invalid(`--${shared[0]} ${o[shared[0]]} needs root without --userns (a container's user namespace cannot own the host's or another container's namespaces)`, 125)
  o.links?.forEach(spec.parseLink)
  if (o.sysctls?.length) {
    const {parseSysctl} = await import('../security/sysctls.js')
    for (const x of o.sysctls) parseSysctl(x, {network: o.network, ipc: o.ipc})
  }
  if (o.name !== undefined) spec.checkName(o.name)
  if (o.hostname !== undefined) spec.checkHostname(o.hostname)
  for (const v of o.volumes) spec.parseVolume(v)
  const etc = await import('../container/etc-files.js')
  o.addHosts?.forEach(etc.parseAddHost)
  o.dns?.forEach(etc.parseDnsServer)
  o.dnsSearch?.forEach(etc.parseDnsSearch)
  o.dnsOptions?.forEach(etc.parseDnsOption)
  const {readLastCap} = await import('../proc/capabilities.js')
  const lastCap = readLastCap()
  const security = await import('../security/spec.js')
  const sec = security.buildSecuritySpec(o, spec.resolveCaps(o, lastCap))
  if (sec.devices.length > 0 && userns) throw NsxError.invalid('--device needs root without --userns (a user namespace cannot make device nodes)', 125)
  const profileOpt = (o.securityOpt ?? []).find((x) => /^seccomp[=:]/.test(x))
  if (sec.seccomp && profileOpt) {
    const {checkSeccomp} = await import('../security/seccomp.js')
    checkSeccomp(sec.seccomp, profileOpt.slice('seccomp='.length))
  }
  const {DEFAULT_DEVICE_RULES, v1DeviceWrites} = await import('../security/devices.js')
  lim.devices = v1DeviceWrites(sec.deviceRules)
  if (sec.deviceRules.length > DEFAULT_DEVICE_RULES.length) lim.devicesV1 = true
  return {limits: lim, userns, lastCap}
}

/**
 * `nsx create` (docker create): the root's layers prepared and pinned, the container's
 * directory and name taken, nothing started. With `dryRun` nothing is written: the config
 * is returned for the plan to be printed. `undo` collects what to take back if a later
 * step of the caller fails. `store`, when given, may hold the store lock already: it is then
 * the caller's to release.
 */
export async function createContainer(given: RunOptions, opts: {dryRun?: boolean; undo?: Array<() => void>; store?: Store} = {}): Promise<Created> {
  const undo = opts.undo ?? []
  let o = given
  const {limits, userns, lastCap} = await validate(o)
  const log = parseLogConfig(o.logDriver, o.logOpts)
  checkIsolation(o.isolation)
  const restart = given.restart !== undefined ? parseRestart(given.restart) : undefined
  const {checkHealth, healthFromFlags} = await import('../container/health.js')
  const wanted = given.healthcheck ? checkHealth(given.healthcheck) : given.health ? healthFromFlags(given.health) : undefined
  const [{prepareRootfs}, spec] = await Promise.all([import('../store/import.js'), import('../container/spec.js')])
  // A caller that holds the store lock already (the Engine API takes it without blocking its event loop) keeps it.
  const store = opts.store ?? Store.open()
  const own = !store.locked
  store.lock('shared')
  try {
    sweepStale(store)
    // An image the store lacks is pulled (docker run's rule); the registry client loads only then.
    if (o.group !== undefined) {
      if (o.cgroupParent !== undefined) throw NsxError.invalid('--group and --cgroup-parent both place the container: give one', 125)
      const {readGroup} = await import('../container/group-record.js')
      if (!readGroup(store, o.group)) throw NsxError.notFound(`no such group: ${o.group} (see nsx group ls; nsx group create ${o.group} makes it)`, 125)
    }
    // A network named must exist now, as docker's daemon checks it at create: else a container that can never start was left.
    // (Root's networks only: an ordinary user's network is a user-mode stack, pasta or slirp4netns, named or not.)
    if (process.geteuid?.() === 0 && !['none', 'host', 'bridge'].includes(o.network) && !o.network.startsWith('container:')) {
      const [{USER_MODE_NETWORKS}, {findNetwork}] = await Promise.all([import('../network/rootless.js'), import('../network/networks.js')])
      if (!USER_MODE_NETWORKS.includes(o.network) && !findNetwork(store, o.network)) throw NsxError.notFound(`network ${o.network} not found`, 125)
    }
    const rootfs = await prepareRootfs(store, {
      image: o.image,
      layers: o.layers,
      resolveImage: async (st, ref) => (await import('../registry/ensure.js')).ensureImage(st, ref),
    })
    for (const d of rootfs.lowerDirs) if (/[:,\\]/.test(d)) throw NsxError.invalid(`layer path ${d} holds ':' ',' or '\\', which overlayfs options cannot carry`, 125)
    // docker's merge: what the container's --health-* (or the API's Healthcheck) leave unset, the image's HEALTHCHECK gives.
    const {imageHealth, mergeHealth} = await import('../container/health.js')
    const healthcheck = mergeHealth(rootfs.image ? imageHealth(store, rootfs.image.id) : undefined, wanted)
    const id = randomBytes(32).toString('hex')
    const {freshName} = await import('../container/names.js')
    const generated = o.name === undefined
    let name = o.name ?? freshName((n) => idOfName(store, n) !== undefined)
    // docker's default hostname is the short id (the host's own with --network host); a name given
    // with --name stays nsx's default for it.
    if (generated && o.hostname === undefined && o.network !== 'host' && o.uts !== 'host') o = {...o, hostname: id.slice(0, 12)}
    const config: ContainerConfig = {
      version: 2,
      id,
      name,
      created: new Date().toISOString(),
      image: o.image,
      imageIds: rootfs.image ? [rootfs.image.id] : [],
      layers: rootfs.layers,
      lowerDirs: rootfs.lowerDirs,
      spec: spec.buildSpec(o, rootfs.lowerDirs, rootfs.image?.defaults, name, lastCap, userns),
      limits,
      cgroupParent: o.cgroupParent,
      autoRemove: o.rm,
      stopTimeout: o.stopTimeout,
      ...(o.group !== undefined ? {group: o.group} : {}),
      log,
      ...(o.labels?.length ? {labels: Object.fromEntries(o.labels.map((l) => [l.split('=')[0], l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']))} : {}),
      ...(restart && restart.policy !== 'no' ? {restart} : {}),
      ...(healthcheck ? {healthcheck} : {}),
      ...(o.isolation ? {isolation: o.isolation} : {}),
      ...(o.volumeDriver ? {volumeDriver: o.volumeDriver} : {}),
    }
    if (o.volumesFrom?.length || config.spec.links?.length) {
      const links = await import('./links.js')
      if (o.volumesFrom?.length) config.spec = {...config.spec, volumes: await links.volumesFrom(store, o.volumesFrom, config.spec.volumes, (config.spec.security?.tmpfs ?? []).map((t) => t.path), id)}
      config.spec = await links.applyLinks(store, config.spec, id)
    }
    for (const k of ['pid', 'ipc'] as const) {
      const mode = config.spec.namespaces?.[k]
      if (mode?.startsWith('container:')) {
        const {resolveContainer} = await import('../container/state.js')
        try {
          resolveContainer(store, mode.slice(10))
        } catch {
          throw NsxError.notFound(`--${k} ${mode}: no such container: ${mode.slice(10)}`, 125)
        }
      }
    }
    // The image's VOLUME paths not covered by -v or --tmpfs get an anonymous volume each (docker's rule).
    if (rootfs.image) {
      const {imageVolumes, withImageVolumes} = await import('../volume/mounts.js')
      const declared = imageVolumes(store, rootfs.image.id)
      if (declared.length > 0) config.spec = {...config.spec, volumes: withImageVolumes(config.spec.volumes, declared, config.spec.security?.tmpfs?.map((m) => m.path))}
    }
    // Named and anonymous volumes: made on first use, the image's content copied up (src/volume/).
    if (config.spec.volumes.some((v) => v.volume !== undefined || v.anonymous)) {
      checkVolumeDriver(o.volumeDriver, config.spec.volumes)
      const {resolveVolumeMounts} = await import('../volume/mounts.js')
      config.spec = {...config.spec, volumes: resolveVolumeMounts(store, config.spec.volumes, rootfs.lowerDirs, undo, {dryRun: opts.dryRun, autoRemoveWith: config.autoRemove ? id : undefined})}
    }
    if (opts.dryRun) return {store, config, dir: join(store.root, 'run', id)}
    const {encodeEnv} = await import('../container/plan.js')
    const etc = await import('../container/etc-files.js')
    let dir: string
    for (let attempt = 0; ; attempt++) {
      try {
        // The container's /etc/hosts, hostname and resolv.conf are files of its directory, bound into it.
        dir = createContainerDir(store, config, encodeEnv(config.spec.env), etc.etcFiles(config.spec.etc, {resolvConf: etc.hostResolvConf(), hosts: etc.hostHosts()}))
        break
      } catch (err) {
        // Two creates picked the same generated name at once: pick another.
        if (!generated || attempt > 5 || !(err instanceof NsxError)) throw err
        name = freshName((n) => idOfName(store, n) !== undefined)
        config.name = name
        config.spec = {...config.spec, name}
      }
    }
    undo.push(() => store.retire(dir))
    if (userns && !userns.rootless) {
      // Mount points of the idmapped layers; the upper and work directories belong to container root.
      for (let i = 0; i < rootfs.lowerDirs.length; i++) mkdirSync(join(dir, 'lower', String(i)), {recursive: true})
      const host = (m: IdMapping[]) => m.find((x) => x.inside === 0)!.outside
      for (const d of ['upper', 'work', ...Object.keys(etc.ETC_TARGETS)]) chownSync(join(dir, d), host(userns.uidMap), host(userns.gidMap))
    }
    // The pin keeps gc and rmi away from the layers for as long as the directory exists.
    pinLayers(store, id, process.pid, rootfs.layers, config.imageIds, dir)
    recordContainerEvent(store, {config}, 'create', {}, `${id}/create`)
    return {store, config, dir}
  } finally {
    if (own) store.unlock()
  }
}

/** --isolation: docker on Linux takes only default (any case) or nothing (moby's validateIsolation). */
export function checkIsolation(isolation: string | undefined): void {
  if (isolation && isolation.toLowerCase() !== 'default') throw NsxError.invalid(`Invalid isolation: "${isolation}" - linux only supports 'default'`, 125)
}

/**
 * --volume-driver: kept as given; docker only fails when a volume would be made by that driver,
 * with its plugin lookup's words. nsx's one driver is local: a named or anonymous volume with
 * another is refused at create, before anything is made.
 */
function checkVolumeDriver(driver: string | undefined, volumes: readonly {volume?: string; anonymous?: boolean}[]): void {
  if (!driver || driver === 'local') return
  const v = volumes.find((x) => x.volume !== undefined || x.anonymous)
  // invalid (400), not docker's not-found: a 404 on create sends the docker CLI pulling the image.
  if (v) throw NsxError.invalid(`create ${v.volume ?? ''}: error looking up volume plugin ${driver}: plugin "${driver}" not found`.replace('create : ', 'create: '), 125)
}

/** docker's log drivers that nsx does not keep (those it keeps: json-file, local, none). */
const OTHER_DOCKER_LOG_DRIVERS = ['syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries']

/**
 * --log-driver and --log-opt: json-file (the default) and local, both kept by the supervisor in
 * docker's json-file format (local is only shown as local), or none: no log at all (logs says so,
 * attach still relays). An unknown driver is docker's error (moby's logger.ValidateLogOpts; its
 * daemon answers 500); none takes any option unchecked, as docker's.
 */
export function parseLogConfig(driver: string | undefined, opts: readonly string[]): LogConfig {
  const d = driver === undefined || driver === '' ? 'json-file' : driver
  if (d === 'none') return {...DEFAULT_LOG, driver: 'none'}
  if (OTHER_DOCKER_LOG_DRIVERS.includes(d)) throw NsxError.unsupported(`log driver ${d} is not supported by nsx (json-file, local and none are)`, 125)
  // moby's ValidateLogOpts: an untyped error, which its daemon answers 500.
  if (d !== 'json-file' && d !== 'local') throw NsxError.internal(`logger: no log driver named '${d}' is registered`, 125)
  return {...parseLogOpts(opts), ...(d === 'local' ? {driver: 'local' as const} : {})}
}

/** --log-opt max-size=SIZE (b k m g, docker's units) and max-file=N over the defaults. */
export function parseLogOpts(opts: readonly string[]): LogConfig {
  const out = {...DEFAULT_LOG}
  for (const o of opts) {
    const [key, value = ''] = o.split(/=(.*)/s)
    if (key === 'max-size') {
      const m = /^(\d+)([kmg]?)$/i.exec(value)
      if (!m) throw NsxError.invalid(`invalid --log-opt max-size '${value}': expected a size such as 10m (k, m, g)`, 125)
      out.maxSize = Number(m[1]) * ({'': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3} as Record<string, number>)[m[2].toLowerCase()]
      if (out.maxSize < 1024) throw NsxError.invalid(`invalid --log-opt max-size '${value}': at least 1k`, 125)
    } else if (key === 'max-file') {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100) throw NsxError.invalid(`invalid --log-opt max-file '${value}': a number from 1 to 100`, 125)
      out.maxFiles = Number(value)
    } else throw NsxError.invalid(`unknown --log-opt '${key}': nsx's json-file log takes max-size and max-file`, 125)
  }
  return out
}
