import {isIPv6} from 'node:net'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import {OptionSpec, getoptForCommand} from '../cli/getopt.js'
import type {SecurityFlags} from '../security/spec.js'
import type {HealthConfig} from '../image/config.js'
import type {HealthFlags} from './health.js'
import {addResourceFlag, isResourceFlag, RESOURCE_OPTIONS, ResourceFlags} from './resources.js'
import {NETWORK_NAME_RE} from '../network/networks.js'

/**
 * What `nsx run` was asked, after parsing (docker run's flags) and before looking at images;
 * the security settings (--security-opt, --read-only, --tmpfs, --device, --ulimit,
 * --oom-score-adj, --shm-size, --privileged) are SecurityFlags (src/security/).
 */
export interface RunOptions extends SecurityFlags {
  layers: string[]
  image?: string
  name?: string
  hostname?: string
  /**
   * -e NAME=VALUE or -e NAME. A bare NAME is the container's "unset NAME" (moby's rule: kept in
   * Config.Env, dropped from the process's environment with any image or default value); the
   * CLI gives it the caller's value first when it has one (resolveCallerEnv, docker's CLI).
   */
  env: string[]
  envFiles: string[]
  workdir?: string
  user?: string
  volumes: string[]
  entrypoint?: string
  interactive: boolean
  tty: boolean
  detach: boolean
  /** --rm: removed when it ends (otherwise kept, as docker keeps it, until nsx rm). */
  rm: boolean
  /** --restart POLICY (docker's), for a detached container. */
  restart?: string
  /** --log-opt KEY=VALUE (max-size, max-file), docker's json-file options. */
  logOpts: string[]
  /** --log-driver: json-file (the default), local (kept as json-file, shown as local) or none (no log). */
  logDriver?: string
  /** --isolation: docker's on Linux takes only default (kept and shown in inspect). */
  isolation?: string
  /** --volume-driver: the driver of the volumes it makes; kept and shown, refused when a volume would be made by one other than local. */
  volumeDriver?: string
  memory?: string
  cpus?: string
  pidsLimit?: string
  cpusetCpus?: string
  cgroupParent?: string
  /** --group NAME: inside a named group's cgroups (nsx group create). */
  group?: string
  capAdd: string[]
  capDrop: string[]
  privileged: boolean
  /** --network: none, host, bridge (root's default; NSX_NETWORK sets another), container:NAME, or a network's name. */
  network: string
  /** -p/--publish [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp], -P/--publish-all, --ip, --mac-address, --network-alias (src/network/). */
  publish?: string[]
  publishAll?: boolean
  ip?: string
  /** --ip6: the IPv6 address on its (first) network, one with IPv6 on. */
  ip6?: string
  macAddress?: string
  networkAliases?: string[]
  /** --link-local-ip (repeatable): more addresses on the first network's interface. */
  linkLocalIps?: string[]
  /** The Engine API's EndpointsConfig DriverOpts (no flag: docker's CLI has none for run). */
  endpointDriverOpts?: Record<string, string>
  /** --userns MAP: CONTAINER:HOST:COUNT[,...] for uids and gids (root only). */
  userns?: string
  /** --add-host NAME:IP, --dns IP, --dns-search DOMAIN, --dns-option OPT (repeatable; src/container/etc-files.ts). */
  addHosts?: string[]
  dns?: string[]
  dnsSearch?: string[]
  dnsOptions?: string[]
  /** --stop-timeout: seconds between the SIGTERM and the SIGKILL when a foreground run is told to end (docker's 10). */
  stopTimeout?: number
  dryRun: boolean
  json: boolean
  help: boolean
  command: string[]
  /** The other resource flags: --memory-reservation, --memory-swap, --cpu-shares, --blkio-weight, ... (src/container/resources.ts). */
  resources?: ResourceFlags
  /** --label KEY=VALUE (docker's metadata; compose finds its containers by them). */
  labels?: string[]
  /** --health-cmd, --health-interval, ..., --no-healthcheck (src/container/health.ts). */
  health?: HealthFlags
  /** The Engine API's Healthcheck, docker's shape (the flags' place for the API's create). */
  healthcheck?: HealthConfig
  /** --pid, --uts, --ipc, --cgroupns: a namespace of the container's own (default), the host's, or another container's (src/container/namespaces.ts). */
  pid?: string
  uts?: string
  ipc?: string
  cgroupns?: string
  /** --init: an init as PID 1 that reaps zombies and forwards signals (nsx's containers always have one: nsx-init). */
  init?: boolean
  /** --group-add GROUP: supplementary groups, names looked up in the image's /etc/group. */
  groupAdd?: string[]
  /** --link NAME[:ALIAS]: the linked container by ALIAS in /etc/hosts (and its variables on the default bridge). */
  links?: string[]
  /** --volumes-from NAME[:ro|rw]: another container's volumes and binds. */
  volumesFrom?: string[]
  /** --sysctl NAME=VALUE: a sysctl of the container's own namespaces (src/security/sysctls.ts). */
  sysctls?: string[]
}

