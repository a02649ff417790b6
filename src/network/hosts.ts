import {closeSync, mkdirSync, openSync, rmSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'
import {flock, LOCK_EX} from '../ffi/libc.js'
import type {Store} from '../store/store.js'
import {leaveDnsScript} from './dns.js'
import {DEFAULT_NETWORK, networksDir} from './networks.js'
import type {Endpoint} from './types.js'

/**
 * Names on user-defined networks (CNI has no DNS; docker's embedded DNS is the model): each
 * container's /etc/hosts is its own part and then one line per peer on every user-defined
 * network it shares. The files are rewritten in place (they are bound into the
 * containers) under one lock, ROOT/networks/hosts.lock: by nsx when a container joins or
 * is removed (records.ts, refreshHosts), and by the teardown script when a container ends
 * by itself or is stopped, so no peer keeps a stale line. Each endpoint record links its
 * container's file (endpoints/ID/hosts), which is how the teardown, a shell script, finds
 * its peers' files; a container whose teardown has begun is marked (endpoints/ID/ended)
 * and left out of every rewrite from then on.
 */

/** The line that starts the peers' part of a container's /etc/hosts. */
export const PEERS_MARK = '# containers on the same network(s)'
/** In an endpoint's directory: the container's /etc/hosts (a symlink), and the mark of a container that has ended. */
export const HOSTS_LINK = 'hosts'
export const ENDED_MARK = 'ended'

export const hostsLockPath = (store: Store) => join(networksDir(store), 'hosts.lock')

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** Whether any of the networks gives names (docker's default bridge resolves none). */
export const namesOn = (networks: readonly string[]) => networks.some((n) => n !== DEFAULT_NETWORK)

/** FN under the hosts lock (flock, the lock the teardown script's `flock` takes too). */
export function withHostsLock<T>(store: Store, fn: () => T): T {
  mkdirSync(networksDir(store), {recursive: true, mode: 0o700})
  const fd = openSync(hostsLockPath(store), 'a', 0o600)
  try {
    flock(fd, LOCK_EX)
    return fn()
  } finally {
    closeSync(fd) // releases the lock
  }
}

/** The peers' lines of container E's /etc/hosts, from the live endpoints ALL. */
export function peerLines(e: Endpoint, all: readonly Endpoint[]): string[] {
  const lines: string[] = []
  for (const a of e.attachments) {
    if (a.network === DEFAULT_NETWORK) continue
    for (const peer of all) {
      if (peer.id === e.id) continue
      const pa = peer.attachments.find((x) => x.network === a.network)
      if (!pa || !pa.address) continue
      const names = [...new Set([peer.name, peer.hostname, ...pa.aliases])].join(' ')
      lines.push(`${pa.address.split('/')[0]}\t${names}`)
    }
  }
  return lines
}

export function hostsText(base: string, peers: readonly string[]): string {
  return peers.length > 0 ? `${base}${PEERS_MARK}\n${peers.join('\n')}\n` : base
}

/** After ADD: the endpoint's link to its container's /etc/hosts, and no mark of an earlier end. */
export function joinHosts(dir: string, hostsPath: string | undefined): void {
  rmSync(join(dir, ENDED_MARK), {force: true})
  rmSync(join(dir, HOSTS_LINK), {force: true})
  if (hostsPath) symlinkSync(hostsPath, join(dir, HOSTS_LINK))
}

/**
 * The teardown script's part (sh; $D is the endpoint's directory): mark the container as
 * ended, then drop its addresses from the peers' part of every other container's
 * /etc/hosts, in place and under the hosts lock. Nothing when it is on no user-defined
 * network or has no address there.
 */
export function leaveHostsScript(store: Store, ep: Endpoint): string[] {
  const drop = ep.attachments.filter((a) => a.network !== DEFAULT_NETWORK && a.address).map((a) => a.address.split('/')[0])
  if (drop.length === 0) return []
  const awk = `$0 == m { held = $0; s = 1; next } s && index(d, " " $1 " ") { next } { if (held != "") { print held; held = "" } print }`
  const each = [
    'for f in "$1"/*/hosts; do',
    '  [ "$f" = "$2/hosts" ] || [ ! -f "$f" ] && continue',
    `  awk -v m=${shq(PEERS_MARK)} -v d=${shq(` ${drop.join(' ')} `)} ${shq(awk)} "$f" > "$2/hosts.new" && ! cmp -s "$2/hosts.new" "$f" && cat "$2/hosts.new" > "$f"`,
    'done',
    'rm -f "$2/hosts.new"',
  ].join('\n')
  return [
    `# Its peers' /etc/hosts lose its lines (${drop.join(', ')}), under the lock nsx's own rewrites take.`,
    `: > "$D/${ENDED_MARK}"`,
    `# Its lines leave the DNS server's files (src/network/dns.ts), which is reloaded, or stopped when none is left.`,
    `flock ${shq(hostsLockPath(store))} sh -c ${shq(`${each}\n${leaveDnsScript(store, ep.id)}`)} sh ${shq(join(networksDir(store), 'endpoints'))} "$D" || true`,
  ]
}
