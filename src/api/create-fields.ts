import {badRequest} from './http.js'

/**
 * Every field of API 1.41's create body (moby's ContainerConfig and HostConfig) and what nsx
 * does with it: honoured (mapped onto the `nsx run` flag named, src/api/create-body.ts),
 * refused with 400 when it carries anything but its default (clients send the defaults: "",
 * 0, false, null, [], {}), or accepted with no effect for the reason given. docs/api.md shows
 * this table; test/unit/api-create-fields.test.ts checks it covers the swagger, no more, no less.
 */
export type Treatment = 'honoured' | 'refused' | 'ignored'

export interface FieldRule {
  treatment: Treatment
  /** honoured: the nsx run flag; refused / ignored: why. */
  note: string
  /** refused: the values that still pass (besides the empty ones). */
  defaults?: readonly unknown[]
}

const h = (note: string): FieldRule => ({treatment: 'honoured', note})
const r = (note: string, defaults?: readonly unknown[]): FieldRule => ({treatment: 'refused', note, ...(defaults ? {defaults} : {})})
const i = (note: string): FieldRule => ({treatment: 'ignored', note})

export const CONFIG_FIELDS: Record<string, FieldRule> = {
  Hostname: h('--hostname'),
  Domainname: r('nsx sets no NIS domain name'),
  User: h('--user'),
  AttachStdin: i("the client's: it attaches after the create"),
  AttachStdout: i("the client's: it attaches after the create"),
  AttachStderr: i("the client's: it attaches after the create"),
  ExposedPorts: i('metadata; -P publishes the ports the image EXPOSEs and nsx has no --expose'),
  Tty: h('--tty'),
  OpenStdin: h('--interactive'),
  StdinOnce: i("the client's attach closes the container's stdin when it ends, as with it"),
  Env: h('--env'),
  Cmd: h('the command'),
  Healthcheck: h('--health-cmd, --health-interval, ... (docker\'s HealthConfig, checked as docker\'s daemon checks it)'),
  ArgsEscaped: i('Windows only'),
  Image: h('the image'),
  Volumes: h('--volume PATH (an anonymous volume), unless a bind or mount covers the path'),
  WorkingDir: h('--workdir'),
  Entrypoint: h('--entrypoint'),
  NetworkDisabled: h('--network none'),
  MacAddress: h('--mac-address'),
  OnBuild: i("an image's build metadata"),
  Labels: h('--label'),
  StopSignal: r('nsx stop sends SIGTERM, then SIGKILL', ['SIGTERM', 'TERM', '15']),
  StopTimeout: h('--stop-timeout'),
  Shell: i("an image's build metadata"),
}

