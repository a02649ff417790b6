import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {PLUGIN_PATH_ENV} from './cni.js'
import {createNetwork, CreateNetworkOptions, DEFAULT_NETWORK, deleteNetworkFiles, ensureDefaultNetwork, findNetwork, listNetworks, networkName, networksNamed, PSEUDO_NETWORKS} from './networks.js'
import {removeNetworkRules} from './hostrules.js'
import {listEndpoints, settleEnded} from './records.js'
import type {NetworkConfList} from './types.js'
import {recordEvent} from '../store/events.js'
import {type PruneSelector, selects} from '../store/prune-filter.js'

/** nsx network's verbs (docker network's): one function each, for the CLI and the Engine API. */

/** docker network inspect's shape (the Engine API's Network object). */
export interface NetworkInspect {
  Name: string
  Id: string
  Created: string
  Scope: 'local'
  Driver: string
  EnableIPv6: boolean
  /** Options only when given (docker-py's suite reads a network made without them as having none). */
  IPAM: {Driver: 'default'; Options?: Record<string, string>; Config: Array<{Subnet: string; IPRange?: string; Gateway: string; AuxiliaryAddresses?: Record<string, string>}>}
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
    if (a) containers[e.id] = {Name: e.name, EndpointID: `${e.id.slice(0, 32)}${a.networkId.slice(0, 32)}`, MacAddress: a.mac ?? '', IPv4Address: a.address, IPv6Address: a.address6 ?? ''}
  }
  return {
    Name: networkName(n),
    Id: n.nsx.id,
    Created: n.nsx.created,
    Scope: 'local',
    Driver: n.nsx.driver,
    EnableIPv6: n.nsx.enableIPv6 ?? false,
    IPAM: {Driver: 'default', Config: [n.nsx, ...(n.nsx.ipv6 ? [n.nsx.ipv6] : [])].map((p) => ({Subnet: p.subnet, ...(p.ipRange ? {IPRange: p.ipRange} : {}), Gateway: p.gateway, ...(p.auxAddresses ? {AuxiliaryAddresses: p.auxAddresses} : {})}))},
    Internal: n.nsx.internal,
    Attachable: n.nsx.attachable ?? false,
    Ingress: false,
    ConfigFrom: {Network: ''},
    ConfigOnly: false,
    Containers: containers,
    // docker shows the bridge's name on its default network; a user-defined one has the options it was given.
    Options: n.name === DEFAULT_NETWORK ? {'com.docker.network.bridge.name': n.nsx.bridge} : (n.nsx.options ?? {}),
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
  if (!n) throw NsxError.notFound(`network ${ref} not found`, 1)
  return inspectOf(store, n)
}

/** docker network create; warning: what dockerd answers in Warning when another network has the name (made anyway without CheckDuplicate). */
export function createNetworkVerb(store: Store, o: CreateNetworkOptions): NetworkInspect & {warning: string} {
  store.ensureLayout()
  const before = o.allowDuplicate ? networksNamed(store, o.name)[0] : undefined
  const v = inspectOf(store, createNetwork(store, o))
  recordEvent(store.root, {Type: 'network', Action: 'create', id: v.Id, attributes: {name: v.Name, type: v.Driver}})
  return {...v, warning: before ? `Network with name ${o.name} (id : ${before.nsx.id}) already exists` : ''}
}

/** docker network rm: refused while a container is attached; the bridge link goes with it. */
export function removeNetwork(store: Store, ref: string): string {
  if ((PSEUDO_NETWORKS as readonly string[]).includes(ref) || ref === DEFAULT_NETWORK) throw NsxError.forbidden(`${ref} is a pre-defined network and cannot be removed`, 1)
  const n = findNetwork(store, ref)
  if (!n) throw NsxError.notFound(`network ${ref} not found`, 1)
  settleEnded(store)
  const users = listEndpoints(store).filter((e) => e.attachments.some((a) => a.networkId === n.nsx.id))
  if (users.length > 0) throw NsxError.forbidden(`error while removing network: network ${networkName(n)} id ${n.nsx.id} has active endpoints (${users.map((u) => u.name).join(', ')})`, 1)
  // The bridge plugin makes the bridge on first use and never removes it: the network's end does.
  spawnSync('ip', ['link', 'delete', n.nsx.bridge, 'type', 'bridge'], {stdio: 'ignore', env: {PATH: PLUGIN_PATH_ENV}})
  removeNetworkRules(store, n)
  deleteNetworkFiles(store, n.name)
  recordEvent(store.root, {Type: 'network', Action: 'destroy', id: n.nsx.id, attributes: {name: networkName(n), type: 'bridge'}})
  return networkName(n)
}