export const RUN_OPTIONS: readonly OptionSpec[] = [
  {key: 'layer', long: 'layer', arg: 'required'},
  {key: 'image', long: 'image', arg: 'required'},
  {key: 'name', long: 'name', arg: 'required'},
  {key: 'hostname', long: 'hostname', short: 'h', arg: 'required'},
  {key: 'env', long: 'env', short: 'e', arg: 'required'},
  {key: 'env-file', long: 'env-file', arg: 'required'},
  {key: 'workdir', long: 'workdir', short: 'w', arg: 'required'},
  {key: 'user', long: 'user', short: 'u', arg: 'required'},
  {key: 'volume', long: 'volume', short: 'v', arg: 'required'},
  {key: 'entrypoint', long: 'entrypoint', arg: 'required'},
  {key: 'interactive', long: 'interactive', short: 'i', arg: 'none'},
  {key: 'tty', long: 'tty', short: 't', arg: 'none'},
  {key: 'detach', long: 'detach', short: 'd', arg: 'none'},
  {key: 'rm', long: 'rm', arg: 'none'},
  {key: 'log-opt', long: 'log-opt', arg: 'required'},
  {key: 'log-driver', long: 'log-driver', arg: 'required'},
  {key: 'isolation', long: 'isolation', arg: 'required'},
  {key: 'volume-driver', long: 'volume-driver', arg: 'required'},
  {key: 'restart', long: 'restart', arg: 'required'},
  {key: 'memory', long: 'memory', short: 'm', arg: 'required'},
  {key: 'cpus', long: 'cpus', arg: 'required'},
  {key: 'pids-limit', long: 'pids-limit', arg: 'required'},
  {key: 'cpuset-cpus', long: 'cpuset-cpus', arg: 'required'},
  {key: 'cgroup-parent', long: 'cgroup-parent', arg: 'required'},
  {key: 'group', long: 'group', arg: 'required'},
  {key: 'cap-add', long: 'cap-add', arg: 'required'},
  {key: 'cap-drop', long: 'cap-drop', arg: 'required'},
  {key: 'privileged', long: 'privileged', arg: 'none'},
  {key: 'network', long: 'network', arg: 'required'},
  {key: 'publish', long: 'publish', short: 'p', arg: 'required'},
  {key: 'publish-all', long: 'publish-all', short: 'P', arg: 'none'},
  {key: 'ip', long: 'ip', arg: 'required'},
  {key: 'ip6', long: 'ip6', arg: 'required'},
  {key: 'mac-address', long: 'mac-address', arg: 'required'},
  {key: 'network-alias', long: 'network-alias', arg: 'required'},
  {key: 'link-local-ip', long: 'link-local-ip', arg: 'required'},
  {key: 'userns', long: 'userns', arg: 'required'},
  {key: 'stop-timeout', long: 'stop-timeout', arg: 'required'},
  {key: 'add-host', long: 'add-host', arg: 'required'},
  {key: 'dns', long: 'dns', arg: 'required'},
  {key: 'dns-search', long: 'dns-search', arg: 'required'},
  {key: 'dns-option', long: 'dns-option', arg: 'required'},
  {key: 'dry-run', long: 'dry-run', arg: 'none'},
  {key: 'json', long: 'json', arg: 'none'},
  {key: 'help', long: 'help', arg: 'none'},
  {key: 'security-opt', long: 'security-opt', arg: 'required'},
  {key: 'read-only', long: 'read-only', arg: 'none'},
  {key: 'tmpfs', long: 'tmpfs', arg: 'required'},
  {key: 'device', long: 'device', arg: 'required'},
  {key: 'ulimit', long: 'ulimit', arg: 'required'},
  {key: 'oom-score-adj', long: 'oom-score-adj', arg: 'required'},
  {key: 'shm-size', long: 'shm-size', arg: 'required'},
  {key: 'label', long: 'label', short: 'l', arg: 'required'},
  {key: 'health-cmd', long: 'health-cmd', arg: 'required'},
  {key: 'health-interval', long: 'health-interval', arg: 'required'},
  {key: 'health-timeout', long: 'health-timeout', arg: 'required'},
  {key: 'health-start-period', long: 'health-start-period', arg: 'required'},
  {key: 'health-start-interval', long: 'health-start-interval', arg: 'required'},
  {key: 'health-retries', long: 'health-retries', arg: 'required'},
  {key: 'no-healthcheck', long: 'no-healthcheck', arg: 'none'},
  {key: 'pid', long: 'pid', arg: 'required'},
  {key: 'uts', long: 'uts', arg: 'required'},
  {key: 'ipc', long: 'ipc', arg: 'required'},
  {key: 'cgroupns', long: 'cgroupns', arg: 'required'},
  {key: 'init', long: 'init', arg: 'none'},
  {key: 'group-add', long: 'group-add', arg: 'required'},
  {key: 'device-cgroup-rule', long: 'device-cgroup-rule', arg: 'required'},
  {key: 'link', long: 'link', arg: 'required'},
  {key: 'volumes-from', long: 'volumes-from', arg: 'required'},
  {key: 'sysctl', long: 'sysctl', arg: 'required'},
  ...RESOURCE_OPTIONS,
]

