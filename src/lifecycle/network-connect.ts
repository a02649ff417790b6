import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import type {Container} from '../container/state.js'
import {withContainer, writeConfig} from '../container/state.js'
import {checkEndpointRequest, CONFLICT_HOST, CONFLICT_NONE, CONFLICT_SHARED, connectEndpoint, disconnectEndpoint, networkList, withNetworkList} from '../network/connect.js'
import {findNetwork} from '../network/networks.js'
import {parseLink} from '../container/spec.js'
import {recordEvent} from '../store/events.js'
import {hostsText, liveCheck} from './container-network.js'

/**
 * docker network connect and disconnect: one function each, for nsx network connect/disconnect
 * and the Engine API. Under the container's lock: a running container's namespace gets (or loses)
 * the interface at once (src/network/connect.ts); a created or stopped one only has its spec
 * changed, and gets its networks at its next start, as docker does.
 */

export interface ConnectOptions {
  aliases?: string[]
  ip?: string
  ip6?: string
  linkLocalIps?: string[]
  driverOpts?: Record<string, string>
  /** --link NAME[:ALIAS]: ALIAS names NAME on the network, by DNS, once NAME runs there (it need not exist yet). */
  links?: string[]
}

/** A link of a connect (NAME[:ALIAS]): a bad one is a bad request (exit 1), not a container's failure. */
function linkOf(s: string): {name: string; alias: string} {
  try {
    return parseLink(s)
  } catch (err) {
    throw NsxError.invalid((err as Error).message, 1)
  }
}

/** docker's KEY=VALUE list options (--driver-opt, --opt, --label, --aux-address) as a map; a word without '=' is refused. */
export function keyValues(words: readonly string[], flag: string): Record<string, string> | undefined {
  if (words.length === 0) return undefined
  const out: Record<string, string> = {}
  for (const w of words) {
    const eq = w.indexOf('=')
    if (eq <= 0) throw NsxError.invalid(`invalid ${flag} '${w}': expected KEY=VALUE`, 1)
    out[w.slice(0, eq)] = w.slice(eq + 1)
  }
  return out
}

const running = (c: Container) => c.status === 'running' || c.status === 'starting'

function refuseMode(c: Container): void {
  const mode = c.config.spec.network
  if (mode === 'host') throw NsxError.forbidden(CONFLICT_HOST, 1)
  if (mode === 'none') throw NsxError.forbidden(CONFLICT_NONE, 1)
  if (mode.startsWith('container:')) throw NsxError.forbidden(CONFLICT_SHARED, 1)
  // A user-mode stack (pasta, slirp4netns) or a user namespace: no CNI attachment to add to.
  if (mode === 'pasta' || mode === 'slirp4netns' || c.config.spec.userns) throw NsxError.forbidden(`container ${c.config.name} ${c.config.spec.userns?.rootless || mode === 'pasta' || mode === 'slirp4netns' ? "is rootless (a user-mode network stack)" : 'runs in a user namespace (--userns)'}: it cannot be connected to nsx networks`, 1)
}

export async function connectContainer(store: Store, containerRef: string, networkRef: string, o: ConnectOptions = {}): Promise<{id: string; name: string; network: string; networkId: string}> {
  if (networkRef === 'host') throw NsxError.forbidden(CONFLICT_HOST, 1)
  if (networkRef === 'none') throw NsxError.forbidden(CONFLICT_NONE, 1)
  const [etc, isLive] = await Promise.all([import('../container/etc-files.js'), liveCheck(store)])
  return withContainer(store, containerRef, async (c) => {
    refuseMode(c)
    const conf = findNetwork(store, networkRef)
    if (!conf) throw NsxError.notFound(`network ${networkRef} not found`, 1)
    const req = {...(o.aliases && o.aliases.length > 0 ? {aliases: [...new Set(o.aliases)]} : {}), ...(o.ip ? {ip: o.ip} : {}), ...(o.ip6 ? {ip6: o.ip6} : {}), ...(o.linkLocalIps?.length ? {linkLocalIps: o.linkLocalIps} : {}), ...(o.driverOpts && Object.keys(o.driverOpts).length > 0 ? {driverOpts: o.driverOpts} : {}), ...(o.links?.length ? {links: o.links.map(linkOf)} : {})}
    checkEndpointRequest(conf, req)
    const list = networkList(store, c.config.spec.network, c.config.spec.net)
    if (list.networks.includes(conf.name)) throw NsxError.forbidden(`endpoint with name ${c.config.name} already exists in network ${conf.name}`, 1)
    if (running(c)) await connectEndpoint(store, conf, req, {id: c.config.id, hostsText: hostsText(c.config, etc), isLive: (id) => id === c.config.id || isLive(id)})
    list.networks.push(conf.name)
    list.endpoints[conf.name] = req
    writeConfig(c.dir, {...c.config, spec: {...c.config.spec, net: withNetworkList(c.config.spec.net, list)}})
    recordEvent(store.root, {Type: 'network', Action: 'connect', id: conf.nsx.id, attributes: {container: c.config.id, name: conf.name, type: 'bridge'}})
    return {id: c.config.id, name: c.config.name, network: conf.name, networkId: conf.nsx.id}
  })
}

export async function disconnectContainer(store: Store, containerRef: string, networkRef: string, o: {force?: boolean} = {}): Promise<{id: string; name: string; network: string; networkId: string}> {
  if (networkRef === 'host') throw NsxError.forbidden(CONFLICT_HOST, 1)
  const [etc, isLive] = await Promise.all([import('../container/etc-files.js'), liveCheck(store)])
  return withContainer(store, containerRef, async (c) => {
    const mode = c.config.spec.network
    if (mode === 'host') throw NsxError.forbidden(CONFLICT_HOST, 1)
    const conf = findNetwork(store, networkRef)
    if (!conf && !o.force) throw NsxError.notFound(`network ${networkRef} not found`, 1)
    const name = conf?.name ?? networkRef
    const list = mode === 'none' || mode.startsWith('container:') ? {networks: [], endpoints: {}} : networkList(store, mode, c.config.spec.net)
    if (!list.networks.includes(name)) throw NsxError.forbidden(`container ${c.config.id} is not connected to network ${name}`, 1)
    if (running(c)) disconnectEndpoint(store, name, {id: c.config.id, hostsText: hostsText(c.config, etc), isLive: (id) => id === c.config.id || isLive(id), force: o.force})
    list.networks = list.networks.filter((n) => n !== name)
    delete list.endpoints[name]
    writeConfig(c.dir, {...c.config, spec: {...c.config.spec, net: withNetworkList(c.config.spec.net, list)}})
    recordEvent(store.root, {Type: 'network', Action: 'disconnect', id: conf?.nsx.id ?? name, attributes: {container: c.config.id, name, type: 'bridge'}})
    return {id: c.config.id, name: c.config.name, network: name, networkId: conf?.nsx.id ?? ''}
  })
}
