import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import type {Store} from '../store/store.js'
import {PLUGIN_PATH_ENV} from './cni.js'
import {cniNetworkName, DEFAULT_NETWORK, networksDir} from './networks.js'
import type {Endpoint} from './types.js'

/**
 * Names on user-defined networks by DNS, as docker's embedded DNS and podman's netavark give
 * them: Debian's aardvark-dns (netavark's DNS server) answers on each network's gateway,
 * port 53, for the containers of the moment, and forwards other names to the host's
 * resolvers (or a container's --dns servers). Its configuration is a directory of the store,
 * ROOT/networks/aardvark/, one file per network (named by its CNI name): the gateway on the
 * first line, then one line per running container on it: its id, IPv4 address, IPv6 address,
 * its names (name, network aliases, short id, and the aliases other containers' links give
 * it), and its --dns servers. nsx rewrites the files from the live endpoints, under the hosts
 * lock, whenever a container joins, leaves or is renamed; aardvark-dns is started (detached:
 * it forks and outlives nsx, as netavark starts it) when the first file appears, reloaded
 * with SIGHUP on each change, and stopped when the last file goes. The teardown script of a
 * container (a shell script, src/network/attach.ts) drops its lines and reloads the same way.
 * aardvark-dns 1.4 closes and binds its sockets again at each reload: a reload is waited
 * for (its sockets on port 53 are new ones) before the verb that caused it returns, so a
 * name is there, or gone, when `nsx start`, `stop` or `rm` returns.
 */

/** Debian's aardvark-dns (package aardvark-dns, beside netavark in /usr/lib/podman); NSX_AARDVARK overrides. */
export const aardvarkPath = () => process.env.NSX_AARDVARK || '/usr/lib/podman/aardvark-dns'
export const dnsDir = (store: Store) => join(networksDir(store), 'aardvark')
const PID_FILE = 'aardvark.pid'

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
const NAME_OK = /^[^\s,]+$/

/**
 * The shell function `dns_reload DIR BIN`: aardvark-dns started when DIR holds a network's file
 * and none runs, reloaded (SIGHUP) when one runs, stopped when no file is left; a start or
 * reload is waited for until its sockets on port 53 (one per listening address, new ones)
 * are bound, 10 s at most. One text for nsx (run with sh) and for the teardown scripts.
 */
export const DNS_RELOAD_SH = `dns_reload() {
  C=$1
  pid=$(cat "$C/${PID_FILE}" 2>/dev/null)
  if [ -z "$pid" ] || [ "$(cat /proc/$pid/comm 2>/dev/null)" != aardvark-dns ] || grep -q ') Z' /proc/$pid/stat 2>/dev/null; then pid=; fi
  nets=$(ls "$C" 2>/dev/null | grep -v '^${PID_FILE}$')
  if [ -z "$nets" ]; then
    if [ -n "$pid" ]; then
      kill -TERM "$pid" 2>/dev/null
      i=0; while [ $i -lt 500 ] && [ -e /proc/$pid ] && ! grep -q ') Z' /proc/$pid/stat 2>/dev/null; do sleep 0.02; i=$((i+1)); done
    fi
    rm -f "$C/${PID_FILE}"; rmdir "$C" 2>/dev/null
    return 0
  fi
  want=$(for f in $nets; do head -n1 "$C/$f" | cut -d' ' -f1 | tr ',' '\\n'; done | grep -c .)
  socks() { f=" $(ls -l /proc/$1/fd 2>/dev/null | sed -n 's/.*socket:\\[\\([0-9]*\\)\\]$/\\1/p' | tr '\\n' ' ') "; cat /proc/$1/net/udp /proc/$1/net/udp6 2>/dev/null | awk -v f="$f" '$2 ~ /:0035$/ && index(f, " " $10 " ") { print $10 }'; }
  old=
  if [ -n "$pid" ]; then
    old=" $(socks $pid | tr '\\n' ' ') "
    kill -HUP "$pid"
  else
    rm -f "$C/${PID_FILE}"
    if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null; then set -- systemd-run -q --scope "$2"; else set -- "$2"; fi
    RUST_LOG=warn "$@" --config "$C" -p 53 run </dev/null >/dev/null 2>&1 || { echo "nsx: cannot start aardvark-dns ($2): container names will not resolve by DNS" >&2; return 1; }
    pid=$(cat "$C/${PID_FILE}" 2>/dev/null)
  fi
  i=0
  while [ $i -lt 500 ]; do
    n=0; fresh=1
    for s in $(socks $pid); do n=$((n+1)); case "$old" in *" $s "*) fresh=0;; esac; done
    [ $fresh = 1 ] && [ $n -ge $want ] && return 0
    sleep 0.02; i=$((i+1))
  done
  echo "nsx: aardvark-dns (pid $pid) does not answer on all of its $want address(es), port 53, after 10 s" >&2
  return 1
}`

