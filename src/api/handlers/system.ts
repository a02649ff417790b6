import {readFileSync} from 'node:fs'
import {arch, cpus, hostname, release, totalmem} from 'node:os'
import {packageVersion} from '../../cli/version.js'
import {ApiError} from '../http.js'
import type {ApiContext, Route} from '../router.js'
import {API_VERSION, ENGINE_VERSION, MIN_API_VERSION} from '../version.js'

/** `GET|HEAD /_ping`: what the docker CLI negotiates from (Api-Version) and which builder to use (1: the classic one). */
function ping(ctx: ApiContext): undefined {
  const {res, req} = ctx
  res.writeHead(200, {'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Builder-Version': '1', 'Content-Length': '2'})
  res.end(req.method === 'HEAD' ? undefined : 'OK')
  return undefined
}

const GOARCH: Record<string, string> = {x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64'}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))
    if (m?.[1]) return m[1]
  } catch {
    // none
  }
  return 'Linux'
}

function version(): object {
  const nsx = packageVersion()
  return {
    Platform: {Name: `nsx ${nsx}`},
    Components: [{Name: 'Engine', Version: ENGINE_VERSION, Details: {ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: 'nsx', GoVersion: `node${process.versions.node}`, Os: 'linux', Arch: GOARCH[arch()] ?? arch(), KernelVersion: release(), Experimental: 'false', BuildTime: ''}}],
    Version: ENGINE_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: 'nsx',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: GOARCH[arch()] ?? arch(),
    KernelVersion: release(),
    Experimental: false,
    BuildTime: '',
  }
}

async function info(ctx: ApiContext): Promise<object> {
  const store = ctx.store()
  const [{listContainers}, {isPaused}, {listImages}, {readCgroupLayout}] = await Promise.all([
    import('../../container/state.js'), import('../../container/pause.js'), import('../../store/images.js'), import('../../cgroup/hierarchy.js'),
  ])
  const containers = listContainers(store)
  let running = 0
  let paused = 0
  for (const c of containers) {
    if (c.status !== 'running') continue
    if (await isPaused(c)) paused++
    else running++
  }
  const layout = readCgroupLayout()
  const nsx = packageVersion()
  return {
    ID: `nsx:${hostname()}`,
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: containers.length - running - paused,
    Images: listImages(store).length,
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', 'nsx store'], ['Store', store.root]],
    DockerRootDir: store.root,
    Plugins: {Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: [], Log: ['json-file']},
    MemoryLimit: true,
    SwapLimit: true,
    KernelMemory: false,
    KernelMemoryTCP: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    OomKillDisable: false,
    IPv4Forwarding: true,
    BridgeNfIptables: false,
    BridgeNfIp6tables: false,
    Debug: false,
    NFd: 0,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: layout.mode === 'v2' ? '2' : '1',
    NEventsListener: 0,
    KernelVersion: release(),
    OperatingSystem: osName(),
    OSVersion: '',
    OSType: 'linux',
    Architecture: arch() === 'x64' ? 'x86_64' : arch(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: []},
    NCPU: cpus().length,
    MemTotal: totalmem(),
    GenericResources: [],
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: ENGINE_VERSION,
    Runtimes: {nsx: {path: 'nsx-exec'}},
    DefaultRuntime: 'nsx',
    Swarm: {NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null},
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    ContainerdCommit: {ID: 'nsx', Expected: 'nsx'},
    RuncCommit: {ID: 'nsx', Expected: 'nsx'},
    InitCommit: {ID: 'nsx', Expected: 'nsx'},
    SecurityOptions: ['name=seccomp,profile=default'],
    Warnings: [],
  }
}

const refuse = (status: number, message: string) => (): never => {
  throw new ApiError(status, message)
}

const SWARM = 'This node is not a swarm manager: nsx serves no swarm (services, nodes, tasks, secrets and configs are swarm features).'
const PLUGINS = 'nsx serves no plugins API: volumes use the local driver and networks nsx\'s own bridge.'

export const SYSTEM_ROUTES: Route[] = [
  {method: 'GET', path: '/_ping', handler: ping},
  {method: 'HEAD', path: '/_ping', handler: ping},
  {method: 'GET', path: '/version', handler: version},
  {method: 'GET', path: '/info', handler: info},
  {method: 'GET', path: '/events', handler: async (ctx) => (await import('../events.js')).events(ctx)},
]

/** What nsx does not serve: a clear answer, never a hang. */
export const UNSUPPORTED_ROUTES: Route[] = [
  ...(['GET', 'POST', 'DELETE'] as const).flatMap((method) => [
    {method, path: '/swarm', handler: refuse(503, SWARM)},
    {method, path: '/swarm/{rest*}', handler: refuse(503, SWARM)},
    ...['services', 'nodes', 'tasks', 'secrets', 'configs'].flatMap((what) => [
      {method, path: `/${what}`, handler: refuse(503, SWARM)},
      {method, path: `/${what}/{rest*}`, handler: refuse(503, SWARM)},
    ]),
    {method, path: '/plugins', handler: refuse(501, PLUGINS)},
    {method, path: '/plugins/{rest*}', handler: refuse(501, PLUGINS)},
  ]),
  {method: 'POST', path: '/session', handler: refuse(501, 'nsx has no BuildKit: its builder is the classic one (Builder-Version: 1); build without BuildKit (DOCKER_BUILDKIT=0)')},
  {method: 'POST', path: '/grpc', handler: refuse(501, 'nsx has no BuildKit (no gRPC endpoint): build without BuildKit (DOCKER_BUILDKIT=0)')},
]
