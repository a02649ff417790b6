import {NsxError} from '../cli/errors.js'
import {executeTemplate, parseTemplate, TemplateError} from '../render/go-template.js'
import type {Store} from '../store/store.js'
import {cpuQuotaUs} from '../container/limits.js'
import {Container, DEFAULT_LOG, isRestarting, LogConfig, resolveContainer} from '../container/state.js'
import type {TmpfsMount} from '../security/spec.js'
import type {NetworkSettings} from '../network/settings.js'
import {healthOf, type HealthConfig, type HealthState} from '../container/health.js'

/** docker's zero time, for a start or end that has not happened. */
const ZERO_TIME = '0001-01-01T00:00:00Z'

/**
 * docker inspect of a container: the Engine API's ContainerInspect shape (the fields nsx
 * has), plus an Nsx section with the supervisor, the cgroups and the store directory.
 */
export interface ContainerInspect {
  Id: string
  Created: string
  Path: string
  Args: string[]
  State: {
    Status: 'created' | 'running' | 'paused' | 'exited'
    Running: boolean
    Paused: boolean
    Restarting: boolean
    OOMKilled: boolean
    Dead: boolean
    Pid: number
    ExitCode: number
    Error: string
    StartedAt: string
    FinishedAt: string
    /** With a healthcheck, once started: its status, failing streak and last 5 results (src/container/health.ts). */
    Health?: HealthState
  }
  Image: string
  Name: string
  RestartCount: number
  Driver: string
  HostConfig: {
    RestartPolicy: {Name: string; MaximumRetryCount: number}
    Binds: string[]
    NetworkMode: string
    /** -p as asked: "80/tcp": [{HostIp, HostPort}] ("" for what is picked at start). */
    PortBindings: Record<string, Array<{HostIp: string; HostPort: string}>>
    /** -P. */
    PublishAllPorts: boolean
    AutoRemove: boolean
    Privileged: boolean
    CapAdd: null
    CapDrop: null
    CgroupParent: string
    Memory: number
    NanoCpus: number
    CpuQuota: number
    CpuPeriod: number
    CpusetCpus: string
    PidsLimit: number | null
    MemoryReservation: number
    MemorySwap: number
    /** Only when set (the swagger has no null for it). */
    MemorySwappiness?: number
    OomKillDisable: boolean
    CpuShares: number
    CpusetMems: string
    BlkioWeight: number
    ReadonlyRootfs: boolean
    /** Each tmpfs with its options as docker shows them (those that differ from the defaults noexec, nosuid, nodev). */
    Tmpfs: Record<string, string>
    Devices: {PathOnHost: string; PathInContainer: string; CgroupPermissions: string}[]
    Ulimits: {Name: string; Soft: number; Hard: number}[]
    OomScoreAdj: number
    ShmSize: number
    LogConfig: {Type: 'json-file' | 'local' | 'none'; Config: Record<string, string>}
    /** --isolation as given ('' when not: docker's on Linux takes only default). */
    Isolation: string
    /** --volume-driver as given ('' when not). */
    VolumeDriver: string
    PidMode: string
    UTSMode: string
    IpcMode: string
    CgroupnsMode: string
    /** --init: only when asked (docker's is a pointer). */
    Init?: boolean
    /** Empty when not asked (the swagger has no null for these lists). */
    GroupAdd: string[]
    DeviceCgroupRules: string[]
    /** --link, docker's form: /NAME:/SELF/ALIAS. */
    Links: string[]
    VolumesFrom: string[]
    /** docker's name for the runtime of every container it makes (nsx is its own: refused otherwise at create). */
    Runtime: 'runc'
    Sysctls?: Record<string, string>
  }
  Mounts: {Type: 'bind' | 'volume'; Name?: string; Source: string; Destination: string; Driver?: string; Mode: string; RW: boolean; Propagation: string}[]
  Config: {
    Hostname: string
    User: string
    Tty: boolean
    OpenStdin: boolean
    Env: string[]
    Cmd: string[]
    Image: string
    WorkingDir: string
    Labels: Record<string, string>
    /** The image's EXPOSEd ports and each -p container port ("80/tcp": {}), when there are any. */
    ExposedPorts?: Record<string, Record<string, never>>
    StopTimeout?: number
    /** docker's HealthConfig: the image's HEALTHCHECK under the --health-* flags. */
    Healthcheck?: HealthConfig
  }
  GraphDriver: {Name: 'overlay'; Data: {LowerDir: string; UpperDir: string; WorkDir: string; MergedDir: string}}
  /** Addresses, published ports and networks while it runs (src/network/settings.ts). */
  NetworkSettings: NetworkSettings
  Nsx: {SupervisorPid: number; Cgroups: string[]; Dir: string; Capabilities: number[]}
}

