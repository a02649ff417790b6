import {randomBytes} from 'node:crypto'
import {mkdirSync, readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import type {NetworkConfList, NetworkMeta} from './types.js'

/**
 * The store's networks: one CNI conflist per network, ROOT/networks/NAME.conflist, a file
 * any CNI runtime (and any operator) can read, with nsx's own metadata under "nsx". The
 * default network, `bridge` (docker's name), is made on first use.
 */

export const DEFAULT_NETWORK = 'bridge'
export const DEFAULT_BRIDGE = 'nsx0'
const DEFAULT_SUBNET = '10.77.0.0/16'
/** Pool of user-defined networks' subnets: 10.78.N.0/24. */
const POOL = (n: number) => `10.78.${n}.0/24`

/** Pseudo-networks docker lists beside the bridges: they have no conflist. */
export const PSEUDO_NETWORKS = ['host', 'none'] as const

export const networksDir = (store: Store) => join(store.root, 'networks')
export const conflistPath = (store: Store, name: string) => join(networksDir(store), `${name}.conflist`)
/** host-local's dataDir: the address leases, one file per address, named by the address, holding the container id. */
export const ipamDir = (store: Store) => join(networksDir(store), 'ipam')

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/

const bad = (msg: string, code = 1): never => {
  throw new NsxError(msg, code)
}

/** a.b.c.d -> 32-bit number. */
export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0)
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')
}

export function parseCidr(cidr: string, flag = '--subnet'): {base: number; prefix: number} {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr)
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 30 || Number(m[5]) < 8) return bad(`invalid ${flag} '${cidr}': expected an IPv4 CIDR such as 10.1.2.0/24 (prefix 8 to 30)`, 125)
  const prefix = Number(m[5])
  const ip = ipToInt(m.slice(1, 5).join('.'))
  const size = 2 ** (32 - prefix)
  return {base: ip - (ip % size), prefix}
}

export function inSubnet(ip: string, cidr: string): boolean {
  const {base, prefix} = parseCidr(cidr)
  const n = ipToInt(ip)
  return n >= base && n < base + 2 ** (32 - prefix)
}

function overlapsCidr(a: string, b: string): boolean {
  const x = parseCidr(a)
  const y = parseCidr(b)
  const xe = x.base + 2 ** (32 - x.prefix)
  const ye = y.base + 2 ** (32 - y.prefix)
  return x.base < ye && y.base < xe
}

export function readNetwork(store: Store, name: string): NetworkConfList | undefined {
  if (!NAME_RE.test(name)) return undefined
  const c = store.readJson<NetworkConfList>(conflistPath(store, name))
  return c && c.nsx ? c : undefined
}

export function listNetworks(store: Store): NetworkConfList[] {
  let files: string[]
  try {
    files = readdirSync(networksDir(store))
  } catch {
    return []
  }
  return files
    .filter((f) => f.endsWith('.conflist'))
    .map((f) => readNetwork(store, f.slice(0, -'.conflist'.length)))
    .filter((n): n is NetworkConfList => n !== undefined)
    .sort((a, b) => (a.name === DEFAULT_NETWORK ? -1 : b.name === DEFAULT_NETWORK ? 1 : a.nsx.created.localeCompare(b.nsx.created)))
}

/** A network by name, id or unique id prefix (docker's rule). */
export function findNetwork(store: Store, ref: string): NetworkConfList | undefined {
  const byName = readNetwork(store, ref)
  if (byName) return byName
  if (ref === DEFAULT_NETWORK) return ensureDefaultNetwork(store)
  if (!/^[0-9a-f]{1,64}$/.test(ref)) return undefined
  const hits = listNetworks(store).filter((n) => n.nsx.id.startsWith(ref))
  if (hits.length > 1) bad(`network ${ref} is ambiguous (${hits.length} matches)`)
  return hits[0]
}

/**
 * The conflist of a bridge network: bridge with host-local IPAM and portmap (nerdctl's and
 * podman's CNI chain without the per-container NAT of ipMasq and the firewall plugin: a
 * network's NAT and forwarding are one set of rules, src/network/hostrules.ts).
 */
export function buildConfList(store: Store, name: string, meta: NetworkMeta): NetworkConfList {
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [
      {
        type: 'bridge',
        bridge: meta.bridge,
        isGateway: !meta.internal,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{subnet: meta.subnet, gateway: meta.gateway}]],
          routes: meta.internal ? [] : [{dst: '0.0.0.0/0'}],
          dataDir: ipamDir(store),
        },
      },
      {type: 'portmap', capabilities: {portMappings: true}, snat: true},
    ],
    nsx: {...meta, ownRules: true},
  }
}