/** The names a container answers to on one network: its name, aliases, short id, and link aliases others give it. */
function namesOf(ep: Endpoint, network: string, all: readonly Endpoint[]): string[] {
  const a = ep.attachments.find((x) => x.network === network)!
  const linked = all.flatMap((o) => (o.attachments.find((x) => x.network === network)?.links ?? []).filter((l) => l.name === ep.name || l.name === ep.id || (l.name.length >= 12 && ep.id.startsWith(l.name))).map((l) => l.alias))
  return [...new Set([ep.name, ...a.aliases, ep.id.slice(0, 12), ...linked])].filter((n) => NAME_OK.test(n))
}

/** Each network's file, by file name: the gateway, then one line per live container on it (ALL: the live endpoints). */
export function dnsConfigs(all: readonly Endpoint[]): Map<string, string> {
  const files = new Map<string, {gateway: string; lines: string[]}>()
  for (const ep of all) {
    for (const a of ep.attachments) {
      if (a.network === DEFAULT_NETWORK || !a.address || !a.gateway) continue
      const file = cniNetworkName(a.network)
      const f = files.get(file) ?? {gateway: a.gateway, lines: []}
      files.set(file, f)
      const servers = (ep.dns ?? []).join(',')
      f.lines.push(`${ep.id} ${a.address.split('/')[0]} ${a.address6?.split('/')[0] ?? ''} ${namesOf(ep, a.network, all).join(',')}${servers ? ` ${servers}` : ''}`)
    }
  }
  return new Map([...files].map(([k, v]) => [k, `${v.gateway}\n${v.lines.join('\n')}\n`]))
}

const readOr = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * Under the hosts lock (the caller holds it): every network's file rewritten from ALL (the
 * live endpoints that have not ended), the files of networks with no container left removed,
 * and aardvark-dns started, reloaded or stopped when anything changed (or it should run and
 * does not). Errors go to stderr in one line: a container still starts, its peers still in
 * its /etc/hosts.
 */
export function syncDns(store: Store, all: readonly Endpoint[]): void {
  const dir = dnsDir(store)
  const want = dnsConfigs(all)
  let have: string[] = []
  try {
    have = readdirSync(dir).filter((f) => f !== PID_FILE)
  } catch {
    // none yet
  }
  if (want.size === 0 && have.length === 0 && !existsSync(join(dir, PID_FILE))) return
  let changed = false
  if (want.size > 0) mkdirSync(dir, {recursive: true, mode: 0o700})
  for (const [file, text] of want) {
    if (readOr(join(dir, file)) === text) continue
    // Written beside the directory (aardvark-dns reads every file in it), then renamed in.
    const tmp = join(networksDir(store), `aardvark-${file}.tmp`)
    writeFileSync(tmp, text, {mode: 0o600})
    renameSync(tmp, join(dir, file))
    changed = true
  }
  for (const f of have) {
    if (want.has(f)) continue
    rmSync(join(dir, f), {force: true})
    changed = true
  }
  if (!changed && (want.size === 0 || running(dir))) return
  const r = spawnSync('sh', ['-c', `${DNS_RELOAD_SH}\ndns_reload "$1" "$2"`, 'sh', dir, aardvarkPath()], {encoding: 'utf8', env: {PATH: PLUGIN_PATH_ENV}, stdio: ['ignore', 'ignore', 'pipe']})
  const msg = (r.stderr ?? '').trim().split('\n')[0]
  if (msg) process.stderr.write(`${msg}\n`)
}

/** Whether the aardvark-dns of DIR runs (its pid file names a live aardvark-dns). */
function running(dir: string): boolean {
  const pid = readOr(join(dir, PID_FILE))?.trim()
  if (!pid) return false
  return readOr(`/proc/${pid}/comm`)?.trim() === 'aardvark-dns' && !/\) Z /.test(readOr(`/proc/${pid}/stat`) ?? ') Z ')
}

/**
 * The teardown script's part (sh, run under the hosts lock; $D is the endpoint's directory):
 * the container's lines dropped from every network's file (a file left with its gateway
 * alone removed), and aardvark-dns reloaded, or stopped when no file is left.
 */
export function leaveDnsScript(store: Store, id: string): string {
  const dir = dnsDir(store)
  return [
    DNS_RELOAD_SH,
    `C=${shq(dir)}; ch=0`,
    `for f in "$C"/*; do`,
    `  [ -f "$f" ] && [ "\${f##*/}" != ${PID_FILE} ] || continue`,
    `  grep -q '^${id} ' "$f" || continue`,
    `  grep -v '^${id} ' "$f" > "$C.new"; ch=1`,
    `  if [ "$(grep -c . "$C.new")" -le 1 ]; then rm -f "$f" "$C.new"; else mv "$C.new" "$f"; fi`,
    'done',
    `[ $ch = 0 ] || dns_reload "$C" ${shq(aardvarkPath())}`,
  ].join('\n')
}
