import {closeSync, mkdirSync, openSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {flock, LOCK_EX} from '../ffi/libc.js'
import type {Store} from '../store/store.js'
import {cniNetworkName, intToIp, ipamDir, ipToInt, parseCidr} from './networks.js'
import {listEndpoints} from './records.js'
import type {NetworkConfList} from './types.js'

/**
 * The ranges host-local allocates from on a network of nsx's (its bridge plugin's ipam: one
 * range set, the subnet or --ip-range cut around the --aux-address ones; leases in the store),
 * in host-local's order, or undefined for any other IPAM.
 */
function hostLocalRange(store: Store, conf: NetworkConfList): {segments: Array<{first: number; last: number}>; gateway?: number; prefix: number; leases: string} | undefined {
  const bridge = conf.plugins[0]
  const ipam = bridge?.type === 'bridge' ? (bridge.ipam as {type?: string; ranges?: Array<Array<{subnet?: string; gateway?: string; rangeStart?: string; rangeEnd?: string}>>; dataDir?: string} | undefined) : undefined
  if (ipam?.type !== 'host-local' || ipam.dataDir !== ipamDir(store) || ipam.ranges?.length !== 1 || ipam.ranges[0].length === 0) return undefined
  const set = ipam.ranges[0]
  if (set.some((r) => r.subnet !== set[0].subnet || !r.subnet || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(r.subnet))) return undefined
  const {base, prefix} = parseCidr(set[0].subnet!)
  const size = 2 ** (32 - prefix)
  return {
    segments: set.map((r) => ({first: r.rangeStart ? ipToInt(r.rangeStart) : base + 1, last: r.rangeEnd ? ipToInt(r.rangeEnd) : base + size - 2})),
    gateway: set[0].gateway ? ipToInt(set[0].gateway) : undefined,
    prefix,
    leases: join(ipamDir(store), cniNetworkName(conf.name)),
  }
}

/**
 * The address of each attachment, chosen by nsx before the ADD (host-local is then asked for
 * it, CNI_ARGS IP=), so /etc/hosts is written and the start goes on without waiting for the
 * ADD: as host-local chooses, the next free one after its last_reserved_ip, skipping its
 * leases and the addresses other containers' records hold (chosen, their ADD perhaps not run
 * yet). FN runs under each network's host-local lock (taken in name order), so two starts
 * never choose the same. Undefined for an attachment whose IPAM is not host-local's one range set:
 * then the ADD chooses and is waited for.
 */
export function chooseAddresses<T>(store: Store, confs: readonly NetworkConfList[], asked: ReadonlyArray<string | undefined>, except: string, fn: (chosen: Array<string | undefined>) => T): T {
  const ranges = confs.map((c) => hostLocalRange(store, c))
  const order = [...new Set(ranges.map((r) => r?.leases).filter((l): l is string => l !== undefined))].sort()
  const fds: number[] = []
  try {
    for (const dir of order) {
      mkdirSync(dir, {recursive: true, mode: 0o700})
      const fd = openSync(join(dir, 'lock'), 'a', 0o644)
      fds.push(fd)
      flock(fd, LOCK_EX)
    }
    const held = new Set<string>()
    for (const e of listEndpoints(store)) if (e.id !== except) for (const a of e.attachments) if (a.address) held.add(`${a.network}/${a.address.split('/')[0]}`)
    const chosen = ranges.map((r, i) => {
      if (!r) return undefined
      const prefix = `/${r.prefix}`
      if (asked[i] !== undefined) return asked[i] + prefix
      let names: string[] = []
      try {
        names = readdirSync(r.leases)
      } catch {
        // no lease yet
      }
      const taken = new Set(names)
      let last: number | undefined
      try {
        last = ipToInt(readFileSync(join(r.leases, 'last_reserved_ip.0'), 'utf8').trim())
      } catch {
        // none reserved yet
      }
      // host-local's walk: from the address after its last reservation, through its ranges in order, round.
      const segs = r.segments.filter((g) => g.last >= g.first)
      const total = segs.reduce((t, g) => t + g.last - g.first + 1, 0)
      // The k-th address of the walk (0-based over the ranges in order), and the index of one.
      const nth = (k: number) => {
        for (const g of segs) {
          if (k <= g.last - g.first) return g.first + k
          k -= g.last - g.first + 1
        }
        return -1
      }
      let at = -1
      for (let k = 0, seen = 0; last !== undefined && k < segs.length; seen += segs[k].last - segs[k].first + 1, k++) if (last >= segs[k].first && last <= segs[k].last) at = seen + last - segs[k].first
      for (let k = 1; k <= total; k++) {
        const n = nth((at + k) % total)
        const ip = intToIp(n)
        if (n !== r.gateway && !taken.has(ip) && !held.has(`${confs[i].name}/${ip}`)) {
          held.add(`${confs[i].name}/${ip}`)
          return ip + prefix
        }
      }
      throw NsxError.internal(`no free address left on network ${confs[i].name}`, 125)
    })
    return fn(chosen)
  } finally {
    for (const fd of fds) closeSync(fd) // releases the lock
  }
}
