import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import type {ContainerConfig} from '../container/state.js'

/**
 * Where a container's start meets src/network/: which network namespace its init joins,
 * the CNI ADD before the executor runs, and the teardown when the start fails.
 */

/** Whether the container's network mode is a bridge network of the store (not none, host or container:NAME). */
export function onBridge(config: ContainerConfig): boolean {
  const n = config.spec.network
  return n !== 'none' && n !== 'host' && !n.startsWith('container:')
}

/** The init's network namespace and the supervisor's exit hook, for the plan. */
export async function networkPaths(store: Store, config: ContainerConfig): Promise<{netns?: string; exitHook?: string; netHook?: string; netWait?: string}> {
  const mode = config.spec.network
  if (mode.startsWith('container:')) {
    const {resolveContainer} = await import('../container/state.js')
    const target = resolveContainer(store, mode.slice(10))
    if (target.config.id === config.id) throw NsxError.invalid(`--network ${mode}: a container cannot join its own network namespace`, 125)
    if (target.status !== 'running' || !target.pids) throw NsxError.conflict(`cannot join the network namespace of container ${target.config.name}: it is not running`, 125)
    return {netns: `/proc/${target.pids.init.pid}/ns/net`}
  }
  if (!onBridge(config)) return {}
  // An ordinary user's container: a user-mode stack (pasta or slirp4netns) started by its supervisor.
  if (config.spec.userns?.rootless) return (await import('../network/rootless.js')).rootlessPaths(store, config.id)
  if (mode === 'pasta' || mode === 'slirp4netns') throw NsxError.invalid(`--network ${mode} is for rootless containers (an ordinary user's); as root, use bridge or a network of nsx network create`, 125)
  if (config.spec.userns) throw NsxError.invalid(`--network ${mode} with ${config.spec.userns.rootless ? 'rootless containers' : '--userns'} is not supported yet: use --network none or host`, 125)
  const {addStatusPath, netnsPath, teardownPath} = await import('../network/records.js')
  // The ADD may still run when the executor starts (src/network/attach.ts): the init waits for it.
  return {netns: netnsPath(store, config.id), exitHook: teardownPath(store, config.id), netWait: addStatusPath(store, config.id)}
}

/** A container of the store that runs (or is being started): its endpoint holds its ports and leases. */
export async function liveCheck(store: Store): Promise<(id: string) => boolean> {
  const {containerDir, readContainer} = await import('../container/state.js')
  return (id: string) => {
    const c = readContainer(containerDir(store, id))
    return c !== undefined && (c.status === 'running' || c.status === 'starting')
  }
}

/** CNI ADD for a starting container on a bridge network (begun: it may finish while the executor sets the root up); its /etc/hosts rewritten with its addresses. */
export async function attachForStart(store: Store, config: ContainerConfig, dir: string): Promise<void> {
  if (!onBridge(config) || !config.spec.net) return
  if (config.spec.userns?.rootless) {
    const {prepareRootless} = await import('../network/rootless.js')
    const isLive = await liveCheck(store)
    await prepareRootless(store, {id: config.id, name: config.name, hostname: config.spec.hostname, mode: config.spec.network, net: config.spec.net, isLive: (id) => id === config.id || isLive(id)})
    return
  }
  const [{attachContainer}, etc] = await Promise.all([import('../network/attach.js'), import('../container/etc-files.js')])
  const isLive = await liveCheck(store)
  const networks = config.spec.net.networks ?? config.spec.network.split(',')
  // --link: the linked containers by their aliases (they must run: docker's rule).
  const links = config.spec.links?.length ? await (await import('./links.js')).linkHosts(store, config, networks) : []
  const withLinks = links.length > 0 && config.spec.etc ? {...config, spec: {...config.spec, etc: {...config.spec.etc, extraHosts: [...config.spec.etc.extraHosts, ...links]}}} : config
  await attachContainer(store, {
    id: config.id,
    name: config.name,
    hostname: config.spec.hostname,
    networks,
    net: config.spec.net,
    isLive: (id) => id === config.id || isLive(id),
    hosts: config.spec.etc ? {path: `${dir}/hosts`, text: hostsText(withLinks, etc)!} : undefined,
    links: config.spec.links,
    dns: config.spec.etc?.dns,
    resolvConf: config.spec.etc ? {path: `${dir}/resolv.conf`, text: resolvText(config, etc)} : undefined,
  })
}

/** The container's own /etc/hosts text for its addresses (its peers' lines are added by src/network/records.ts). */
export function hostsText(config: ContainerConfig, etc: typeof import('../container/etc-files.js')): ((addresses: string[]) => string) | undefined {
  const spec = config.spec.etc
  return spec ? (addresses) => etc.hostsFile({...spec, addresses}, etc.hostHosts()) : undefined
}

/**
 * The container's /etc/resolv.conf: on a user-defined network its nameserver is the network's
 * DNS server, which forwards what it does not know to the --dns servers (or the host's);
 * else as written at create.
 */
function resolvText(config: ContainerConfig, etc: typeof import('../container/etc-files.js')): (nameservers?: string[]) => string {
  const spec = config.spec.etc!
  return (nameservers) => etc.resolvConf(nameservers ? {...spec, dns: nameservers} : spec, etc.hostResolvConf())
}

/** After a failed start: whatever ADD made goes (the supervisor may have run the same already). */
export async function detachAfterFailure(store: Store, config: ContainerConfig): Promise<void> {
  if (!onBridge(config)) return
  const {teardownContainer} = await import('../network/records.js')
  teardownContainer(store, config.id)
}

/** nsx gc's part: what dead containers left on their networks torn down, leases nobody holds dropped, the live ones CHECKed. */
export async function gcNetworks(store: Store): Promise<import('../network/attach.js').NetworkGcReport> {
  const {reconcileNetworks} = await import('../network/attach.js')
  return reconcileNetworks(store, await liveCheck(store))
}

/** docker port CONTAINER [PRIVATE_PORT[/PROTO]]: its published ports, as lines. */
export async function containerPorts(store: Store, ref: string, privatePort?: string): Promise<string[]> {
  const [{resolveContainer}, {endpointOfContainerDir}, {portLines}] = await Promise.all([import('../container/state.js'), import('../network/records.js'), import('../network/format.js')])
  const c = resolveContainer(store, ref)
  const running = c.status === 'running' || c.status === 'starting'
  const ports = running ? (endpointOfContainerDir(c.dir)?.attachments.flatMap((a) => a.ports) ?? []) : []
  if (privatePort === undefined) return portLines(ports)
  const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(privatePort)
  if (!m) throw NsxError.invalid(`invalid port '${privatePort}': expected PORT[/tcp|udp]`, 1)
  const filter = {port: Number(m[1]), protocol: (m[2] ?? 'tcp') as 'tcp' | 'udp'}
  const lines = portLines(ports, filter).map((l) => l.slice(l.indexOf('-> ') + 3))
  if (lines.length === 0) throw NsxError.notFound(`No public port '${filter.port}/${filter.protocol}' published for ${c.config.name}`, 1)
  return lines
}