const bad = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 125, kind)
}

export function parseRunArgs(argv: readonly string[]): RunOptions {
  const parsed = getoptForCommand('run', argv, RUN_OPTIONS)
  const o: RunOptions = {
    layers: [],
    env: [],
    envFiles: [],
    volumes: [],
    capAdd: [],
    capDrop: [],
    interactive: false,
    tty: false,
    detach: false,
    rm: false,
    logOpts: [],
    privileged: false,
    network: '',
    publish: [],
    publishAll: false,
    networkAliases: [],
    stopTimeout: 10,
    addHosts: [],
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    dryRun: false,
    json: false,
    help: false,
    command: [],
    securityOpt: [],
    readOnly: false,
    tmpfs: [],
    devices: [],
    ulimits: [],
    resources: {},
  }
  const once = (key: string, given: string, prev: string | undefined, value: string) => {
    if (prev !== undefined) bad(`option ${given} may be given only once`)
    if (value === '') bad(`option ${given}: empty value`)
    return value
  }
  for (const {key, given, value = ''} of parsed!.options) {
    switch (key) {
      case 'layer': o.layers.push(value); break
      case 'image': o.image = once(key, given, o.image, value); break
      case 'name': o.name = once(key, given, o.name, value); break
      case 'hostname': o.hostname = once(key, given, o.hostname, value); break
      case 'env': o.env.push(value); break
      case 'env-file': o.envFiles.push(value); break
      case 'workdir': o.workdir = once(key, given, o.workdir, value); break
      case 'user': o.user = once(key, given, o.user, value); break
      case 'volume': o.volumes.push(value); break
      case 'entrypoint': o.entrypoint = value; break
      case 'interactive': o.interactive = true; break
      case 'tty': o.tty = true; break
      case 'detach': o.detach = true; break
      case 'rm': o.rm = true; break
      case 'log-opt': o.logOpts.push(value); break
      case 'log-driver': o.logDriver = value; break
      case 'isolation': o.isolation = value; break
      case 'volume-driver': o.volumeDriver = value; break
      case 'restart': o.restart = value; break
      case 'memory': o.memory = value; break
      case 'cpus': o.cpus = value; break
      case 'pids-limit': o.pidsLimit = value; break
      case 'cpuset-cpus': o.cpusetCpus = value; break
      case 'cgroup-parent': o.cgroupParent = value; break
      case 'group': o.group = once(key, given, o.group, value); break
      case 'cap-add': o.capAdd.push(...value.split(',')); break
      case 'cap-drop': o.capDrop.push(...value.split(',')); break
      case 'privileged': o.privileged = true; break
      case 'network':
        o.network = checkNetworkMode(value, '--network')
        break
      case 'publish': o.publish!.push(value); break
      case 'publish-all': o.publishAll = true; break
      case 'ip':
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(value) || value.split('.').some((x) => Number(x) > 255)) bad(`invalid --ip '${value}': not an IPv4 address`)
        o.ip = once(key, given, o.ip, value)
        break
      case 'ip6':
        if (!isIPv6(value) || value.includes('%')) bad(`invalid --ip6 '${value}': not an IPv6 address`)
        o.ip6 = once(key, given, o.ip6, value)
        break
      case 'mac-address':
        if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(value)) bad(`invalid --mac-address '${value}': expected six hex pairs, e.g. 92:d0:c6:0a:29:33`)
        o.macAddress = once(key, given, o.macAddress, value.toLowerCase())
        break
      case 'network-alias': o.networkAliases!.push(value); break
      case 'link-local-ip':
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(value) || value.split('.').some((x) => Number(x) > 255)) bad(`invalid --link-local-ip '${value}': not an IPv4 address`)
        ;(o.linkLocalIps ??= []).push(value)
        break
      case 'userns': o.userns = once(key, given, o.userns, value); break
      case 'add-host': o.addHosts!.push(value); break
      case 'dns': o.dns!.push(value); break
      case 'dns-search': o.dnsSearch!.push(value); break
      case 'dns-option': o.dnsOptions!.push(value); break
      case 'stop-timeout':
        if (!/^\d{1,5}$/.test(value) || Number(value) > 86400) bad(`invalid --stop-timeout '${value}': seconds, 0 to 86400`)
        o.stopTimeout = Number(value)
        break
      case 'dry-run': o.dryRun = true; break
      case 'json': o.json = true; break
      case 'help': o.help = true; break
      case 'security-opt': o.securityOpt!.push(value); break
      case 'read-only': o.readOnly = true; break
      case 'tmpfs': o.tmpfs!.push(value); break
      case 'device': o.devices!.push(value); break
      case 'ulimit': o.ulimits!.push(value); break
      case 'oom-score-adj': o.oomScoreAdj = once(key, given, o.oomScoreAdj, value); break
      case 'shm-size': o.shmSize = once(key, given, o.shmSize, value); break
      case 'label': (o.labels ??= []).push(value); break
      case 'health-cmd': (o.health ??= {}).healthCmd = value; break
      case 'health-interval': (o.health ??= {}).healthInterval = value; break
      case 'health-timeout': (o.health ??= {}).healthTimeout = value; break
      case 'health-start-period': (o.health ??= {}).healthStartPeriod = value; break
      case 'health-start-interval': (o.health ??= {}).healthStartInterval = value; break
      case 'health-retries': (o.health ??= {}).healthRetries = value; break
      case 'no-healthcheck': (o.health ??= {}).noHealthcheck = true; break
      case 'pid': o.pid = once(key, given, o.pid, checkNamespaceMode('pid', value)); break
      case 'uts': o.uts = once(key, given, o.uts, checkNamespaceMode('uts', value)); break
      case 'ipc': o.ipc = once(key, given, o.ipc, checkNamespaceMode('ipc', value)); break
      case 'cgroupns': o.cgroupns = once(key, given, o.cgroupns, checkNamespaceMode('cgroupns', value)); break
      case 'init': o.init = true; break
      case 'group-add': (o.groupAdd ??= []).push(value); break
      case 'device-cgroup-rule': (o.deviceCgroupRules ??= []).push(value); break
      case 'link': (o.links ??= []).push(value); break
      case 'volumes-from': (o.volumesFrom ??= []).push(value); break
      case 'sysctl': (o.sysctls ??= []).push(value); break
      default:
        if (isResourceFlag(key)) addResourceFlag(o.resources!, key, given, value)
    }
  }
  const networkGiven = o.network !== ''
  if (o.network === '') o.network = defaultNetwork(process.env, {userns: o.userns !== undefined})
  if (o.rm && o.restart !== undefined && o.restart !== 'no') bad('conflicting options: --restart and --rm (a container removed when it ends cannot be restarted)')
  if (o.json && !o.dryRun) bad('--json only goes with --dry-run (nsx run prints nothing of its own otherwise; see nsx ps --json)')
  // An ordinary user's -p/-P with neither --network nor NSX_NETWORK: bridge, which for them is a user-mode stack (src/network/rootless.ts), as rootless podman's default.
  if (!networkGiven && !process.env.NSX_NETWORK && o.network === 'none' && (o.publish!.length > 0 || o.publishAll) && (process.geteuid?.() ?? 0) !== 0) o.network = 'bridge'
  if (o.network === 'host' || o.network === 'none' || o.network.startsWith('container:')) {
    const flag = o.publish!.length > 0 ? '-p' : o.publishAll ? '-P' : o.ip !== undefined ? '--ip' : o.ip6 !== undefined ? '--ip6' : o.macAddress !== undefined ? '--mac-address' : o.networkAliases!.length > 0 ? '--network-alias' : (o.linkLocalIps ?? []).length > 0 ? '--link-local-ip' : undefined
    if (flag) bad(`${flag} needs a bridge network: --network ${o.network} ${o.network === 'host' ? "shares the host's" : o.network === 'none' ? 'has none' : "shares another container's"}`)
  }
  o.command = [...parsed!.rest]
  // docker's form: nsx run [OPTIONS] IMAGE [COMMAND...]; with --image or --layer every argument is the command.
  if (o.image === undefined && o.layers.length === 0 && o.command.length > 0) o.image = o.command.shift()
  return o
}

