import {refuseUnsupported} from './create-fields.js'
import {badRequest} from './http.js'

/** The parts of docker's ContainerCreateRequest that nsx maps (Config + HostConfig + NetworkingConfig). */
export interface CreateBody {
  Hostname?: string
  User?: string
  Tty?: boolean
  OpenStdin?: boolean
  Env?: string[] | null
  Cmd?: string[] | string | null
  Entrypoint?: string[] | string | null
  Image?: string
  Labels?: Record<string, string> | null
  WorkingDir?: string
  StopSignal?: string
  StopTimeout?: number | null
  ExposedPorts?: Record<string, object> | null
  Volumes?: Record<string, object> | null
  NetworkDisabled?: boolean
  MacAddress?: string
  /** docker's HealthConfig, given to create as it is (src/container/health.ts checks it). */
  Healthcheck?: import('../image/config.js').HealthConfig | null
  HostConfig?: HostConfig | null
  NetworkingConfig?: {EndpointsConfig?: Record<string, EndpointConfig | null> | null} | null
}

interface EndpointConfig {
  Aliases?: string[] | null
  IPAMConfig?: {IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null} | null
  Links?: string[] | null
  DriverOpts?: Record<string, string> | null
}

interface HostConfig {
  Binds?: string[] | null
  Mounts?: {Type?: string; Source?: string; Target?: string; ReadOnly?: boolean}[] | null
  AutoRemove?: boolean
  RestartPolicy?: {Name?: string; MaximumRetryCount?: number} | null
  Memory?: number
  MemoryReservation?: number
  MemorySwap?: number
  MemorySwappiness?: number | null
  NanoCpus?: number
  CpuQuota?: number
  CpuPeriod?: number
  CpuShares?: number
  CpusetCpus?: string
  CpusetMems?: string
  BlkioWeight?: number
  PidsLimit?: number | null
  CgroupParent?: string
  CapAdd?: string[] | null
  CapDrop?: string[] | null
  Privileged?: boolean
  NetworkMode?: string
  PortBindings?: Record<string, {HostIp?: string; HostPort?: string}[] | null> | null
  ExtraHosts?: string[] | null
  Dns?: string[] | null
  DnsSearch?: string[] | null
  DnsOptions?: string[] | null
  SecurityOpt?: string[] | null
  ReadonlyRootfs?: boolean
  Tmpfs?: Record<string, string> | null
  Devices?: {PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string}[] | null
  Ulimits?: {Name?: string; Soft?: number; Hard?: number}[] | null
  OomScoreAdj?: number
  ShmSize?: number
  LogConfig?: {Type?: string; Config?: Record<string, string> | null} | null
  Isolation?: string
  VolumeDriver?: string
  Init?: boolean | null
  PidMode?: string
  UTSMode?: string
  IpcMode?: string
  CgroupnsMode?: string
  GroupAdd?: (string | number)[] | null
  DeviceCgroupRules?: string[] | null
  Links?: string[] | null
  VolumesFrom?: string[] | null
  Sysctls?: Record<string, string> | null
  PublishAllPorts?: boolean
  OomKillDisable?: boolean | null
  BlkioWeightDevice?: {Path?: string; Weight?: number}[] | null
  BlkioDeviceReadBps?: {Path?: string; Rate?: number}[] | null
  BlkioDeviceWriteBps?: {Path?: string; Rate?: number}[] | null
  BlkioDeviceReadIOps?: {Path?: string; Rate?: number}[] | null
  BlkioDeviceWriteIOps?: {Path?: string; Rate?: number}[] | null
}

const list = <T>(v: T[] | null | undefined): T[] => (Array.isArray(v) ? v : [])

/**
 * docker's create body as `nsx run` arguments, so the API and the CLI share one parser and one set
 * of checks (src/container/options.ts parseRunArgs, then createContainer). What nsx cannot honour
 * is refused with 400, never silently dropped.
 */
