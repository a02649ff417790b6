import {spawn} from 'node:child_process'
import {chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {encodePlan} from '../plan/encode.js'
import {executorPath} from '../plan/executor.js'
import type {Op} from '../plan/ops.js'
import {validatePlan} from '../plan/validate.js'
import {CNI_PATH, type CniCall, execPlugin, execPluginAsync, pluginInput, pluginOutcome, pluginPath, PLUGIN_PATH_ENV} from './cni.js'
import {chooseAddresses} from './addresses.js'
import {checkIp6} from './ipv6.js'
import {cniNetworkName, DEFAULT_NETWORK, ensureDefaultNetwork, findNetwork, inRanges, inSubnet, ipamDir} from './networks.js'
import {ensureNetworkRules, hasOwnRules, linkExists} from './hostrules.js'
import {ENDED_MARK, joinHosts, leaveHostsScript} from './hosts.js'
import {allocatePorts, exposedRequests, parsePublish} from './ports.js'
import type {Attachment, Endpoint, NetSpec, NetworkConfList, PortMapping} from './types.js'
import {addStatusPath, endpointDir, endpointsDir, keepResult, listEndpoints, netnsDir, netnsPath, readEndpoint, reconcileDns, refreshHosts, teardownContainer} from './records.js'

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
  /** --link NAME:ALIAS: on each user-defined network, ALIAS names NAME by DNS once NAME runs there. */
  links?: Array<{name: string; alias: string}>
  /** --dns: where the DNS server of its user-defined networks forwards its other queries. */
  dns?: string[]
  /** The container's /etc/resolv.conf (rewritten in place) and its text for a list of nameservers: on a user-defined network, the network's DNS server. */
  resolvConf?: {path: string; text: (nameservers?: string[]) => string}
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * The container's network namespace (pinned at ep.netns by a bind mount, as `unshare
 * --net=PATH` makes it) and the ADD of every plugin of every attachment, in order, each
 * given the previous result: all in one executor process (native/ops-network.c: netns-new,
 * cni-add), whose outcome is the endpoint's add.status file, locked while it runs. Each
 * plugin's input and output are files of the endpoint's directory (add-I-J.json, add-I-J.out).
 *
 * BACKGROUND (every address chosen before the ADD): the executor forks once the namespace is
 * made and the status locked, and this returns then; the chain runs on while Node plans the
 * start and the executor sets the container's root up, and the container's init waits for the
 * status (ctr-net-wait) before its command runs. Else this waits for the chain and returns
 * the attachments' results, in order.
 */
async function addAll(store: Store, ep: Endpoint, ips: ReadonlyArray<string | undefined>, background: boolean): Promise<Array<Record<string, unknown>> | undefined> {
  const dir = endpointDir(store, ep.id)
  mkdirSync(netnsDir(store), {recursive: true, mode: 0o700})
  const env: Record<string, string> = {PATH: PLUGIN_PATH_ENV, CNI_COMMAND: 'ADD', CNI_CONTAINERID: ep.id, CNI_NETNS: ep.netns, CNI_PATH}
  const status = addStatusPath(store, ep.id)
  const ops: Op[] = [{op: 'cni-status', path: status}, {op: 'netns-new', path: ep.netns}]
  if (background) ops.push({op: 'cni-background', log: join(dir, 'add.log')})
  ops.push(...Object.entries(env).map(([name, value]): Op => ({op: 'setenv', name, value})))
  const steps: Array<{type: string; out: string; call: CniCall}> = []
  ep.attachments.forEach((a, i) => {
    const args = ips[i] !== undefined ? `IgnoreUnknown=1;IP=${ips[i]}` : undefined
    ops.push({op: 'cni-chain'}, {op: 'setenv', name: 'CNI_IFNAME', value: a.ifname}, args ? {op: 'setenv', name: 'CNI_ARGS', value: args} : {op: 'unsetenv', name: 'CNI_ARGS'})
    a.plugins.forEach((p, j) => {
      const conf = join(dir, `add-${i}-${j}.json`)
      const out = join(dir, `add-${i}-${j}.out`)
      writeFileSync(conf, JSON.stringify(pluginInput(p, {name: cniNetworkName(a.network), cniVersion: a.cniVersion}, undefined, runtimeConfigOf(p, a))), {mode: 0o600})
      rmSync(out, {force: true})
      ops.push({op: 'cni-add', plugin: pluginPath(p.type), conf, out})
      steps.push({type: p.type, out, call: {command: 'ADD', containerId: ep.id, netns: ep.netns, ifname: a.ifname, args}})
    })
  })
  const [argv0, ...argv] = encodePlan(validatePlan({command: 'nsx-network', ops: [...ops, {op: 'cni-done'}, {op: 'end'}]}))
  const r = await new Promise<{status: number | null; stderr: string}>((resolve) => {
    const child = spawn(executorPath(), argv, {argv0, stdio: ['ignore', 'ignore', 'pipe'], env: {}})
    const err: Buffer[] = []
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', (e) => resolve({status: 125, stderr: e.message}))
    child.on('close', (status) => resolve({status, stderr: Buffer.concat(err).toString('utf8')}))
  })
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8')
    } catch {
      return undefined
    }
  }
  // A plugin that failed: its CNI error in one line (the executor words it as pluginOutcome does).
  if (r.status === 3) throw NsxError.internal(read(status)?.trim().split('\n')[0] || `cannot attach the container to its network: ${r.stderr.trim().split('\n')[0]}`, 125)
  if (r.status !== 0) throw NsxError.internal(`cannot attach the container to its network: ${r.stderr.trim().split('\n')[0].replace(/^nsx-network: /, '') || `exit status ${r.status}`}`, 125)
  if (background) return undefined
  let k = 0
  return ep.attachments.map((a) => {
    let prev: Record<string, unknown> | undefined
    for (const s of steps.slice(k, (k += a.plugins.length))) prev = pluginOutcome(s.type, s.call, {status: 0, stdout: read(s.out)}) ?? prev
    return prev ?? {}
  })
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
    // An ADD still running (it goes on after the start has handed over): DEL once it has ended.
    'if [ -f "$D/add.status" ] && [ ! -s "$D/add.status" ]; then exec 8<"$D/add.status" && flock -s 8; fi',
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
    a.plugins.forEach((p, j) => writeFileSync(join(dir, `del-${i}-${j}.json`), JSON.stringify(pluginInput(p, {name: cniNetworkName(a.network), cniVersion: a.cniVersion}, Object.keys(a.result).length > 0 ? a.result : undefined, runtimeConfigOf(p, a))), {mode: 0o600})),
  )
  writeFileSync(join(dir, 'endpoint.json.tmp'), JSON.stringify(ep, null, 2) + '\n', {mode: 0o600})
  writeFileSync(join(dir, 'teardown.tmp'), teardownScript(store, ep, dir), {mode: 0o700})
  for (const f of ['endpoint.json', 'teardown']) renameSync(join(dir, `${f}.tmp`), join(dir, f))
  chmodSync(join(dir, 'teardown'), 0o700)
}

/** The runtimeConfig a plugin gets, by its declared capabilities (libcni's rule). */
export function runtimeConfigOf(plugin: Record<string, unknown>, a: Pick<Attachment, 'ports' | 'ips'>): Record<string, unknown> | undefined {
  const caps = (plugin.capabilities ?? {}) as Record<string, boolean>
  if (caps.portMappings && a.ports.length > 0) return {portMappings: a.ports}
  // A static IPv6 address: host-local reads runtimeConfig's ips (CNI_ARGS' IP= takes one address only); the bridge passes its input on to it.
  if (plugin.type === 'bridge' && a.ips && a.ips.length > 0) return {ips: a.ips}
  return undefined
}

/** An --ip6 on a network with IPv6 on, as host-local's runtimeConfig ips (ADDRESS/PREFIX); nothing on one without (docker's daemon hands out none there). */
export function staticIps(conf: NetworkConfList, ip6: string | undefined): Pick<Attachment, 'ips'> {
  const pool = conf.nsx.enableIPv6 ? conf.nsx.ipv6 : undefined
  if (!pool || ip6 === undefined) return {}
  return {ips: [`${ip6}/${pool.subnet.split('/')[1]}`]}
}

function resolveNetworks(store: Store, names: readonly string[]): NetworkConfList[] {
  return names.map((n) => {
    const conf = n === DEFAULT_NETWORK ? ensureDefaultNetwork(store) : findNetwork(store, n)
    if (!conf) throw NsxError.notFound(`network ${n} not found`, 125)
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
  if (req.net.ip !== undefined && confs.length > 0 && !inSubnet(req.net.ip, confs[0].nsx.subnet)) throw NsxError.invalid(`invalid --ip ${req.net.ip}: not an address of network ${confs[0].name} (${confs[0].nsx.subnet})`, 125)
  if (req.net.ip !== undefined && confs.length > 0 && !inRanges(req.net.ip, confs[0].nsx)) throw NsxError.invalid(`invalid --ip ${req.net.ip}: network ${confs[0].name} hands out addresses from ${confs[0].nsx.ipRange ?? confs[0].nsx.subnet}, less its auxiliary addresses`, 125)
  const requests = [...req.net.publish.flatMap(parsePublish), ...(req.net.publishAll ? exposedRequests(req.net.exposed) : [])]
  const ports = await allocatePorts(requests, takenPorts(store, req.id, req.isLive))
  settleConflicts(store, req, ports)
  const netns = netnsPath(store, req.id)
  const ep: Endpoint = {id: req.id, name: req.name, hostname: req.hostname, netns, attachments: [], ...(req.dns?.length ? {dns: req.dns} : {})}
  const asked = confs.map((c, i) => req.net.endpoints?.[c.name]?.ip ?? (i === 0 ? req.net.ip : undefined))
  ep.attachments = confs.map((conf, i) => {
    let plugins = conf.plugins.filter((p) => p.type !== 'portmap' || (i === 0 && ports.length > 0))
    if (i === 0 && req.net.mac) plugins = [...plugins, {type: 'tuning', mac: req.net.mac}]
    const aliases = [...new Set([...req.net.aliases, ...(req.net.endpoints?.[conf.name]?.aliases ?? [])])]
    const ip6 = req.net.endpoints?.[conf.name]?.ip6 ?? (i === 0 ? req.net.ip6 : undefined)
    if (ip6 !== undefined) checkIp6(conf, ip6)
    const links = conf.name === DEFAULT_NETWORK ? [] : [...(req.links ?? []), ...(req.net.endpoints?.[conf.name]?.links ?? [])]
    return {network: conf.name, networkId: conf.nsx.id, ifname: `eth${i}`, address: '', gateway: conf.nsx.gateway || undefined, aliases, ...(links.length > 0 ? {links} : {}), ports: i === 0 ? ports : [], ...staticIps(conf, ip6), plugins, result: {}, cniVersion: conf.cniVersion}
  })
  // The addresses chosen and the record with its teardown written before anything is made (a
  // crash from here on leaves what gc undoes), under the networks' lease locks.
  const ownHosts = () => {
    if (req.hosts) ep.hosts = {path: req.hosts.path, base: req.hosts.text(ep.attachments.map((a) => a.address.split('/')[0]).filter(Boolean))}
  }
  const chosen = chooseAddresses(store, confs, asked, req.id, (c) => {
    ep.attachments.forEach((a, i) => (a.address = c[i] ?? ''))
    // Every address known: the container's /etc/hosts too, before the ADD.
    if (c.every((x) => x !== undefined)) ownHosts()
    writeRecord(store, ep)
    return c
  })
  // Link-local addresses are added once the ADD has made the interface: then the ADD is waited for.
  const linkLocal = confs.map((c, i) => req.net.endpoints?.[c.name]?.linkLocalIps ?? (i === 0 ? req.net.linkLocalIps : undefined))
  // A user-defined network whose bridge is not there yet: its DNS server can listen on the gateway only once the ADD has made it.
  const newBridges = confs.filter((c) => !linkExists(c.nsx.bridge))
  const background = chosen.every((c) => c !== undefined) && !linkLocal.some((l) => l && l.length > 0) && !newBridges.some((c) => c.name !== DEFAULT_NETWORK)
  // On a user-defined network the container asks the network's DNS server (aardvark-dns on its gateway, as podman's); docker's default bridge has none.
  const dnsNet = confs.find((c) => c.name !== DEFAULT_NETWORK && c.nsx.gateway)
  if (req.resolvConf) writeFileSync(req.resolvConf.path, req.resolvConf.text(dnsNet ? [dnsNet.nsx.gateway] : undefined))
  try {
    // A network's NAT and forwarding rules, once: when its bridge is not there yet (new, or after a reboot).
    for (const conf of newBridges) if (hasOwnRules(conf)) ensureNetworkRules(store, conf)
    const results = await addAll(store, ep, chosen.map((c, i) => c?.split('/')[0] ?? asked[i]), background)
    if (results) {
      ep.attachments.forEach((a, i) => keepResult(a, results[i]))
      ownHosts()
      writeRecord(store, ep)
      for (const [i, a] of ep.attachments.entries()) await addLinkLocal(netns, a.ifname, linkLocal[i])
    }
    // In place: the file is bound into the container.
    if (ep.hosts) writeFileSync(ep.hosts.path, ep.hosts.base)
    joinHosts(endpointDir(store, ep.id), ep.hosts?.path)
    refreshHosts(store, ep.attachments.map((a) => a.network), req.isLive)
  } catch (err) {
    teardownContainer(store, req.id)
    throw err
  }
  return ep
}

/**
 * docker's link-local addresses (--link-local-ip, IPAMConfig.LinkLocalIPs): more addresses on
 * the interface, which no CNI reference plugin adds; they go with it at DEL.
 */
export async function addLinkLocal(netns: string, ifname: string, ips: readonly string[] | undefined): Promise<void> {
  for (const ip of ips ?? []) {
    const r = await new Promise<{code: number | null; err: string}>((resolve) => {
      const p = spawn('nsenter', [`--net=${netns}`, 'ip', 'address', 'add', `${ip}/16`, 'dev', ifname], {stdio: ['ignore', 'ignore', 'pipe'], env: {PATH: PLUGIN_PATH_ENV}})
      let err = ''
      p.stderr.on('data', (b: Buffer) => (err += b.toString()))
      p.on('error', (e) => resolve({code: -1, err: e.message}))
      p.on('close', (code) => resolve({code, err}))
    })
    if (r.code !== 0) throw NsxError.internal(`cannot add link-local address ${ip} to ${ifname}: ${r.err.trim() || `exit ${r.code}`}`, 125)
  }
}

/** ADD of one attachment's plugins in order, each given the previous result; its address, gateway and MAC kept. */
export async function addAttachment(a: Attachment, id: string, netns: string, ip?: string): Promise<void> {
  let prev: Record<string, unknown> | undefined
  const args = ip !== undefined ? `IgnoreUnknown=1;IP=${ip}` : undefined
  for (const p of a.plugins) {
    prev = (await execPluginAsync(p.type, {command: 'ADD', containerId: id, netns, ifname: a.ifname, args}, pluginInput(p, {name: cniNetworkName(a.network), cniVersion: a.cniVersion}, prev, runtimeConfigOf(p, a)))) ?? prev
  }
  keepResult(a, prev)
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
        execPlugin(p.type, {command: 'CHECK', containerId: id, netns: ep.netns, ifname: a.ifname}, pluginInput(p, {name: cniNetworkName(a.network), cniVersion: a.cniVersion}, a.result, runtimeConfigOf(p, a)))
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
  reconcileDns(store, isLive)
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