export async function inspectOne(c: Container): Promise<ContainerInspect> {
  const s = c.config.spec
  const running = c.status === 'running' || c.status === 'starting'
  let paused = false
  if (running) {
    const {isPaused} = await import('../container/pause.js')
    paused = await isPaused(c).catch(() => false)
  }
  const status = paused ? 'paused' : running ? 'running' : c.status === 'created' ? 'created' : 'exited'
  const lim = c.config.limits
  const [{endpointOfContainerDir}, {networkSettings}, {configuredNetworks}, ports] = await Promise.all([import('../network/records.js'), import('../network/settings.js'), import('../network/connect.js'), import('../network/ports.js')])
  const ep = running ? endpointOfContainerDir(c.dir) : undefined
  const NetworkSettings = networkSettings(ep, s.network, configuredNetworks(c.dir, s.network, s.net))
  // docker lists a running container's exposed ports that nothing publishes, with null.
  if (ep) for (const k of ports.unpublishedKeys(s.net, ep.attachments.flatMap((a) => a.ports))) NetworkSettings.Ports[k] = null
  const exposed = ports.exposedKeys(s.net)
  const health = healthOf(c.dir, c.config.healthcheck, running && !isRestarting(c))
  return {
    Id: c.config.id,
    Created: c.config.created,
    Path: s.argv[0] ?? '',
    Args: s.argv.slice(1),
    State: {
      Status: status,
      Running: running,
      Paused: paused,
      Restarting: isRestarting(c),
      OOMKilled: c.exit?.oomKilled ?? false,
      Dead: false,
      Pid: running && c.pids ? c.pids.init.pid : 0,
      ExitCode: c.status === 'exited' ? (c.exitCode ?? 0) : 0,
      Error: c.status === 'exited' ? (c.error ?? '') : '',
      StartedAt: c.run?.startedAt ?? ZERO_TIME,
      FinishedAt: c.status === 'exited' ? (c.exit?.finishedAt ?? ZERO_TIME) : ZERO_TIME,
      ...(health ? {Health: health} : {}),
    },
    Image: c.config.imageIds[0] ?? '',
    Name: `/${c.config.name}`,
    RestartCount: c.exit?.restarts ?? 0,
    Driver: 'overlay',
    HostConfig: {
      RestartPolicy: {Name: c.config.restart?.policy ?? 'no', MaximumRetryCount: c.config.restart?.maxRetries ?? 0},
      Binds: s.volumes.filter((v) => !v.anonymous).map((v) => `${v.volume ?? v.source}:${v.target}${v.readOnly ? ':ro' : ''}`),
      NetworkMode: s.network,
      PortBindings: ports.portBindings(s.net?.publish ?? []),
      PublishAllPorts: s.net?.publishAll ?? false,
      AutoRemove: c.config.autoRemove,
      Privileged: s.privileged,
      CapAdd: null,
      CapDrop: null,
      CgroupParent: c.config.cgroupParent ?? '',
      Memory: lim.memory ?? 0,
      NanoCpus: lim.cpus !== undefined ? Math.round(lim.cpus * 1e9) : 0,
      CpuQuota: lim.cpus !== undefined ? cpuQuotaUs(lim.cpus) : 0,
      CpuPeriod: lim.cpus !== undefined ? 100000 : 0,
      CpusetCpus: lim.cpusetCpus ?? '',
      PidsLimit: lim.pids ?? null,
      MemoryReservation: lim.memoryReservation ?? 0,
      MemorySwap: lim.memorySwap ?? 0,
      ...(lim.memorySwappiness !== undefined ? {MemorySwappiness: lim.memorySwappiness} : {}),
      OomKillDisable: lim.oomKillDisable ?? false,
      CpuShares: lim.cpuShares ?? 0,
      CpusetMems: lim.cpusetMems ?? '',
      BlkioWeight: lim.blkioWeight ?? 0,
      ReadonlyRootfs: s.security.readOnly,
      Tmpfs: Object.fromEntries(s.security.tmpfs.map((t) => [t.path, tmpfsOptions(t)])),
      Devices: s.security.devices.map((d) => ({PathOnHost: d.host, PathInContainer: d.path, CgroupPermissions: d.access})),
      Ulimits: s.security.ulimits.map((u) => ({Name: u.name, Soft: u.soft, Hard: u.hard})),
      OomScoreAdj: s.security.oomScoreAdj ?? 0,
      ShmSize: s.security.shmSize ?? 64 * 1024 * 1024,
      LogConfig: {Type: c.config.log?.driver ?? 'json-file', Config: c.config.log?.driver === 'none' ? {} : logOptions(c.config.log)},
      Isolation: c.config.isolation ?? '',
      VolumeDriver: c.config.volumeDriver ?? '',
      PidMode: s.namespaces?.pid ?? '',
      UTSMode: s.namespaces?.uts ?? '',
      IpcMode: s.namespaces?.ipc ?? 'private',
      CgroupnsMode: s.namespaces?.cgroupns ?? 'private',
      ...(s.init ? {Init: true} : {}),
      // Arrays, empty when there are none: moby's 1.41 definition (its daemon sends null, which the swagger does not allow).
      GroupAdd: s.groupAdd ?? [],
      DeviceCgroupRules: s.deviceCgroupRules ?? [],
      Links: s.links ? s.links.map((l) => `/${l.name}:/${c.config.name}/${l.alias}`) : [],
      VolumesFrom: s.volumesFrom ?? [],
      Runtime: 'runc',
      ...(s.sysctls ? {Sysctls: s.sysctls} : {}),
    },
    Mounts: s.volumes.map((v) =>
      v.volume !== undefined
        ? {Type: 'volume' as const, Name: v.volume, Source: v.source, Destination: v.target, Driver: 'local', Mode: v.readOnly ? 'ro' : 'z', RW: !v.readOnly, Propagation: ''}
        : {Type: 'bind' as const, Source: v.source, Destination: v.target, Mode: v.readOnly ? 'ro' : '', RW: !v.readOnly, Propagation: 'rprivate'},
    ),
    Config: {
      Hostname: s.hostname,
      User: s.uid === 0 && s.gid === 0 ? '' : `${s.uid}:${s.gid}`,
      Tty: s.tty,
      OpenStdin: s.interactive,
      Env: s.env,
      Cmd: s.argv,
      Image: c.config.image ?? '',
      WorkingDir: s.workdir,
      Labels: c.config.labels ?? {},
      ...(exposed.length > 0 ? {ExposedPorts: Object.fromEntries(exposed.map((k) => [k, {}]))} : {}),
      ...(c.config.stopTimeout !== undefined ? {StopTimeout: c.config.stopTimeout} : {}),
      ...(c.config.healthcheck ? {Healthcheck: c.config.healthcheck} : {}),
    },
    GraphDriver: {
      Name: 'overlay',
      Data: {LowerDir: [...c.config.lowerDirs].reverse().join(':'), UpperDir: `${c.dir}/upper`, WorkDir: `${c.dir}/work`, MergedDir: `${c.dir}/rootfs`},
    },
    NetworkSettings,
    Nsx: {SupervisorPid: running && c.pids ? c.pids.supervisor.pid : 0, Cgroups: running ? (c.run?.cgroups ?? []) : [], Dir: c.dir, Capabilities: s.caps},
  }
}

