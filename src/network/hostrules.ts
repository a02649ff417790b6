import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {PLUGIN_PATH_ENV} from './cni.js'
import type {NetworkConfList} from './types.js'

/**
 * A network's own NAT and forwarding rules, made once per network (as docker, podman's
 * netavark and nerdctl's newer chains do) rather than per container by the bridge plugin's
 * ipMasq and the firewall plugin: those cost three to six iptables execs for each ADD and
 * each DEL (about 250 ms a run on this shared machine, see bench/README.md). Two chains of
 * nsx's own, jumped to from POSTROUTING and FORWARD, hold per network:
 *   nat    NSX-POSTROUTING  -s SUBNET ! -o BRIDGE -j MASQUERADE   (none for --internal)
 *   filter NSX-FORWARD      -i BRIDGE -j ACCEPT
 *                           -o BRIDGE -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
 * They are made when a container attaches and the bridge does not exist yet in that network
 * namespace (a new network, a reboot), each added only when `iptables -C` does not find it;
 * they go with `nsx network rm`. Published ports stay with the portmap plugin, per container.
 */

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** The rules of one network, as iptables arguments after the table/action. */
function rulesOf(conf: NetworkConfList): Array<{table: string; chain: string; args: string}> {
  const m = conf.nsx
  const br = shq(m.bridge)
  const rules = [
    {table: 'filter', chain: 'NSX-FORWARD', args: `-i ${br} -j ACCEPT`},
    {table: 'filter', chain: 'NSX-FORWARD', args: `-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`},
  ]
  if (!m.internal && !m.noMasquerade) rules.unshift({table: 'nat', chain: 'NSX-POSTROUTING', args: `-s ${shq(m.subnet)} ! -o ${br} -j MASQUERADE`})
  return rules
}

/** Whether the network's own rules are nsx's (conflists written before carry ipMasq and the firewall plugin instead). */
export function hasOwnRules(conf: NetworkConfList): boolean {
  return conf.nsx.ownRules === true
}

/** Whether an interface of that name exists in the caller's network namespace (/proc/net follows it; /sys/class/net follows sysfs's mount). */
export function linkExists(name: string): boolean {
  try {
    return readFileSync('/proc/net/dev', 'utf8').split('\n').some((l) => l.trimStart().startsWith(`${name}:`))
  } catch {
    return false
  }
}

function run(store: Store, script: string, what: string): void {
  const dir = join(store.root, 'networks')
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const r = spawnSync('flock', [join(dir, 'rules.lock'), 'sh', '-c', script], {encoding: 'utf8', env: {PATH: PLUGIN_PATH_ENV}})
  if (r.status !== 0) throw NsxError.internal(`${what}: ${(r.stderr || r.error?.message || `exit status ${r.status}`).trim().split('\n')[0]}`, 125)
}

/** The network's NAT and forwarding rules, each added unless present (idempotent, under a lock). */
export function ensureNetworkRules(store: Store, conf: NetworkConfList): void {
  const lines = ['set -e']
  const jumps: Record<string, string> = {'NSX-POSTROUTING': 'POSTROUTING', 'NSX-FORWARD': 'FORWARD'}
  const rules = rulesOf(conf)
  for (const chain of new Set(rules.map((r) => r.chain))) {
    const table = rules.find((r) => r.chain === chain)!.table
    lines.push(`iptables -w -t ${table} -N ${chain} 2>/dev/null || true`)
    lines.push(`iptables -w -t ${table} -C ${jumps[chain]} -j ${chain} 2>/dev/null || iptables -w -t ${table} -I ${jumps[chain]} -j ${chain}`)
  }
  for (const r of rules) lines.push(`iptables -w -t ${r.table} -C ${r.chain} ${r.args} 2>/dev/null || iptables -w -t ${r.table} -A ${r.chain} ${r.args}`)
  run(store, lines.join('\n'), `cannot set up network ${conf.name}'s NAT and forwarding rules`)
}

/** nsx network rm: the network's rules go (the chains stay, as CNI's top-level chains do). */
export function removeNetworkRules(store: Store, conf: NetworkConfList): void {
  if (!hasOwnRules(conf)) return
  const lines = rulesOf(conf).map((r) => `while iptables -w -t ${r.table} -D ${r.chain} ${r.args} 2>/dev/null; do :; done`)
  run(store, lines.join('\n'), `cannot remove network ${conf.name}'s rules`)
}