/**
 * The network a container joins when --network is not given: NSX_NETWORK when set (the
 * test suite and the benchmarks set none, so they never make a bridge in the host's
 * network namespace), else docker's default, bridge, for root; none for an ordinary user
 * and for a container of its own user namespace (--userns), which cannot be on a bridge
 * yet (docs/networking.md).
 */
export function defaultNetwork(env: NodeJS.ProcessEnv = process.env, who: {uid?: number; userns?: boolean} = {}): string {
  if (env.NSX_NETWORK) return checkNetworkMode(env.NSX_NETWORK, 'NSX_NETWORK')
  const uid = who.uid ?? process.getuid?.() ?? 0
  return uid === 0 && !who.userns ? 'bridge' : 'none'
}

/**
 * --pid, --uts, --ipc, --cgroupns as docker takes them: the container's own namespace ("" or
 * private, and shareable for ipc), the host's (host), or another container's (container:NAME,
 * for pid and ipc). docker's --ipc none (no /dev/shm) is refused: nsx always mounts one.
 */
export function checkNamespaceMode(kind: 'pid' | 'uts' | 'ipc' | 'cgroupns', value: string): string {
  const modes: Record<typeof kind, string[]> = {pid: ['host', 'container:NAME'], uts: ['host'], ipc: ['private', 'shareable', 'host', 'container:NAME'], cgroupns: ['private', 'host']}
  const ok = modes[kind]
  if (ok.includes(value) || (value.startsWith('container:') && ok.includes('container:NAME') && /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(value.slice(10)))) return value
  if (kind === 'ipc' && value === 'none') return bad("--ipc none is not supported by nsx (its containers always have a /dev/shm of their own): use private")
  return bad(`invalid --${kind} '${value}': expected ${ok.join(', ')}`)
}

/** none, host, bridge, container:NAME|ID, or a network's name. */
export function checkNetworkMode(value: string, what: string): string {
  if (value.startsWith('container:')) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(value.slice(10))) bad(`invalid ${what} '${value}': expected container:NAME or container:ID`)
    return value
  }
  if (!NETWORK_NAME_RE.test(value)) bad(`invalid ${what} '${value}': expected none, host, bridge, container:NAME or a network's name (nsx network ls)`)
  return value
}