/** A tmpfs's options as docker shows what was asked: the flags that differ from noexec, nosuid, nodev, then tmpfs's own. */
function tmpfsOptions(t: TmpfsMount): string {
  const flags = [...(t.flags.includes('ro') ? ['ro'] : []), ...(['noexec', 'nosuid', 'nodev'] as const).filter((f) => !t.flags.includes(f)).map((f) => f.slice(2))]
  return [...flags, ...(t.data ? [t.data] : [])].join(',')
}

/** --log-opt as docker shows it: the options set, here those that differ from nsx's defaults. */
function logOptions(log: LogConfig | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!log) return out
  if (log.maxSize !== DEFAULT_LOG.maxSize) {
    const unit = ([['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const).find(([, n]) => log.maxSize % n === 0)
    out['max-size'] = unit ? `${log.maxSize / unit[1]}${unit[0]}` : String(log.maxSize)
  }
  if (log.maxFiles !== DEFAULT_LOG.maxFiles) out['max-file'] = String(log.maxFiles)
  return out
}

/** docker inspect CONTAINER: the container a name or id prefix names (errors as resolveContainer's). */
export async function inspectContainer(store: Store, ref: string): Promise<ContainerInspect> {
  return inspectOne(resolveContainer(store, ref))
}

/**
 * docker inspect's output for containers: a JSON array of them, or with -f/--format each one
 * through the Go template (docker's subset, src/render/go-template.ts), a line each. A bad
 * template is one line and exit 1, as docker's; nothing is printed for any container then.
 */
export async function dockerInspect(store: Store, refs: string[], format?: string): Promise<{objects: ContainerInspect[]; text: string}> {
  let template: ReturnType<typeof parseTemplate> | undefined
  if (format !== undefined && format !== '' && format !== 'json') {
    try {
      template = parseTemplate(format)
    } catch (err) {
      if (err instanceof TemplateError) throw NsxError.invalid(`template parsing error: ${err.message}`, 1)
      throw err
    }
  }
  const objects: ContainerInspect[] = []
  for (const ref of refs) objects.push(await inspectContainer(store, ref))
  if (!template) return {objects, text: `${JSON.stringify(objects, null, 2)}\n`}
  const lines: string[] = []
  for (const o of objects) {
    try {
      lines.push(`${executeTemplate(template, JSON.parse(JSON.stringify(o)))}\n`)
    } catch (err) {
      if (err instanceof TemplateError) throw NsxError.invalid(`template: executing: ${err.message}`, 1)
      throw err
    }
  }
  return {objects, text: lines.join('')}
}
