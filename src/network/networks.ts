import {createHash, randomBytes} from 'node:crypto'
import {mkdirSync, readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {makeIpv6Pool, ranges6} from './ipv6.js'
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

/**
 * A network's name: docker takes nearly any ('test 01' too); nsx keeps it a file name of the store
 * and a word of --network: no '/', ',' or ':' (container:NAME), no control character, not '.' or '..'.
 */
export const NETWORK_NAME_RE = /^(?!\.\.?$)[^/,:\x00-\x1f\x7f]{1,128}$/
const NAME_RE = NETWORK_NAME_RE
/** CNI's rule for a network's name (the bridge plugin refuses others); host-local keeps its leases in a directory of that name. */
const CNI_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/
/** The name CNI's plugins are given for a network: its own when CNI takes it, else one made from it (the same every time). */
export const cniNetworkName = (name: string) => (CNI_NAME_RE.test(name) ? name : `nsx-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`)
/** A bridge's name (com.docker.network.bridge.name): an interface name of Linux. */
const IFNAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/

const bad = (msg: string, code = 1, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, code, kind)
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

/** a.b.c.d with each part 0 to 255. */
export const isIpv4 = (ip: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && ip.split('.').every((o) => Number(o) <= 255)

/**
 * host-local's range set of a network: the subnet, or its --ip-range, less the network and
 * broadcast addresses and the --aux-address ones (a range each side of them; host-local skips
 * the gateway itself).
 */
export function rangesOf(meta: Pick<NetworkMeta, 'subnet' | 'gateway' | 'ipRange' | 'auxAddresses'>): Array<Record<string, string>> {
  const {base, prefix} = parseCidr(meta.subnet)
  let start = base + 1
  let end = base + 2 ** (32 - prefix) - 2
  if (!meta.ipRange && Object.keys(meta.auxAddresses ?? {}).length === 0) return [{subnet: meta.subnet, gateway: meta.gateway}]
  if (meta.ipRange) {
    const r = parseCidr(meta.ipRange, '--ip-range')
    start = Math.max(start, r.base)
    end = Math.min(end, r.base + 2 ** (32 - r.prefix) - 1)
  }
  const aux = Object.values(meta.auxAddresses ?? {}).map(ipToInt).filter((n) => n >= start && n <= end).sort((a, b) => a - b)
  const out: Array<Record<string, string>> = []
  for (const x of [...new Set(aux)]) {
    if (x > start) out.push({subnet: meta.subnet, rangeStart: intToIp(start), rangeEnd: intToIp(x - 1), gateway: meta.gateway})
    start = x + 1
  }
  if (start <= end) out.push({subnet: meta.subnet, rangeStart: intToIp(start), rangeEnd: intToIp(end), gateway: meta.gateway})
  return out
}

/** Whether an address is one host-local may hand out on the network (its range, not an aux address). */
export function inRanges(ip: string, meta: Pick<NetworkMeta, 'subnet' | 'gateway' | 'ipRange' | 'auxAddresses'>): boolean {
  const n = ipToInt(ip)
  return rangesOf(meta).some((r) => {
    if (!r.rangeStart) return inSubnet(ip, r.subnet)
    return n >= ipToInt(r.rangeStart) && n <= ipToInt(r.rangeEnd)
  })
}

/** The store key of a second network of one name: NAME:ID12 (':' is in no network's name). */
const DUP_KEY_RE = /^(.+):([0-9a-f]{12})$/

/** A network's docker name (its conflist's name, or the name a duplicate was given). */
export const networkName = (n: NetworkConfList): string => n.nsx.name ?? n.name

export function readNetwork(store: Store, name: string): NetworkConfList | undefined {
  const dup = DUP_KEY_RE.exec(name)
  if (!NAME_RE.test(name) && !(dup && NAME_RE.test(dup[1]))) return undefined
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

/** The networks of one docker name: NAME's, and the duplicates the Engine API made without CheckDuplicate. */
export function networksNamed(store: Store, name: string): NetworkConfList[] {
  if (!NAME_RE.test(name)) return []
  const own = readNetwork(store, name)
  let files: string[] = []
  try {
    files = readdirSync(networksDir(store))
  } catch {
    files = []
  }
  const dups = files.filter((f) => f.startsWith(`${name}:`) && f.endsWith('.conflist')).map((f) => readNetwork(store, f.slice(0, -'.conflist'.length)))
  return [own, ...dups].filter((n): n is NetworkConfList => n !== undefined && networkName(n) === name)
}

/** A network by full id, name, or unique id prefix (docker's order); a name two networks have is ambiguous, as docker says. */
export function findNetwork(store: Store, ref: string): NetworkConfList | undefined {
  if (/^[0-9a-f]{64}$/.test(ref)) {
    const byId = listNetworks(store).find((n) => n.nsx.id === ref)
    if (byId) return byId
  }
  const named = networksNamed(store, ref)
  if (named.length > 1) throw NsxError.invalid(`network ${ref} is ambiguous (${named.length} matches found based on name): give its id`)
  if (named.length === 1) return named[0]
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
        ...(meta.mtu ? {mtu: meta.mtu} : {}),
        ipam: {
          type: 'host-local',
          ranges: [rangesOf(meta), ...(meta.enableIPv6 && meta.ipv6 ? [ranges6(meta.ipv6)] : [])],
          routes: meta.internal ? [] : [{dst: '0.0.0.0/0'}, ...(meta.enableIPv6 && meta.ipv6 ? [{dst: '::/0'}] : [])],
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
  /** The Engine API without CheckDuplicate (docker 20.10): a name already taken makes a second network of that name, with an id of its own. */
  allowDuplicate?: boolean
  driver?: string
  /** docker's --ipam-driver: default (host-local), the only one. */
  ipamDriver?: string
  subnet?: string
  gateway?: string
  internal?: boolean
  labels?: string[]
  options?: Record<string, string>
  attachable?: boolean
  /** docker's --ip-range and --aux-address (NAME=IP). */
  ipRange?: string
  auxAddresses?: Record<string, string>
  /** An IPv6 pool (docker's second IPAM config), and --ipv6: its addresses handed out. */
  ipv6?: {subnet: string; gateway?: string; ipRange?: string; auxAddresses?: Record<string, string>}
  enableIPv6?: boolean
}

/**
 * docker network create's --subnet, --gateway, --ip-range and --aux-address, each given once per
 * address family at most (docker's CLI: up to one subnet of each): the IPv4 ones and the IPv6 ones.
 */
export function poolsByFamily(o: {subnets?: string[]; gateways?: string[]; ipRanges?: string[]; auxAddresses?: Record<string, string>}): Pick<CreateNetworkOptions, 'subnet' | 'gateway' | 'ipRange' | 'auxAddresses' | 'ipv6'> {
  const v6 = (x: string) => x.includes(':')
  const one = (list: string[] | undefined, six: boolean, flag: string): string | undefined => {
    const l = (list ?? []).filter((x) => v6(x) === six)
    if (l.length > 1) bad(`${flag} given twice for IPv${six ? 6 : 4}: nsx networks have one subnet of each family`)
    return l[0]
  }
  const aux = (six: boolean) => Object.fromEntries(Object.entries(o.auxAddresses ?? {}).filter(([, ip]) => v6(ip) === six))
  const subnet6 = one(o.subnets, true, '--subnet')
  const a6 = aux(true)
  if (!subnet6 && (one(o.gateways, true, '--gateway') || one(o.ipRanges, true, '--ip-range') || Object.keys(a6).length > 0)) bad('an IPv6 --gateway, --ip-range or --aux-address needs an IPv6 --subnet')
  const a4 = aux(false)
  return {
    subnet: one(o.subnets, false, '--subnet'),
    gateway: one(o.gateways, false, '--gateway'),
    ipRange: one(o.ipRanges, false, '--ip-range'),
    ...(Object.keys(a4).length > 0 ? {auxAddresses: a4} : {}),
    ...(subnet6 ? {ipv6: {subnet: subnet6, gateway: one(o.gateways, true, '--gateway'), ipRange: one(o.ipRanges, true, '--ip-range'), ...(Object.keys(a6).length > 0 ? {auxAddresses: a6} : {})}} : {}),
  }
}

/** The driver options (docker network create -o) nsx's bridge honours; others are kept and shown, as docker's bridge driver ignores what it does not know. */
const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name'
const OPT_MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade'
const OPT_MTU = 'com.docker.network.driver.mtu'

function bridgeOptions(store: Store, id: string, options: Record<string, string>): Pick<NetworkMeta, 'bridge' | 'noMasquerade' | 'mtu'> {
  let bridge = `nsx-${id.slice(0, 8)}`
  const name = options[OPT_BRIDGE_NAME]
  if (name !== undefined) {
    if (!IFNAME_RE.test(name)) bad(`invalid ${OPT_BRIDGE_NAME} '${name}': an interface name, at most 15 letters, digits, '_', '.' or '-'`)
    const other = listNetworks(store).find((n) => n.nsx.bridge === name)
    if (other || name === DEFAULT_BRIDGE) bad(`bridge name ${name} is already used by network ${other?.name ?? DEFAULT_NETWORK}`, 1, 'conflict')
    bridge = name
  }
  const masq = options[OPT_MASQUERADE]
  if (masq !== undefined && !/^(true|false|1|0)$/i.test(masq)) bad(`invalid ${OPT_MASQUERADE} '${masq}': true or false`)
  const mtu = options[OPT_MTU]
  if (mtu !== undefined && (!/^\d{1,5}$/.test(mtu) || Number(mtu) < 68 || Number(mtu) > 65535)) bad(`invalid ${OPT_MTU} '${mtu}': 68 to 65535`)
  return {bridge, ...(masq !== undefined && /^(false|0)$/i.test(masq) ? {noMasquerade: true} : {}), ...(mtu !== undefined ? {mtu: Number(mtu)} : {})}
}

function writeNetwork(store: Store, conf: NetworkConfList): void {
  mkdirSync(networksDir(store), {recursive: true, mode: 0o700})
  store.writeJsonAtomic(conflistPath(store, conf.name), conf)
}

/** docker network create: a bridge network with a subnet of its own (given, or the next free /24 of 10.78.0.0/16). */
export function createNetwork(store: Store, o: CreateNetworkOptions): NetworkConfList {
  if (!NAME_RE.test(o.name)) bad(`invalid network name '${o.name}': 1 to 128 characters, none of '/', ',', ':' or a control character`)
  if ((PSEUDO_NETWORKS as readonly string[]).includes(o.name) || o.name === DEFAULT_NETWORK) bad(`network with name ${o.name} already exists`, 1, 'conflict')
  const same = networksNamed(store, o.name)
  if (same.length > 0 && !o.allowDuplicate) bad(`network with name ${o.name} already exists`, 1, 'conflict')
  const driver = o.driver ?? 'bridge'
  if (driver !== 'bridge') bad(`unsupported network driver '${driver}': nsx makes bridge networks`)
  if (o.ipamDriver !== undefined && o.ipamDriver !== 'default') bad(`unsupported IPAM driver '${o.ipamDriver}': nsx's is default (host-local)`)
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
  let ipRange = o.ipRange
  if (ipRange !== undefined) {
    if (o.subnet === undefined) bad('--ip-range needs --subnet')
    const r = parseCidr(ipRange, '--ip-range')
    ipRange = `${intToIp(r.base)}/${r.prefix}`
    if (r.prefix < prefix || !inSubnet(intToIp(r.base), subnet!)) bad(`invalid --ip-range ${ipRange}: not a part of the subnet ${subnet}`)
  }
  const aux: Record<string, string> = {}
  for (const [k, v] of Object.entries(o.auxAddresses ?? {})) {
    if (o.subnet === undefined) bad('--aux-address needs --subnet')
    if (!isIpv4(v) || !inSubnet(v, subnet!)) bad(`invalid --aux-address ${k}=${v}: not an address of the subnet ${subnet}`)
    aux[k] = v
  }
  if (rangesOf({subnet: subnet!, gateway: gateway!, ipRange, auxAddresses: aux}).length === 0) bad(`no address of ${ipRange ?? subnet} is left to hand out beside the --aux-address ones`)
  if (o.enableIPv6 && !o.ipv6) bad('--ipv6 needs an IPv6 --subnet (nsx has no default IPv6 pool)')
  const ipv6 = o.ipv6 ? makeIpv6Pool(o.ipv6, listNetworks(store).flatMap((n) => (n.nsx.ipv6 ? [n.nsx.ipv6.subnet] : []))) : undefined
  const labels: Record<string, string> = {}
  for (const l of o.labels ?? []) {
    const eq = l.indexOf('=')
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1)
  }
  const id = randomBytes(32).toString('hex')
  const meta: NetworkMeta = {id, created: new Date().toISOString(), driver: 'bridge', subnet: subnet!, gateway: gateway!, ...(ipRange ? {ipRange} : {}), ...(Object.keys(aux).length > 0 ? {auxAddresses: aux} : {}), ...(ipv6 ? {ipv6} : {}), ...(o.enableIPv6 ? {enableIPv6: true} : {}), internal: o.internal ?? false, labels, ...(o.options && Object.keys(o.options).length > 0 ? {options: o.options} : {}), ...(o.attachable ? {attachable: true} : {}), ...bridgeOptions(store, id, o.options ?? {})}
  // docker without CheckDuplicate: a second network of the name, kept under a key of its own.
  const key = same.length > 0 ? `${o.name}:${id.slice(0, 12)}` : o.name
  if (key !== o.name) meta.name = o.name
  const conf = buildConfList(store, key, meta)
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
  rmSync(join(ipamDir(store), cniNetworkName(name)), {recursive: true, force: true})
}
