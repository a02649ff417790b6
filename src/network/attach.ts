import {execFile} from 'node:child_process'
import {chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {CNI_PATH, execPlugin, execPluginAsync, pluginInput, pluginPath, PLUGIN_PATH_ENV} from './cni.js'
import {DEFAULT_NETWORK, ensureDefaultNetwork, findNetwork, inSubnet, ipamDir, networksDir} from './networks.js'
import {ensureNetworkRules, hasOwnRules, linkExists} from './hostrules.js'
import {ENDED_MARK, joinHosts, leaveHostsScript} from './hosts.js'
import {allocatePorts, exposedRequests, parsePublish} from './ports.js'
import type {Attachment, Endpoint, NetSpec, NetworkConfList, PortMapping} from './types.js'
import {endpointDir, endpointsDir, listEndpoints, netnsDir, netnsPath, readEndpoint, refreshHosts, teardownContainer} from './records.js'

/**
 * A container on its networks, the way containerd and nerdctl drive CNI: a network
 * namespace of its own made first (pinned by a bind mount at ROOT/netns/<id>), then for
 * each network the conflist's plugins run with ADD in order, each given the previous
 * result; the container's init joins that namespace. Everything DEL needs is written
 * before the first ADD (ROOT/networks/endpoints/<id>/: endpoint.json, one stdin file per
 * plugin, and `teardown`, a script running DEL in reverse order and then removing the
 * namespace), so whatever ends the container, its supervisor (the plan's ctr-exit-hook),
 * `nsx rm`, a failed start or `nsx gc` runs the same teardown, and nothing is left.
 */

export interface AttachRequest {
  id: string
  name: string
  hostname: string
  /** Network names (or ids) in order; the first gets eth0, the published ports, --ip and --mac-address. */
  networks: string[]
  net: NetSpec
  /** The container's /etc/hosts (a file bound into it, rewritten in place) and its text for its own addresses. */
  hosts?: {path: string; text: (addresses: string[]) => string}
  /** Whether a container still runs (an endpoint of one that does not holds no port). */
  isLive?: (id: string) => boolean
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** The network namespace, pinned at PATH by a bind mount (util-linux unshare --net=PATH). */
async function makeNetns(store: Store, path: string): Promise<void> {
  mkdirSync(netnsDir(store), {recursive: true, mode: 0o700})
  closeSync(openSync(path, 'w', 0o600))
  const r = await new Promise<{status: number | null; stderr: string}>((resolve) => {
    execFile('unshare', [`--net=${path}`, 'true'], {encoding: 'utf8', env: {PATH: PLUGIN_PATH_ENV}}, (error, _stdout, stderr) =>
      resolve({status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr: stderr || (error?.message ?? '')}),
    )
  })
  if (r.status !== 0) {
    rmSync(path, {force: true})
    throw new NsxError(`cannot make the container's network namespace: ${r.stderr.trim().replace(/^unshare: /, '')}`, 125)
  }
}

/** The teardown script: DEL of every plugin in reverse order, then the namespace and this record go. */
function teardownScript(store: Store, ep: Endpoint, dir: string): string {
  const lines = [
    '#!/bin/sh',
    `# Written by nsx: the network teardown of container ${ep.name} (${ep.id}): CNI DEL of each`,
    '# plugin in reverse order, then its network namespace. Run by its supervisor when it ends,',
    '# by nsx rm, a failed start, and nsx gc (CNI DEL is idempotent: running it twice is harmless).',
    `PATH=${PLUGIN_PATH_ENV}`,
    `D=${shq(dir)}`,
    `NETNS=${shq(ep.netns)}`,
    // One teardown at a time (the supervisor's, in the background after a foreground run; rm; gc;
    // the next start): the others wait on this file's lock, then find the record gone and stop.
    'exec 9<"$0" && flock 9 || exit 1',
    '[ -f "$D/endpoint.json" ] || exit 0',
    `: > "$D/${ENDED_MARK}"`,
    'ok=1',
    `export CNI_COMMAND=DEL CNI_CONTAINERID=${shq(ep.id)} CNI_PATH=${shq(CNI_PATH)}`,
    ...leaveHostsScript(store, ep),
  ]
  ep.attachments.forEach((a, i) => {
    for (let j = a.plugins.length - 1; j >= 0; j--) {
      const type = a.plugins[j].type
      // A namespace no longer mounted (a reboot) fails DEL with it: then DEL without one releases the rest.
      const del = (netns: string) => `CNI_NETNS=${netns} CNI_IFNAME=${shq(a.ifname)} ${shq(pluginPath(type))} < "$D/del-${i}-${j}.json" > "$D/del.out" 2>&1`
      lines.push(`${del('"$NETNS"')} || ${del('')} || { ok=0; echo "nsx: network teardown of ${ep.name}: ${type} DEL on ${a.network} failed: $(head -c 300 "$D/del.out")" >&2; }`)
    }
  })
  lines.push(
    'if [ "$ok" = 1 ]; then',
    '  umount "$NETNS" 2>/dev/null',
    `  rm -rf "$NETNS" "$D"`,
    'else',
    '  rm -f "$D/del.out"',
    '  exit 1',
    'fi',
  )
  return `${lines.join('\n')}\n`
}

export function writeRecord(store: Store, ep: Endpoint): void {
  const dir = endpointDir(store, ep.id)
  mkdirSync(dir, {recursive: true, mode: 0o700})
  ep.attachments.forEach((a, i) =>
    a.plugins.forEach((p, j) => writeFileSync(join(dir, `del-${i}-${j}.json`), JSON.stringify(pluginInput(p, {name: a.network, cniVersion: a.cniVersion}, Object.keys(a.result).length > 0 ? a.result : undefined, runtimeConfigOf(p, a))), {mode: 0o600})),
  )
  writeFileSync(join(dir, 'endpoint.json.tmp'), JSON.stringify(ep, null, 2) + '\n', {mode: 0o600})
  writeFileSync(join(dir, 'teardown.tmp'), teardownScript(store, ep, dir), {mode: 0o700})
  for (const f of ['endpoint.json', 'teardown']) renameSync(join(dir, `${f}.tmp`), join(dir, f))
  chmodSync(join(dir, 'teardown'), 0o700)
}

/** The runtimeConfig a plugin gets, by its declared capabilities (libcni's rule). */
export function runtimeConfigOf(plugin: Record<string, unknown>, a: Pick<Attachment, 'ports'>): Record<string, unknown> | undefined {
  const caps = (plugin.capabilities ?? {}) as Record<string, boolean>
  if (caps.portMappings && a.ports.length > 0) return {portMappings: a.ports}
  return undefined
}

function resolveNetworks(store: Store, names: readonly string[]): NetworkConfList[] {
  return names.map((n) => {
    const conf = n === DEFAULT_NETWORK ? ensureDefaultNetwork(store) : findNetwork(store, n)
    if (!conf) throw new NsxError(`network ${n} not found`, 125)
    return conf
  })
}

/** Every mapping other live containers hold (a dead one's are released by its teardown, or by gc). */
export function takenPorts(store: Store, except: string, isLive: (id: string) => boolean = () => true): PortMapping[] {
  return listEndpoints(store)
    .filter((e) => e.id !== except && isLive(e.id))
    .flatMap((e) => e.attachments.flatMap((a) => a.ports))
}

/**
 * An ended container whose teardown has not finished (it runs after a foreground run returns)
 * may still hold a host port or the address this start asks for: its teardown is waited for
 * (or run) first, so the port's DNAT rule and the lease are this container's alone.
 */
function settleConflicts(store: Store, req: AttachRequest, ports: readonly PortMapping[]): void {
  const live = req.isLive ?? (() => true)
  const wanted = new Set(ports.map((p) => `${p.hostPort}/${p.protocol}`))
  for (const e of listEndpoints(store)) {
    if (e.id === req.id || live(e.id)) continue
    const held = e.attachments.some((a) => a.ports.some((p) => wanted.has(`${p.hostPort}/${p.protocol}`)) || (req.net.ip !== undefined && a.address.split('/')[0] === req.net.ip))
    if (held) teardownContainer(store, e.id)
  }
}

/** ADD: the container's namespace, its interfaces, addresses, routes, NAT and published ports. */
export async function attachContainer(store: Store, req: AttachRequest): Promise<Endpoint> {
  teardownContainer(store, req.id)
  const confs = resolveNetworks(store, req.networks)
  if (req.net.ip !== undefined && confs.length > 0 && !inSubnet(req.net.ip, confs[0].nsx.subnet)) throw new NsxError(`invalid --ip ${req.net.ip}: not an address of network ${confs[0].name} (${confs[0].nsx.subnet})`, 125)
  const requests = [...req.net.publish.flatMap(parsePublish), ...(req.net.publishAll ? exposedRequests(req.net.exposed) : [])]
  const ports = await allocatePorts(requests, takenPorts(store, req.id, req.isLive))
  settleConflicts(store, req, ports)
  const netns = netnsPath(store, req.id)
  const ep: Endpoint = {id: req.id, name: req.name, hostname: req.hostname, netns, attachments: []}
  ep.attachments = confs.map((conf, i) => {
    let plugins = conf.plugins.filter((p) => p.type !== 'portmap' || (i === 0 && ports.length > 0))
    if (i === 0 && req.net.mac) plugins = [...plugins, {type: 'tuning', mac: req.net.mac}]
    const aliases = [...new Set([...req.net.aliases, ...(req.net.endpoints?.[conf.name]?.aliases ?? [])])]
    return {network: conf.name, networkId: conf.nsx.id, ifname: `eth${i}`, address: '', aliases, ports: i === 0 ? ports : [], plugins, result: {}, cniVersion: conf.cniVersion}
  })
  // The record and its teardown exist before anything is made: a crash from here on leaves what gc undoes.
  writeRecord(store, ep)
  try {
    await makeNetns(store, netns)
    // A network's NAT and forwarding rules, once: when its bridge is not there yet (new, or after a reboot).
    for (const conf of confs) if (hasOwnRules(conf) && !linkExists(conf.nsx.bridge)) ensureNetworkRules(store, conf)
    for (const [i, a] of ep.attachments.entries()) await addAttachment(a, req.id, netns, req.net.endpoints?.[a.network]?.ip ?? (i === 0 ? req.net.ip : undefined))
    writeRecord(store, ep)
    if (req.hosts) {
      const own = ep.attachments.map((a) => a.address.split('/')[0]).filter(Boolean)
      ep.hosts = {path: req.hosts.path, base: req.hosts.text(own)}
      writeRecord(store, ep)
      // In place: the file is bound into the container.
      writeFileSync(ep.hosts.path, ep.hosts.base)
    }
    joinHosts(endpointDir(store, ep.id), ep.hosts?.path)
    refreshHosts(store, ep.attachments.map((a) => a.network), req.isLive)
  } catch (err) {
    teardownContainer(store, req.id)
    throw err
  }
  return ep
}

/** ADD of one attachment's plugins in order, each given the previous result; its address, gateway and MAC kept. */
export async function addAttachment(a: Attachment, id: string, netns: string, ip?: string): Promise<void> {
  let prev: Record<string, unknown> | undefined
  const args = ip !== undefined ? `IgnoreUnknown=1;IP=${ip}` : undefined
  for (const p of a.plugins) {
    prev = (await execPluginAsync(p.type, {command: 'ADD', containerId: id, netns, ifname: a.ifname, args}, pluginInput(p, {name: a.network, cniVersion: a.cniVersion}, prev, runtimeConfigOf(p, a)))) ?? prev
  }
  a.result = prev ?? {}
  const ips = (a.result.ips ?? []) as Array<{address: string; gateway?: string; interface?: number}>
  const ifaces = (a.result.interfaces ?? []) as Array<{name: string; mac?: string; sandbox?: string}>
  a.address = ips[0]?.address ?? ''
  a.gateway = ips[0]?.gateway
  a.mac = ifaces.find((f) => f.name === a.ifname && f.sandbox)?.mac ?? ifaces.find((f) => f.sandbox)?.mac
}

/** CHECK: each plugin of each attachment, in order, against the recorded result; the failures as lines. */
export function checkContainer(store: Store, id: string): string[] {
  const ep = readEndpoint(store, id)
  if (!ep) return []
  const failed: string[] = []
  for (const a of ep.attachments) {
    // portmap up to 1.1 fails CHECK on an IPv4-only container (it looks for an IPv6 chain it never made).
    for (const p of a.plugins.filter((x) => x.type !== 'portmap')) {
      try {
        execPlugin(p.type, {command: 'CHECK', containerId: id, netns: ep.netns, ifname: a.ifname}, pluginInput(p, {name: a.network, cniVersion: a.cniVersion}, a.result, runtimeConfigOf(p, a)))
      } catch (err) {
        failed.push(`${ep.name} on ${a.network}: ${(err as Error).message}`)
      }
    }
  }
  return failed
}

export interface NetworkGcReport {
  /** Containers whose attachments were torn down (their container is gone or not running). */
  released: string[]
  /** Address leases no container holds, removed. */
  leases: string[]
  /** CHECK failures of running containers. */
  checks: string[]
}

/** nsx gc: tear down what dead containers left, drop leases nobody holds, CHECK the live ones. */
export function reconcileNetworks(store: Store, isLive: (id: string) => boolean): NetworkGcReport {
  const report: NetworkGcReport = {released: [], leases: [], checks: []}
  let ids: string[] = []
  try {
    ids = readdirSync(endpointsDir(store))
  } catch {
    // none
  }
  for (const id of ids) {
    if (isLive(id)) report.checks.push(...checkContainer(store, id))
    else if (teardownContainer(store, id)) report.released.push(id)
  }
  try {
    for (const id of readdirSync(netnsDir(store))) if (!isLive(id) && !readEndpoint(store, id)) teardownContainer(store, id)
  } catch {
    // none
  }
  const held = new Set(listEndpoints(store).map((e) => e.id))
  let nets: string[] = []
  try {
    nets = readdirSync(ipamDir(store))
  } catch {
    // none
  }
  for (const n of nets) {
    const dir = join(ipamDir(store), n)
    for (const f of readdirSync(dir)) {
      if (f === 'lock' || f.startsWith('last_reserved_ip')) continue
      let owner = ''
      try {
        owner = readFileSync(join(dir, f), 'utf8').split(/\r?\n/)[0].trim()
      } catch {
        continue
      }
      if (!held.has(owner) && !isLive(owner)) {
        rmSync(join(dir, f), {force: true})
        report.leases.push(`${n}/${f}`)
      }
    }
  }
  return report
}
