import {isIPv6} from 'node:net'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import type {Ipv6Pool, NetworkConfList} from './types.js'

/**
 * A network's IPv6 pool (docker's IPv6 IPAM config: subnet, gateway, range, auxiliary
 * addresses), as 128-bit numbers: parsing, the canonical text (RFC 5952), and host-local's
 * range set, cut around the auxiliary addresses as the IPv4 one is (src/network/networks.ts).
 * Containers get an address of it only on a network made with --ipv6 (EnableIPv6), as docker's.
 */

export type {Ipv6Pool}

const bad = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 1, kind)
}

export const isIpv6 = (ip: string) => isIPv6(ip) && !ip.includes('%') && !/\d+\.\d+\.\d+\.\d+$/.test(ip)

export function ip6ToBig(ip: string): bigint {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined]
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n)
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as '::'. */
export function bigToIp6(n: bigint): string {
  const g = Array.from({length: 8}, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn))
  let best = -1
  let len = 0
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > len && j - i >= 2) [best, len] = [i, j - i]
    i = j
  }
  const hex = g.map((x) => x.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + len).join(':')}`
}

export function parseCidr6(cidr: string, flag = '--subnet'): {base: bigint; prefix: number} {
  const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(cidr)
  if (!m || !isIpv6(m[1]) || Number(m[2]) < 8 || Number(m[2]) > 126) return bad(`invalid ${flag} '${cidr}': expected an IPv6 CIDR such as fd00:1::/64 (prefix 8 to 126)`)
  const prefix = Number(m[2])
  const mask = ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n)
  return {base: ip6ToBig(m[1]) & mask, prefix}
}

const last = (c: {base: bigint; prefix: number}) => c.base + (1n << BigInt(128 - c.prefix)) - 1n
const canonical = (c: {base: bigint; prefix: number}) => `${bigToIp6(c.base)}/${c.prefix}`

export function inSubnet6(ip: string, cidr: string): boolean {
  if (!isIpv6(ip)) return false
  const c = parseCidr6(cidr)
  const n = ip6ToBig(ip)
  return n >= c.base && n <= last(c)
}

export function overlaps6(a: string, b: string): boolean {
  const x = parseCidr6(a)
  const y = parseCidr6(b)
  return x.base <= last(y) && y.base <= last(x)
}

/** docker's checks of an IPv6 pool, and its defaults: the subnet canonical, the gateway its first address. */
export function makeIpv6Pool(o: {subnet: string; gateway?: string; ipRange?: string; auxAddresses?: Record<string, string>}, taken: readonly string[]): Ipv6Pool {
  const c = parseCidr6(o.subnet)
  const subnet = canonical(c)
  const clash = taken.find((t) => overlaps6(t, subnet))
  if (clash) bad(`invalid --subnet ${subnet}: it overlaps ${clash}, the subnet of another network`)
  let gateway = bigToIp6(c.base + 1n)
  if (o.gateway !== undefined) {
    if (!inSubnet6(o.gateway, subnet)) bad(`invalid --gateway '${o.gateway}': not an address of ${subnet}`)
    gateway = bigToIp6(ip6ToBig(o.gateway))
  }
  let ipRange: string | undefined
  if (o.ipRange !== undefined) {
    const r = parseCidr6(o.ipRange, '--ip-range')
    ipRange = canonical(r)
    if (r.prefix < c.prefix || r.base < c.base || last(r) > last(c)) bad(`invalid --ip-range ${ipRange}: not a part of the subnet ${subnet}`)
  }
  const aux: Record<string, string> = {}
  for (const [k, v] of Object.entries(o.auxAddresses ?? {})) {
    if (!inSubnet6(v, subnet)) bad(`invalid --aux-address ${k}=${v}: not an address of the subnet ${subnet}`)
    aux[k] = v
  }
  const pool: Ipv6Pool = {subnet, gateway, ...(ipRange ? {ipRange} : {}), ...(Object.keys(aux).length > 0 ? {auxAddresses: aux} : {})}
  if (ranges6(pool).length === 0) bad(`no address of ${ipRange ?? subnet} is left to hand out beside the --aux-address ones`)
  return pool
}

/** host-local's IPv6 range set: the range (or the subnet) less its first address (the subnet's, a router's anycast) and the auxiliary ones. */
export function ranges6(p: Ipv6Pool): Array<Record<string, string>> {
  const c = parseCidr6(p.subnet)
  let start = c.base + 1n
  let end = last(c)
  if (!p.ipRange && !p.auxAddresses) return [{subnet: p.subnet, gateway: p.gateway}]
  if (p.ipRange) {
    const r = parseCidr6(p.ipRange)
    start = r.base > start ? r.base : start
    end = last(r) < end ? last(r) : end
  }
  const aux = [...new Set(Object.values(p.auxAddresses ?? {}).map(ip6ToBig))].filter((n) => n >= start && n <= end).sort((a, b) => (a < b ? -1 : 1))
  const out: Array<Record<string, string>> = []
  for (const x of aux) {
    if (x > start) out.push({subnet: p.subnet, rangeStart: bigToIp6(start), rangeEnd: bigToIp6(x - 1n), gateway: p.gateway})
    start = x + 1n
  }
  if (start <= end) out.push({subnet: p.subnet, rangeStart: bigToIp6(start), rangeEnd: bigToIp6(end), gateway: p.gateway})
  return out
}

/** Whether host-local may hand out this address of the pool (a static --ip6). */
export function inRanges6(ip: string, p: Ipv6Pool): boolean {
  if (!isIpv6(ip)) return false
  const n = ip6ToBig(ip)
  return ranges6(p).some((r) => (r.rangeStart ? n >= ip6ToBig(r.rangeStart) && n <= ip6ToBig(r.rangeEnd) : inSubnet6(ip, r.subnet)))
}

/**
 * An --ip6 (IPv6Address): an address of the network's IPv6 range when it has IPv6 on; on one
 * without, docker's daemon keeps it and hands out none, and so does nsx.
 */
export function checkIp6(conf: NetworkConfList, ip6: string): void {
  if (!isIpv6(ip6)) throw NsxError.invalid(`invalid IPv6 address: ${ip6}`, 1)
  const pool = conf.nsx.enableIPv6 ? conf.nsx.ipv6 : undefined
  if (pool && !inRanges6(ip6, pool)) throw NsxError.invalid(`Invalid address ${ip6}: nsx hands out IPv6 addresses of network ${conf.name} from ${pool.ipRange ?? pool.subnet}, less its auxiliary addresses`, 1)
}