export function createArgs(body: CreateBody, name?: string, known: ReadonlySet<string> = new Set()): string[] {
  if (typeof body.Image !== 'string' || body.Image === '') throw badRequest('no image given (Config.Image)')
  refuseUnsupported(body as Record<string, unknown>)
  const a: string[] = []
  const flag = (f: string, v: string | number | undefined | null) => {
    if (v !== undefined && v !== null && v !== '') a.push(f, String(v))
  }
  const h = body.HostConfig ?? {}
  if (name) flag('--name', name)
  flag('--hostname', body.Hostname)
  flag('--user', body.User)
  if (body.Tty) a.push('--tty')
  if (body.OpenStdin) a.push('--interactive')
  // An entry without '=' is kept as sent (the docker CLI gave it the caller's value if it had one): NAME unset in the container, shown in Config.Env (moby's rule).
  for (const e of list(body.Env)) a.push('--env', e)
  flag('--workdir', body.WorkingDir)
  if (typeof body.StopTimeout === 'number' && body.StopTimeout >= 0) flag('--stop-timeout', body.StopTimeout)
  for (const [k, v] of Object.entries(body.Labels ?? {})) a.push('--label', `${k}=${v}`)
  for (const b of list(h.Binds)) a.push('--volume', b)
  // Config.Volumes: docker run -v /path (an anonymous volume), unless a bind or mount covers the path.
  const covered = new Set([...list(h.Binds).map((b) => b.split(':')[1]), ...list(h.Mounts).map((m) => m.Target)])
  for (const p of Object.keys(body.Volumes ?? {})) if (!covered.has(p)) a.push('--volume', p)
  for (const v of list(h.VolumesFrom)) a.push('--volumes-from', v)
  for (const m of list(h.Mounts)) {
    if (!m.Target) throw badRequest('a mount without a Target')
    if (m.Type === 'tmpfs') a.push('--tmpfs', m.Target)
    else if (m.Type === 'bind' || m.Type === 'volume' || m.Type === undefined) a.push('--volume', `${m.Source ?? ''}:${m.Target}${m.ReadOnly ? ':ro' : ''}`)
    else throw badRequest(`mount type ${m.Type} is not supported by nsx (bind, volume and tmpfs are)`)
  }
  if (h.AutoRemove) a.push('--rm')
  if (h.RestartPolicy?.Name && h.RestartPolicy.Name !== 'no') a.push('--restart', h.RestartPolicy.Name === 'on-failure' && h.RestartPolicy.MaximumRetryCount ? `on-failure:${h.RestartPolicy.MaximumRetryCount}` : h.RestartPolicy.Name)
  if (h.Memory) flag('--memory', h.Memory)
  if (h.MemoryReservation) flag('--memory-reservation', h.MemoryReservation)
  if (h.MemorySwap) flag('--memory-swap', h.MemorySwap)
  if (typeof h.MemorySwappiness === 'number' && h.MemorySwappiness >= 0) flag('--memory-swappiness', h.MemorySwappiness)
  if (h.NanoCpus) flag('--cpus', h.NanoCpus / 1e9)
  else if (h.CpuQuota && h.CpuQuota > 0) flag('--cpus', h.CpuQuota / (h.CpuPeriod || 100000))
  if (h.CpuShares) flag('--cpu-shares', h.CpuShares)
  if (h.BlkioWeight) flag('--blkio-weight', h.BlkioWeight)
  if (typeof h.PidsLimit === 'number' && h.PidsLimit > 0) flag('--pids-limit', h.PidsLimit)
  flag('--cpuset-cpus', h.CpusetCpus)
  flag('--cpuset-mems', h.CpusetMems)
  flag('--cgroup-parent', h.CgroupParent)
  for (const c of list(h.CapAdd)) a.push('--cap-add', c)
  for (const c of list(h.CapDrop)) a.push('--cap-drop', c)
  if (h.Privileged) a.push('--privileged')
  if (h.Init) a.push('--init')
  flag('--pid', h.PidMode)
  flag('--uts', h.UTSMode)
  flag('--ipc', h.IpcMode)
  flag('--cgroupns', h.CgroupnsMode)
  for (const g of list(h.GroupAdd)) a.push('--group-add', String(g))
  for (const r of list(h.DeviceCgroupRules)) a.push('--device-cgroup-rule', r)
  for (const l of list(h.Links)) a.push('--link', l)
  for (const [k, v] of Object.entries(h.Sysctls ?? {})) a.push('--sysctl', `${k}=${v}`)
  if (h.OomKillDisable) a.push('--oom-kill-disable')
  for (const [key, f] of [['BlkioDeviceReadBps', '--device-read-bps'], ['BlkioDeviceWriteBps', '--device-write-bps'], ['BlkioDeviceReadIOps', '--device-read-iops'], ['BlkioDeviceWriteIOps', '--device-write-iops']] as const)
    for (const d of list(h[key])) a.push(f, `${d.Path}:${d.Rate}`)
  for (const d of list(h.BlkioWeightDevice)) a.push('--blkio-weight-device', `${d.Path}:${d.Weight}`)
  if (body.NetworkDisabled) a.push('--network', 'none')
  flag('--mac-address', body.MacAddress)
  // docker's default network is its bridge: nsx's default network (NSX_NETWORK, else bridge) is what a container that names none gets.
  if (h.NetworkMode && !['default', ''].includes(h.NetworkMode)) a.push('--network', h.NetworkMode)
  a.push(...endpointArgs(h.NetworkMode, body.NetworkingConfig?.EndpointsConfig))
  const ports = Object.entries(h.PortBindings ?? {}).flatMap(([port, binds]) => list(binds).map((b) => `${b.HostIp ? `${b.HostIp}:` : ''}${b.HostPort ?? ''}:${port}`))
  if (h.PublishAllPorts) a.push('--publish-all')
  if (ports.length > 0) {
    if (!known.has('publish')) throw badRequest('publishing ports is not supported by this nsx (it needs nsx network)')
    for (const p of ports) a.push('--publish', p)
  }
  for (const x of list(h.ExtraHosts)) a.push('--add-host', x)
  for (const x of list(h.Dns)) a.push('--dns', x)
  for (const x of list(h.DnsSearch)) a.push('--dns-search', x)
  for (const x of list(h.DnsOptions)) a.push('--dns-option', x)
  for (const x of list(h.SecurityOpt)) a.push('--security-opt', x)
  if (h.ReadonlyRootfs) a.push('--read-only')
  for (const [path, opts] of Object.entries(h.Tmpfs ?? {})) a.push('--tmpfs', opts ? `${path}:${opts}` : path)
  for (const d of list(h.Devices)) a.push('--device', [d.PathOnHost, d.PathInContainer, d.CgroupPermissions].filter((x) => x).join(':'))
  for (const u of list(h.Ulimits)) a.push('--ulimit', `${u.Name}=${u.Soft}:${u.Hard}`)
  if (h.OomScoreAdj) flag('--oom-score-adj', h.OomScoreAdj)
  if (h.ShmSize) flag('--shm-size', `${h.ShmSize}b`)
  flag('--log-driver', h.LogConfig?.Type)
  for (const [k, v] of Object.entries(h.LogConfig?.Config ?? {})) if (k === 'max-size' || k === 'max-file') a.push('--log-opt', `${k}=${v}`)
  flag('--isolation', h.Isolation)
  flag('--volume-driver', h.VolumeDriver)
  let cmd = typeof body.Cmd === 'string' ? [body.Cmd] : list(body.Cmd)
  const ep = body.Entrypoint
  if (ep !== undefined && ep !== null) {
    const parts = typeof ep === 'string' ? (ep === '' ? [] : [ep]) : ep
    a.push('--entrypoint', parts[0] ?? '')
    cmd = [...parts.slice(1), ...cmd]
  }
  a.push(body.Image, ...cmd)
  return a
}

