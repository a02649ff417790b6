import {spawnSync} from 'node:child_process'
import {accessSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Store} from '../store/store.js'
import {PLUGIN_PATH_ENV} from './cni.js'
import {syncDns} from './dns.js'
import {ENDED_MARK, hostsText, namesOn, peerLines, withHostsLock} from './hosts.js'
import {networksDir} from './networks.js'
import type {Attachment, Endpoint} from './types.js'

/**
 * What a container holds on its networks, as recorded at ADD (src/network/attach.ts), and
 * its teardown: cheap to load, so every verb that may remove a container (rm, ps's sweep,
 * gc) can run it.
 */

export const endpointsDir = (store: Store) => join(networksDir(store), 'endpoints')
export const endpointDir = (store: Store, id: string) => join(endpointsDir(store), id)
export const teardownPath = (store: Store, id: string) => join(endpointDir(store, id), 'teardown')
export const netnsDir = (store: Store) => join(store.root, 'netns')
export const netnsPath = (store: Store, id: string) => join(netnsDir(store), id)
/** The ADD's outcome ("ok", or the failed plugin's line), locked while the ADD runs (native/ops-network.c cni-status). */
export const addStatusPath = (store: Store, id: string) => join(endpointDir(store, id), 'add.status')

/** Whether the container has a network record or namespace left (cheap: two stats). */
export function hasEndpoint(store: Store, id: string): boolean {
  return existsSync(endpointDir(store, id)) || existsSync(netnsPath(store, id))
}

export function readEndpoint(store: Store, id: string): Endpoint | undefined {
  let ep: Endpoint
  try {
    ep = JSON.parse(readFileSync(join(endpointDir(store, id), 'endpoint.json'), 'utf8')) as Endpoint
  } catch {
    return undefined
  }
  // An ADD that ran after the start had handed over (its address chosen before it) left its
  // results in the plugins' output files: the MAC, the gateway and CHECK's prevResult.
  ep.attachments.forEach((a, i) => {
    if (Object.keys(a.result).length > 0) return
    for (let j = a.plugins.length - 1; j >= 0; j--) {
      try {
        const r = JSON.parse(readFileSync(join(endpointDir(store, id), `add-${i}-${j}.out`), 'utf8')) as Record<string, unknown>
        if (r.code === undefined && Array.isArray(r.ips)) {
          keepResult(a, r)
          return
        }
      } catch {
        // not there (yet), or an error object
      }
    }
  })
  return ep
}

/** An attachment's ADD result, and its address, gateway and MAC from it. */
export function keepResult(a: Attachment, result: Record<string, unknown> | undefined): void {
  a.result = result ?? {}
  const ips = (a.result.ips ?? []) as Array<{address: string; gateway?: string; interface?: number}>
  const ifaces = (a.result.interfaces ?? []) as Array<{name: string; mac?: string; sandbox?: string}>
  const v4 = ips.find((x) => !x.address.includes(':'))
  const v6 = ips.find((x) => x.address.includes(':'))
  a.address = v4?.address ?? a.address
  a.gateway = v4?.gateway ?? a.gateway
  if (v6) [a.address6, a.gateway6] = [v6.address, v6.gateway]
  a.mac = ifaces.find((f) => f.name === a.ifname && f.sandbox)?.mac ?? ifaces.find((f) => f.sandbox)?.mac
}

export function listEndpoints(store: Store): Endpoint[] {
  let ids: string[]
  try {
    ids = readdirSync(endpointsDir(store))
  } catch {
    return []
  }
  return ids.map((id) => readEndpoint(store, id)).filter((e): e is Endpoint => e !== undefined)
}

