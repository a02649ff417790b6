import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {Store} from '../store/store.js'
import {addAttachment, addLinkLocal, runtimeConfigOf, staticIps, writeRecord} from './attach.js'
import {execPlugin, pluginInput} from './cni.js'
import {ensureNetworkRules, hasOwnRules, linkExists} from './hostrules.js'
import {withHostsLock} from './hosts.js'
import {cniNetworkName, DEFAULT_NETWORK, findNetwork, inRanges, inSubnet, readNetwork} from './networks.js'
import {endpointOfContainerDir, readEndpoint, refreshHosts} from './records.js'
import {networkSettings, type ConfiguredNetworks, type NetworkSettings} from './settings.js'
import {checkIp6} from './ipv6.js'
import type {Attachment, EndpointRequest, NetSpec, NetworkConfList} from './types.js'

/**
 * docker network connect/disconnect at the network's level: a running container's namespace
 * gets one more interface (ethN, CNI ADD of the network's plugins) or loses one (CNI DEL in
 * reverse order), its endpoint record and teardown rewritten first (connect) or after
 * (disconnect), so whatever ends the container still releases exactly what it holds; the
 * /etc/hosts files of the container and its peers follow. The container's side (its lock,
 * its saved spec, a created or stopped container) is src/lifecycle/network-connect.ts.
 */

/** docker's own refusals (moby runconfig/errors.go). */
export const CONFLICT_HOST = 'container cannot be disconnected from host network or connected to host network'
export const CONFLICT_NONE = 'container cannot be connected to multiple networks with one of the networks in private (none) mode'
export const CONFLICT_SHARED = 'container sharing network namespace with another container or host cannot be connected to any other network'

/** A container's networks and per-network requests, in the form connect and disconnect change. */
export interface NetworkList {
  networks: string[]
  endpoints: Record<string, EndpointRequest>
}

/**
 * The networks a container is on (resolved to names) and what it asked of each: --network's list
 * until a connect or disconnect, then the spec's own list. --network-alias applies to each network
 * of --network, --ip to the first, as at start (src/network/attach.ts).
 */
export function networkList(store: Store, mode: string, net: NetSpec | undefined): NetworkList {
  const endpoints: Record<string, EndpointRequest> = {...(net?.endpoints ?? {})}
  if (net?.networks) return {networks: [...net.networks], endpoints}
  const networks = mode.split(',').filter(Boolean).map((n) => (n === DEFAULT_NETWORK ? n : (findNetwork(store, n)?.name ?? n)))
  networks.forEach((n, i) => {
    const aliases = [...new Set([...(net?.aliases ?? []), ...(endpoints[n]?.aliases ?? [])])]
    const ip = endpoints[n]?.ip ?? (i === 0 ? net?.ip : undefined)
    const ip6 = endpoints[n]?.ip6 ?? (i === 0 ? net?.ip6 : undefined)
    const linkLocalIps = endpoints[n]?.linkLocalIps ?? (i === 0 ? net?.linkLocalIps : undefined)
    const driverOpts = endpoints[n]?.driverOpts ?? (i === 0 ? net?.driverOpts : undefined)
    const links = endpoints[n]?.links
    endpoints[n] = {...(aliases.length > 0 ? {aliases} : {}), ...(ip !== undefined ? {ip} : {}), ...(ip6 !== undefined ? {ip6} : {}), ...(linkLocalIps?.length ? {linkLocalIps} : {}), ...(driverOpts ? {driverOpts} : {}), ...(links?.length ? {links} : {})}
  })
  return {networks, endpoints}
}

/** The spec's NetSpec after a change of its list: --network-alias, --ip and --link-local-ip now live per network. */
export function withNetworkList(net: NetSpec | undefined, list: NetworkList): NetSpec {
  const {ip: _ip, ip6: _ip6, linkLocalIps: _ll, driverOpts: _do, ...rest} = net ?? {publish: [], publishAll: false, exposed: [], aliases: []}
  return {...rest, aliases: [], networks: list.networks, endpoints: list.endpoints}
}

/** A --link-local-ip: an IPv4 address (docker takes any; nsx adds it as IP/16, as 169.254.0.0/16 is). */
export function checkLinkLocalIp(ip: string): void {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip) || ip.split('.').some((x) => Number(x) > 255) || ip === '0.0.0.0') throw NsxError.invalid(`invalid link-local IP address: ${ip}`, 1)
}

/** docker's checks of a connect request against the network: aliases need a user-defined one, an address must be in its subnet. */
export function checkEndpointRequest(conf: NetworkConfList, req: EndpointRequest): void {
  if (conf.name === DEFAULT_NETWORK && (req.aliases ?? []).length > 0) throw NsxError.forbidden('network-scoped alias is supported only for containers in user defined networks', 1)
  if (req.ip !== undefined) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(req.ip)) throw NsxError.invalid(`invalid IPv4 address: ${req.ip}`, 1)
    if (!inSubnet(req.ip, conf.nsx.subnet)) throw NsxError.invalid(`Invalid address ${req.ip}: It does not belong to any of this network's subnets`, 1)
    if (!inRanges(req.ip, conf.nsx)) throw NsxError.invalid(`Invalid address ${req.ip}: nsx hands out addresses of network ${conf.name} from ${conf.nsx.ipRange ?? conf.nsx.subnet}, less its auxiliary addresses`, 1)
  }
  if (req.ip6 !== undefined) checkIp6(conf, req.ip6)
  for (const ip of req.linkLocalIps ?? []) checkLinkLocalIp(ip)
}