/**
 * NetworkingConfig.EndpointsConfig as --network-alias and --ip. API 1.41 takes one network at
 * create (docker's rule; more are joined with network connect), the one NetworkMode names; an
 * empty endpoint (what the docker CLI sends by default) asks for nothing.
 */
function endpointArgs(mode: string | undefined, endpoints: Record<string, EndpointConfig | null> | null | undefined): string[] {
  const asked = Object.entries(endpoints ?? {}).filter(([, e]) => e && (list(e.Aliases).length > 0 || e.IPAMConfig?.IPv4Address || e.IPAMConfig?.IPv6Address || list(e.IPAMConfig?.LinkLocalIPs).length > 0 || list(e.Links).length > 0))
  if (Object.keys(endpoints ?? {}).length > 1) throw badRequest(`Container cannot be connected to network endpoints: ${Object.keys(endpoints ?? {}).join(', ')}`)
  const a: string[] = []
  for (const [name, e] of asked) {
    if (mode && !['default', ''].includes(mode) && name !== mode) throw badRequest(`Container cannot be connected to network endpoints: ${mode}, ${name}`)
    // An endpoint's links are HostConfig.Links' (NAME:ALIAS), on this one network: nsx run --link.
    for (const l of list(e!.Links)) a.push('--link', l)
    for (const x of list(e!.Aliases)) a.push('--network-alias', x)
    if (e!.IPAMConfig?.IPv4Address) a.push('--ip', e!.IPAMConfig.IPv4Address)
    if (e!.IPAMConfig?.IPv6Address) a.push('--ip6', e!.IPAMConfig.IPv6Address)
    for (const x of list(e!.IPAMConfig?.LinkLocalIPs)) a.push('--link-local-ip', x)
  }
  return a
}

/** The DriverOpts of create's one EndpointsConfig entry (kept and shown by inspect: docker's bridge driver reads none of them either). */
export function endpointDriverOpts(body: CreateBody): Record<string, string> | undefined {
  const e = Object.values(body.NetworkingConfig?.EndpointsConfig ?? {})[0]
  const opts = e?.DriverOpts
  if (!opts || typeof opts !== 'object' || Object.keys(opts).length === 0) return undefined
  if (Object.values(opts).some((v) => typeof v !== 'string')) throw badRequest('EndpointsConfig DriverOpts: each value must be a string')
  return {...opts}
}