export interface CreateNetworkOptions {
  name: string
  driver?: string
  subnet?: string
  gateway?: string
  internal?: boolean
  labels?: string[]
  options?: Record<string, string>
  attachable?: boolean
}

function writeNetwork(store: Store, conf: NetworkConfList): void {
  mkdirSync(networksDir(store), {recursive: true, mode: 0o700})
  store.writeJsonAtomic(conflistPath(store, conf.name), conf)
}

/** docker network create: a bridge network with a subnet of its own (given, or the next free /24 of 10.78.0.0/16). */
export function createNetwork(store: Store, o: CreateNetworkOptions): NetworkConfList {
  if (!NAME_RE.test(o.name)) bad(`invalid network name '${o.name}': letters, digits, '_', '.' and '-', starting with a letter or digit`)
  if ((PSEUDO_NETWORKS as readonly string[]).includes(o.name) || o.name === DEFAULT_NETWORK) bad(`network with name ${o.name} already exists`)
  if (readNetwork(store, o.name)) bad(`network with name ${o.name} already exists`)
  const driver = o.driver ?? 'bridge'
  if (driver !== 'bridge') bad(`unsupported network driver '${driver}': nsx makes bridge networks`)
  if (o.gateway !== undefined && o.subnet === undefined) bad('--gateway needs --subnet')
  const used = listNetworks(store).map((n) => n.nsx.subnet)
  used.push(DEFAULT_SUBNET)
  let subnet = o.subnet
  if (subnet !== undefined) {
    const {base, prefix} = parseCidr(subnet)
    subnet = `${intToIp(base)}/${prefix}`
    const clash = used.find((u) => overlapsCidr(u, subnet!))
    if (clash) bad(`invalid --subnet ${subnet}: it overlaps ${clash}, the subnet of another network`)
  } else {
    for (let n = 0; n < 256 && subnet === undefined; n++) if (!used.some((u) => overlapsCidr(u, POOL(n)))) subnet = POOL(n)
    if (subnet === undefined) bad('no free subnet left in 10.78.0.0/16: give one with --subnet')
  }
  const {base, prefix} = parseCidr(subnet!)
  let gateway = o.gateway
  if (gateway !== undefined) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(gateway) || !inSubnet(gateway, subnet!)) bad(`invalid --gateway '${gateway}': not an address of ${subnet}`)
    if (ipToInt(gateway) === base || ipToInt(gateway) === base + 2 ** (32 - prefix) - 1) bad(`invalid --gateway '${gateway}': the network or broadcast address`)
  } else gateway = intToIp(base + 1)
  const labels: Record<string, string> = {}
  for (const l of o.labels ?? []) {
    const eq = l.indexOf('=')
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1)
  }
  const id = randomBytes(32).toString('hex')
  const meta: NetworkMeta = {id, created: new Date().toISOString(), driver: 'bridge', subnet: subnet!, gateway: gateway!, bridge: `nsx-${id.slice(0, 8)}`, internal: o.internal ?? false, labels, ...(o.options && Object.keys(o.options).length > 0 ? {options: o.options} : {}), ...(o.attachable ? {attachable: true} : {})}
  const conf = buildConfList(store, o.name, meta)
  writeNetwork(store, conf)
  return conf
}

/** The default network, made the first time a container asks for it. */
export function ensureDefaultNetwork(store: Store): NetworkConfList {
  const have = readNetwork(store, DEFAULT_NETWORK)
  if (have) return have
  const meta: NetworkMeta = {id: randomBytes(32).toString('hex'), created: new Date(0).toISOString(), driver: 'bridge', subnet: DEFAULT_SUBNET, gateway: '10.77.0.1', bridge: DEFAULT_BRIDGE, internal: false, labels: {}}
  const conf = buildConfList(store, DEFAULT_NETWORK, meta)
  writeNetwork(store, conf)
  return conf
}

/** Forget a network's conflist and its address leases (its bridge link is removed by the caller, src/network/remove.ts). */
export function deleteNetworkFiles(store: Store, name: string): void {
  rmSync(conflistPath(store, name), {force: true})
  rmSync(join(ipamDir(store), name), {recursive: true, force: true})
}