export interface EndpointChange {
  id: string
  /** The container's /etc/hosts text for its own addresses (its file is rewritten in place). */
  hostsText?: (addresses: string[]) => string
  /** Whether a container still runs (peers' hosts files list only live ones). */
  isLive: (id: string) => boolean
}

function rewriteOwnHosts(store: Store, id: string, change: EndpointChange): void {
  const ep = readEndpoint(store, id)
  if (!ep?.hosts || !change.hostsText) return
  ep.hosts.base = change.hostsText(ep.attachments.map((a) => a.address.split('/')[0]).filter(Boolean))
  writeRecord(store, ep)
  const path = ep.hosts.path
  const base = ep.hosts.base
  // Its own part now; its peers' lines follow at once (refreshHosts), under the same lock.
  withHostsLock(store, () => {
    try {
      writeFileSync(path, base)
    } catch {
      // its directory is gone: it is being removed
    }
  })
}

/** DEL of one attachment's plugins in reverse order; the failures as lines. */
function delAttachment(a: Attachment, id: string, netns: string): string[] {
  const failed: string[] = []
  for (const p of [...a.plugins].reverse()) {
    try {
      execPlugin(p.type, {command: 'DEL', containerId: id, netns, ifname: a.ifname}, pluginInput(p, {name: cniNetworkName(a.network), cniVersion: a.cniVersion}, Object.keys(a.result).length > 0 ? a.result : undefined, runtimeConfigOf(p, a)))
    } catch (err) {
      failed.push((err as Error).message)
    }
  }
  return failed
}

/** CNI ADD of a running container onto one more network: the next free ethN, no published port (those stay on the first network). */
export async function connectEndpoint(store: Store, conf: NetworkConfList, req: EndpointRequest, change: EndpointChange): Promise<Attachment> {
  const ep = readEndpoint(store, change.id)
  if (!ep) throw NsxError.internal(`container ${change.id} has no network namespace of nsx's: restart it to join ${conf.name}`, 1)
  const used = new Set(ep.attachments.map((a) => a.ifname))
  let n = 0
  while (used.has(`eth${n}`)) n++
  const a: Attachment = {network: conf.name, networkId: conf.nsx.id, ifname: `eth${n}`, address: '', aliases: req.aliases ?? [], ...(req.links?.length && conf.name !== DEFAULT_NETWORK ? {links: req.links} : {}), ports: [], ...staticIps(conf, req.ip6), plugins: conf.plugins.filter((p) => p.type !== 'portmap'), result: {}, cniVersion: conf.cniVersion}
  ep.attachments.push(a)
  // The teardown knows the new attachment before it is made: a crash from here on leaves what gc undoes.
  writeRecord(store, ep)
  try {
    if (hasOwnRules(conf) && !linkExists(conf.nsx.bridge)) ensureNetworkRules(store, conf)
    await addAttachment(a, change.id, ep.netns, req.ip)
    await addLinkLocal(ep.netns, a.ifname, req.linkLocalIps)
  } catch (err) {
    delAttachment(a, change.id, ep.netns)
    ep.attachments.pop()
    writeRecord(store, ep)
    throw err
  }
  writeRecord(store, ep)
  rewriteOwnHosts(store, change.id, change)
  refreshHosts(store, ep.attachments.map((x) => x.network), change.isLive)
  return a
}

/** CNI DEL of a running container's attachment to NETWORK (a name); false when it has none there. With force, a failed DEL still forgets it. */
export function disconnectEndpoint(store: Store, network: string, change: EndpointChange & {force?: boolean}): boolean {
  const ep = readEndpoint(store, change.id)
  const i = ep?.attachments.findIndex((a) => a.network === network) ?? -1
  if (!ep || i < 0) return false
  const a = ep.attachments[i]
  const failed = delAttachment(a, change.id, ep.netns)
  if (failed.length > 0 && !change.force) throw NsxError.internal(`cannot disconnect from network ${network}: ${failed[0]}`, 1)
  ep.attachments.splice(i, 1)
  writeRecord(store, ep)
  rewriteOwnHosts(store, change.id, change)
  refreshHosts(store, [network, ...ep.attachments.map((x) => x.network)], change.isLive)
  return true
}

/** inspect's view of a container's networks (src/network/settings.ts), from its directory ROOT/run/<id> and its spec. */
export function configuredNetworks(dir: string, mode: string, net: NetSpec | undefined): ConfiguredNetworks | undefined {
  if (mode === 'none' || mode === 'host' || mode.startsWith('container:')) return undefined
  const store = Store.open(join(dir, '..', '..'), {create: false})
  return {...networkList(store, mode, net), idOf: (n) => readNetwork(store, n)?.nsx.id ?? ''}
}

/** docker's ContainerSummary network fields (GET /containers/json, docker ps): the published ports and the networks. */
export function summaryNetworks(dir: string, mode: string, net: NetSpec | undefined, running: boolean): {Ports: Array<{IP?: string; PrivatePort: number; PublicPort?: number; Type: string}>; Networks: NetworkSettings['Networks']} {
  const ep = running ? endpointOfContainerDir(dir) : undefined
  const Ports = (ep?.attachments ?? []).flatMap((a) => a.ports.map((p) => ({IP: p.hostIP === '' ? '0.0.0.0' : p.hostIP, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol})))
  return {Ports, Networks: networkSettings(ep, mode, configuredNetworks(dir, mode, net)).Networks}
}