/** DEL: run the container's teardown (nothing when it has none); true when nothing of it is left. */
export function teardownContainer(store: Store, id: string, opts: {refresh?: boolean} = {}): boolean {
  const ep = readEndpoint(store, id)
  const script = teardownPath(store, id)
  let ok = true
  try {
    accessSync(script)
    const r = spawnSync(script, [], {encoding: 'utf8', env: {PATH: PLUGIN_PATH_ENV}, stdio: ['ignore', 'ignore', 'pipe']})
    // Gone since: another teardown (the supervisor's, in the background) finished first.
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return true
    if (r.status !== 0) {
      ok = false
      const msg = (r.stderr ?? '').trim().split('\n')[0]
      if (msg) process.stderr.write(`${msg}\n`)
    }
  } catch {
    // no record: perhaps only a namespace is left
    const ns = netnsPath(store, id)
    if (existsSync(ns)) {
      spawnSync('umount', [ns], {stdio: 'ignore', env: {PATH: PLUGIN_PATH_ENV}})
      rmSync(ns, {force: true})
    }
  }
  if (ok && opts.refresh !== false && ep) refreshHosts(store, ep.attachments.map((a) => a.network))
  return ok
}

/**
 * The endpoints of containers that have ended and whose teardown runs (or ran and failed):
 * it is waited for (or run again), so what follows (network rm, prune) sees them gone.
 */
export function settleEnded(store: Store): void {
  let ids: string[] = []
  try {
    ids = readdirSync(endpointsDir(store))
  } catch {
    return
  }
  for (const id of ids) if (existsSync(join(endpointDir(store, id), ENDED_MARK))) teardownContainer(store, id)
}

/**
 * CNI has no DNS: containers reach each other by name through /etc/hosts (src/network/hosts.ts)
 * and through aardvark-dns (src/network/dns.ts). Each container's file on the NETWORKS is
 * rewritten in place, under the hosts lock: its own part and then its live peers (ended ones
 * left out) on every network it shares with them; then the DNS server's files, all of them.
 */
export function refreshHosts(store: Store, networks: readonly string[], isLive: (id: string) => boolean = () => true): void {
  if (!namesOn(networks)) return // docker's default bridge resolves no names
  withHostsLock(store, () => {
    const all = listEndpoints(store).filter((e) => isLive(e.id) && !existsSync(join(endpointDir(store, e.id), ENDED_MARK)))
    for (const e of all) {
      if (!e.hosts || !e.attachments.some((a) => networks.includes(a.network))) continue
      try {
        // In place: the container sees the file it has bound, not a new one.
        writeFileSync(e.hosts.path, hostsText(e.hosts.base, peerLines(e, all)))
      } catch {
        // its directory is gone: it is being removed
      }
    }
    // The same containers by DNS (aardvark-dns), on every user-defined network.
    syncDns(store, all)
  })
}

/** nsx gc: the DNS server's files made from the live endpoints (a crash may have left lines, or a server with none). */
export function reconcileDns(store: Store, isLive: (id: string) => boolean): void {
  if (!existsSync(networksDir(store))) return
  withHostsLock(store, () => syncDns(store, listEndpoints(store).filter((e) => isLive(e.id) && !existsSync(join(endpointDir(store, e.id), ENDED_MARK)))))
}

/**
 * `nsx rename` of a running container: its record takes the new name, and so do its peers'
 * /etc/hosts (docker's sandbox rename: the new name resolves, the old one no more; the
 * hostname and aliases stay). Nothing for a container with no record (stopped, or on no network).
 */
export function renameEndpoint(store: Store, id: string, name: string): void {
  const ep = readEndpoint(store, id)
  if (ep === undefined || ep.name === name) return
  const dir = endpointDir(store, id)
  const renamed = withHostsLock(store, () => {
    try {
      // The record as written (readEndpoint adds a background ADD's results to its copy).
      const raw = JSON.parse(readFileSync(join(dir, 'endpoint.json'), 'utf8')) as Endpoint
      writeFileSync(join(dir, 'endpoint.json.tmp'), `${JSON.stringify({...raw, name}, null, 2)}\n`, {mode: 0o600})
      renameSync(join(dir, 'endpoint.json.tmp'), join(dir, 'endpoint.json'))
      return true
    } catch {
      return false // its teardown removed the record meanwhile: it has left its peers' files
    }
  })
  if (renamed) refreshHosts(store, ep.attachments.map((a) => a.network))
}

/** The endpoint of the container whose directory is DIR (ROOT/run/<id>), for ps and inspect. */
export function endpointOfContainerDir(dir: string): Endpoint | undefined {
  const root = join(dir, '..', '..')
  return readEndpoint({root} as Store, dir.slice(dir.lastIndexOf('/') + 1))
}
