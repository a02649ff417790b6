import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {PLUGIN_PATH_ENV} from './cni.js'
import {createNetwork, CreateNetworkOptions, DEFAULT_NETWORK, deleteNetworkFiles, ensureDefaultNetwork, findNetwork, listNetworks, PSEUDO_NETWORKS} from './networks.js'
import {removeNetworkRules} from './hostrules.js'
import {listEndpoints, settleEnded} from './records.js'
import type {NetworkConfList} from './types.js'

/** nsx network's verbs (docker network's): one function each, for the CLI and the Engine API. */

/** docker network inspect's shape (the Engine API's Network object). */
export interface NetworkInspect {
  Name: string
  Id: string
  Created: string
  Scope: 'local'
  Driver: string
  EnableIPv6: boolean
  IPAM: {Driver: 'default'; Options: Record<string, string>; Config: Array<{Subnet: string; Gateway: string}>}
  Internal: boolean
  Attachable: boolean
  Ingress: boolean
  ConfigFrom: {Network: string}
  ConfigOnly: boolean
  Containers: Record<string, {Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string}>
  Options: Record<string, string>
  Labels: Record<string, string>
}

/** A stable id for the pseudo-networks host and none (docker's are random per daemon). */
const pseudoId = (name: string) => createHash('sha256').update(`nsx-network-${name}`).digest('hex')

function pseudo(name: string): NetworkInspect {
  return {Name: name, Id: pseudoId(name), Created: new Date(0).toISOString(), Scope: 'local', Driver: name === 'host' ? 'host' : 'null', EnableIPv6: false, IPAM: {Driver: 'default', Options: {}, Config: []}, Internal: false, Attachable: false, Ingress: false, ConfigFrom: {Network: ''}, ConfigOnly: false, Containers: {}, Options: {}, Labels: {}}
}

function inspectOf(store: Store, n: NetworkConfList): NetworkInspect {
  const containers: NetworkInspect['Containers'] = {}
  for (const e of listEndpoints(store)) {
    const a = e.attachments.find((x) => x.networkId === n.nsx.id)
    if (a) containers[e.id] = {Name: e.name, EndpointID: `${e.id.slice(0, 32)}${a.networkId.slice(0, 32)}`, MacAddress: a.mac ?? '', IPv4Address: a.address, IPv6Address: ''}
  }
  return {
    Name: n.name,
    Id: n.nsx.id,
    Created: n.nsx.created,
    Scope: 'local',
    Driver: n.nsx.driver,
    EnableIPv6: false,
    IPAM: {Driver: 'default', Options: {}, Config: [{Subnet: n.nsx.subnet, Gateway: n.nsx.gateway}]},
    Internal: n.nsx.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: {Network: ''},
    ConfigOnly: false,
    Containers: containers,
    Options: {'com.docker.network.bridge.name': n.nsx.bridge},
    Labels: n.nsx.labels,
  }
}

/** docker network ls: the default bridge, host and none, then the user-defined networks. */
export function listNetworkViews(store: Store): NetworkInspect[] {
  ensureDefaultNetwork(store)
  const nets = listNetworks(store).map((n) => inspectOf(store, n))
  return [...nets.slice(0, 1), ...PSEUDO_NETWORKS.map(pseudo), ...nets.slice(1)]
}

/** docker network inspect NAME|ID. */
export function inspectNetwork(store: Store, ref: string): NetworkInspect {
  if ((PSEUDO_NETWORKS as readonly string[]).includes(ref)) return pseudo(ref)
  const n = findNetwork(store, ref)
  if (!n) throw new NsxError(`network ${ref} not found`, 1)
  return inspectOf(store, n)
}

/** docker network create. */
export function createNetworkVerb(store: Store, o: CreateNetworkOptions): NetworkInspect {
  store.ensureLayout()
  return inspectOf(store, createNetwork(store, o))
}

/** docker network rm: refused while a container is attached; the bridge link goes with it. */
export function removeNetwork(store: Store, ref: string): string {
  if ((PSEUDO_NETWORKS as readonly string[]).includes(ref) || ref === DEFAULT_NETWORK) throw new NsxError(`${ref} is a pre-defined network and cannot be removed`, 1)
  const n = findNetwork(store, ref)
  if (!n) throw new NsxError(`network ${ref} not found`, 1)
  settleEnded(store)
  const users = listEndpoints(store).filter((e) => e.attachments.some((a) => a.networkId === n.nsx.id))
  if (users.length > 0) throw new NsxError(`error while removing network: network ${n.name} id ${n.nsx.id} has active endpoints (${users.map((u) => u.name).join(', ')})`, 1)
  // The bridge plugin makes the bridge on first use and never removes it: the network's end does.
  spawnSync('ip', ['link', 'delete', n.nsx.bridge, 'type', 'bridge'], {stdio: 'ignore', env: {PATH: PLUGIN_PATH_ENV}})
  removeNetworkRules(store, n)
  deleteNetworkFiles(store, n.name)
  return n.name
}

/** docker network prune: every user-defined network no container uses. */
export function pruneNetworks(store: Store): string[] {
  settleEnded(store)
  const used = new Set(listEndpoints(store).flatMap((e) => e.attachments.map((a) => a.networkId)))
  return listNetworks(store)
    .filter((n) => n.name !== DEFAULT_NETWORK && !used.has(n.nsx.id))
    .map((n) => removeNetwork(store, n.name))
}