/** docker's label filter words (label=KEY, label=KEY=VALUE, label!=...) as a test on a network's labels. */
function labelTest(filters: readonly string[], verb: string): (labels: Record<string, string>) => boolean {
  const tests = filters.map((f) => {
    const m = /^(label!?)=(.*)$/s.exec(f)
    if (!m) throw NsxError.invalid(`invalid filter '${f.split('=')[0]}': network ${verb} takes label=KEY[=VALUE] and label!=KEY[=VALUE]`, 1)
    const eq = m[2].indexOf('=')
    const [k, v] = eq < 0 ? [m[2], undefined] : [m[2].slice(0, eq), m[2].slice(eq + 1)]
    const has = (l: Record<string, string>) => (v === undefined ? k in l : l[k] === v)
    return m[1] === 'label' ? has : (l: Record<string, string>) => !has(l)
  })
  return (labels) => tests.every((t) => t(labels))
}

/** docker network prune: every user-defined network no running container is on, narrowed by the selector of its filters (until, labels). */
export function pruneNetworks(store: Store, select: PruneSelector = {labels: [], notLabels: []}): string[] {
  settleEnded(store)
  const used = new Set(listEndpoints(store).flatMap((e) => e.attachments.map((a) => a.networkId)))
  return listNetworks(store)
    .filter((n) => n.name !== DEFAULT_NETWORK && !used.has(n.nsx.id) && selects(select, {created: n.nsx.created, labels: n.nsx.labels}))
    .map((n) => removeNetwork(store, n.nsx.id))
}

/** docker network ls's filters (KEY=VALUE words): name (a substring), id (a prefix), driver, type (builtin|custom), label. */
export function filterNetworkViews(nets: NetworkInspect[], filters: readonly string[]): NetworkInspect[] {
  const by = new Map<string, string[]>()
  for (const f of filters) {
    const eq = f.indexOf('=')
    const key = eq < 0 ? f : f.slice(0, eq)
    if (!['name', 'id', 'driver', 'type', 'label', 'label!', 'scope', 'dangling'].includes(key)) throw NsxError.invalid(`invalid filter '${key}'`, 1)
    by.set(key, [...(by.get(key) ?? []), eq < 0 ? '' : f.slice(eq + 1)])
  }
  const any = (key: string, t: (v: string) => boolean) => !by.has(key) || by.get(key)!.some(t)
  const labels = labelTest([...(by.get('label') ?? []).map((v) => `label=${v}`), ...(by.get('label!') ?? []).map((v) => `label!=${v}`)], 'ls')
  const builtin = (n: NetworkInspect) => n.Name === DEFAULT_NETWORK || (PSEUDO_NETWORKS as readonly string[]).includes(n.Name)
  return nets.filter(
    (n) =>
      any('name', (v) => n.Name.includes(v)) &&
      any('id', (v) => n.Id.startsWith(v)) &&
      any('driver', (v) => n.Driver === v) &&
      any('scope', (v) => v === 'local') &&
      any('type', (v) => (v === 'builtin' ? builtin(n) : v === 'custom' ? !builtin(n) : false)) &&
      any('dangling', (v) => (/^(1|true)$/i.test(v) ? !builtin(n) && Object.keys(n.Containers).length === 0 : !/^(0|false)$/i.test(v) ? false : builtin(n) || Object.keys(n.Containers).length > 0)) &&
      labels(n.Labels),
  )
}