export const HOST_CONFIG_FIELDS: Record<string, FieldRule> = {
  CpuShares: h('--cpu-shares'),
  Memory: h('--memory'),
  CgroupParent: h('--cgroup-parent'),
  BlkioWeight: h('--blkio-weight'),
  BlkioWeightDevice: h('--blkio-weight-device'),
  BlkioDeviceReadBps: h('--device-read-bps'),
  BlkioDeviceWriteBps: h('--device-write-bps'),
  BlkioDeviceReadIOps: h('--device-read-iops'),
  BlkioDeviceWriteIOps: h('--device-write-iops'),
  CpuPeriod: h('--cpus (with CpuQuota)'),
  CpuQuota: h('--cpus (with CpuPeriod)'),
  CpuRealtimePeriod: r('real-time scheduling groups (CONFIG_RT_GROUP_SCHED) are not supported'),
  CpuRealtimeRuntime: r('real-time scheduling groups (CONFIG_RT_GROUP_SCHED) are not supported'),
  CpusetCpus: h('--cpuset-cpus'),
  CpusetMems: h('--cpuset-mems'),
  Devices: h('--device'),
  DeviceCgroupRules: h('--device-cgroup-rule'),
  DeviceRequests: r('device requests (GPUs) are not supported'),
  KernelMemory: r('kernel memory limits are deprecated and not supported'),
  KernelMemoryTCP: r('kernel memory limits are deprecated and not supported'),
  MemoryReservation: h('--memory-reservation'),
  MemorySwap: h('--memory-swap'),
  MemorySwappiness: h('--memory-swappiness (-1: the default)'),
  NanoCpus: h('--cpus'),
  OomKillDisable: h('--oom-kill-disable'),
  Init: h('--init (nsx-init is always PID 1; false is refused)'),
  PidsLimit: h('--pids-limit (0 and -1: none)'),
  Ulimits: h('--ulimit'),
  CpuCount: r('Windows only'),
  CpuPercent: r('Windows only'),
  IOMaximumIOps: r('Windows only'),
  IOMaximumBandwidth: r('Windows only'),
  Binds: h('--volume'),
  ContainerIDFile: i('the client writes it'),
  LogConfig: h('--log-driver (json-file, local, none; another is docker\'s error) and --log-opt max-size, max-file'),
  NetworkMode: h('--network'),
  PortBindings: h('--publish'),
  RestartPolicy: h('--restart'),
  AutoRemove: h('--rm'),
  VolumeDriver: h('--volume-driver (kept; a volume it would have to make with a driver other than local is refused)'),
  VolumesFrom: h('--volumes-from'),
  Mounts: h('--volume, --tmpfs (types bind, volume, tmpfs)'),
  CapAdd: h('--cap-add'),
  CapDrop: h('--cap-drop'),
  CgroupnsMode: h('--cgroupns'),
  Dns: h('--dns'),
  DnsOptions: h('--dns-option'),
  DnsSearch: h('--dns-search'),
  ExtraHosts: h('--add-host'),
  GroupAdd: h('--group-add'),
  IpcMode: h('--ipc (none is refused)'),
  Cgroup: r("another container's cgroup is not supported"),
  Links: h('--link'),
  OomScoreAdj: h('--oom-score-adj'),
  PidMode: h('--pid'),
  Privileged: h('--privileged'),
  PublishAllPorts: h('--publish-all'),
  ReadonlyRootfs: h('--read-only'),
  SecurityOpt: h('--security-opt'),
  StorageOpt: r('storage options are not supported by the overlay store'),
  Tmpfs: h('--tmpfs'),
  UTSMode: h('--uts'),
  UsernsMode: r('user namespace modes are not supported (nsx run --userns maps ids)', ['host']),
  ShmSize: h('--shm-size'),
  Sysctls: h("--sysctl (the container's own namespaces: net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*)"),
  Runtime: r('nsx is its own runtime', ['runc']),
  ConsoleSize: i("the terminal's size comes with the client's resize after the start"),
  Isolation: h("--isolation (docker's on Linux: default only)"),
  MaskedPaths: r("nsx masks runc's default paths (--privileged: none)"),
  ReadonlyPaths: r("nsx makes runc's default paths read-only (--privileged: none)"),
}

/** A default as clients send it: absent, null, "", 0, false, [], {} (and [0, 0] for a size). */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true
  if (Array.isArray(v)) return v.every((x) => x === 0) || v.length === 0
  return typeof v === 'object' && Object.keys(v as object).length === 0
}

/** 400 for the first refused field that carries a value nsx would have to drop. */
export function refuseUnsupported(body: Record<string, unknown>): void {
  const check = (where: string, obj: Record<string, unknown> | null | undefined, table: Record<string, FieldRule>) => {
    for (const [k, rule] of Object.entries(table)) {
      if (rule.treatment !== 'refused' || !obj) continue
      const v = obj[k]
      if (isEmpty(v) || rule.defaults?.includes(v)) continue
      throw badRequest(`${where}${k} is not supported by nsx: ${rule.note} (given: ${JSON.stringify(v).slice(0, 80)})`)
    }
  }
  check('', body, CONFIG_FIELDS)
  check('HostConfig.', body.HostConfig as Record<string, unknown> | null | undefined, HOST_CONFIG_FIELDS)
  const hc = body.HostConfig as {Init?: unknown; IpcMode?: unknown} | null | undefined
  if (hc?.Init === false) throw badRequest('HostConfig.Init false is not supported by nsx: its containers always have nsx-init as PID 1')
}
