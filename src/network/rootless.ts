import {accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {PLUGIN_PATH_ENV} from './cni.js'
import {allocatePorts, exposedRequests, parsePublish} from './ports.js'
import {endpointDir, listEndpoints, teardownContainer, teardownPath} from './records.js'
import type {Endpoint, NetSpec, PortMapping} from './types.js'

/**
 * A rootless container's network, as rootless podman makes it: a user-mode network stack,
 * Debian's `pasta` (package passt) first, `slirp4netns` when there is no pasta. An ordinary
 * user cannot make a veth, a bridge or a NAT rule; these programs join the container's own
 * user and network namespaces (by its init's pid), make a tap interface there with the
 * host's address and default route (pasta) or 10.0.2.100/24 (slirp4netns), and carry its
 * traffic through ordinary sockets of the user on the host; a published port is a socket
 * they listen on in the host's network namespace.
 *
 * When: the executor's supervisor runs ROOT/networks/endpoints/<id>/attach with the init's
 * pid once the init has made its network namespace (the plan's ctr-net-hook and
 * ctr-net-ready), so the command has its network before it runs; the helper's pid is kept
 * beside it, and `teardown` (the same file every end of a container runs: the supervisor's
 * exit hook, nsx rm, a failed start, nsx gc) stops it. The endpoint record (the ports) is
 * the one bridge networks write, so nsx port, inspect and ps read it as theirs.
 *
 * The host's loopback: pasta (unless --no-map-gw) maps connections to the gateway address
 * to the host's 127.0.0.1, and slirp4netns maps 10.0.2.2 the same way (unless
 * --disable-host-loopback): nsx keeps both tools' defaults, so a container reaches a server
 * on the host's loopback through its gateway (podman turns both off by default).
 * Forwarding from the container's own loopback to the host's (pasta's -T/-U auto) is off.
 */

export type RootlessStack = 'pasta' | 'slirp4netns'

/** The --network values that ask for a user-mode stack by name (podman's). */
export const USER_MODE_NETWORKS: readonly string[] = ['pasta', 'slirp4netns']

/** The pid of the helper is checked against these names before teardown signals it (pasta runs as passt.avx2 on x86-64). */
const HELPER_COMMS = ['pasta', 'pasta.avx2', 'passt', 'passt.avx2', 'slirp4netns']

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

function onPath(cmd: string): string | undefined {
  for (const dir of PLUGIN_PATH_ENV.split(':')) {
    const p = join(dir, cmd)
    if (existsSync(p)) return p
  }
  return undefined
}

/** The stack a mode asks for: pasta or slirp4netns by name; any other network (bridge, the default): pasta, else slirp4netns. */
export function pickStack(mode: string, find: (cmd: string) => string | undefined = onPath): {stack: RootlessStack; path: string} {
  const wanted: RootlessStack[] = mode === 'pasta' || mode === 'slirp4netns' ? [mode] : ['pasta', 'slirp4netns']
  for (const stack of wanted) {
    const path = find(stack)
    if (path) return {stack, path}
  }
  const pkg = (s: RootlessStack) => (s === 'pasta' ? 'pasta (Debian package passt)' : 'slirp4netns (Debian package slirp4netns)')
  throw NsxError.internal(`--network ${mode} as an ordinary user needs ${wanted.map(pkg).join(' or ')}: none is installed (or use --network none or host)`, 125)
}

/** Both stacks open /dev/net/tun inside the container's namespaces: it must be open to the user (udev makes it 0666). */
function checkTun(stack: RootlessStack): void {
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK)
  } catch {
    throw NsxError.internal(`--network ${stack} as an ordinary user needs /dev/net/tun readable and writable by you (crw-rw-rw-, as udev makes it); here it is not: use --network none or host`, 125)
  }
}

/** pasta's -t/-u specs of the mappings: [ADDR/]HOST:CTR, comma-separated; none when there are none (its default, auto, would forward every port bound inside). */
export function pastaPortArgs(ports: readonly PortMapping[]): string[] {
  const spec = (proto: 'tcp' | 'udp') => {
    const list = ports.filter((p) => p.protocol === proto)
    return list.length === 0 ? ['none'] : list.map((p) => `${p.hostIP === '' || p.hostIP === '0.0.0.0' ? '' : `${p.hostIP}/`}${p.hostPort}:${p.containerPort}`)
  }
  return [...spec('tcp').flatMap((s) => ['-t', s]), ...spec('udp').flatMap((s) => ['-u', s])]
}

/** pasta's arguments (before --pid and the init's pid): the namespace configured, eth0, the ports, nothing forwarded from the container's loopback. */
export function pastaArgs(ports: readonly PortMapping[]): string[] {
  return ['--config-net', '--quiet', '--ns-ifname', 'eth0', ...pastaPortArgs(ports), '-T', 'none', '-U', 'none']
}

/** slirp4netns' add_hostfwd requests (its API socket), one per mapping. */
export function slirpForwards(ports: readonly PortMapping[]): Array<Record<string, unknown>> {
  return ports.map((p) => ({execute: 'add_hostfwd', arguments: {proto: p.protocol, host_addr: p.hostIP === '' ? '0.0.0.0' : p.hostIP, host_port: p.hostPort, guest_port: p.containerPort}}))
}

/** The attach script: the previous helper stopped (a --restart), then the stack started on the init's pid ($1). */
export function attachScript(o: {name: string; id: string; dir: string; stack: RootlessStack; path: string; ports: readonly PortMapping[]}): string {
  const lines = [
    '#!/bin/sh',
    `# Written by nsx: the user-mode network (${o.stack}) of rootless container ${o.name} (${o.id}),`,
    "# run by its supervisor with the init's pid once the init has its network namespace.",
    `PATH=${PLUGIN_PATH_ENV}`,
    `D=${shq(o.dir)}`,
    '"$D/teardown" --helper-only',
  ]
  if (o.stack === 'pasta') {
    lines.push(
      `${shq(o.path)} ${pastaArgs(o.ports).map(shq).join(' ')} --pid "$D/helper.pid" "$1" 2>"$D/helper.err" && exit 0`,
      `echo "rootless network (pasta): $(grep -v -e syslog -e 'No external routable interface for IPv6' "$D/helper.err" | tail -n 1)" >&2`,
      'exit 1',
    )
  } else {
    const forwards = slirpForwards(o.ports)
    lines.push(
      'rm -f "$D/ready" "$D/api.sock"; mkfifo "$D/ready" || exit 1',
      // In the background, in a session of its own; --ready-fd says when eth0 is configured.
      // Its API socket by a relative path (a socket's path is at most 107 bytes; the store's may be longer).
      'cd "$D" || exit 1',
      `setsid ${shq(o.path)} --configure --mtu=65520 --api-socket api.sock --ready-fd=3 "$1" eth0 3>"$D/ready" </dev/null >"$D/helper.err" 2>&1 &`,
      'echo $! > "$D/helper.pid"',
      'read -r ok < "$D/ready"; rm -f "$D/ready"',
      `[ "$ok" = 1 ] || { echo "rootless network (slirp4netns): $(grep -v -e '^\\*' -e '^WARNING' -e '^Starting slirp' -e 'tapfd=' -e '^do_slirp' -e '^parent failed' "$D/helper.err" | head -n 1)" >&2; "$D/teardown" --helper-only; exit 1; }`,
    )
    if (forwards.length > 0) {
      // Its port forwards are requests on its API socket (a JSON request, a JSON reply, per connection).
      const js = `const net=require('net');const [sock,...reqs]=process.argv.slice(1);(async()=>{for(const r of reqs){const reply=await new Promise((res,rej)=>{const c=net.connect(sock);let b='';c.on('data',(d)=>b+=d);c.on('end',()=>res(b));c.on('error',rej);c.end(r)});const j=JSON.parse(reply||'{}');if(j.error){const a=JSON.parse(r).arguments;console.error('rootless network (slirp4netns): cannot publish '+a.host_addr+':'+a.host_port+'/'+a.proto+': '+(j.error.desc||JSON.stringify(j.error)));process.exit(1)}}})().catch((e)=>{console.error('rootless network (slirp4netns): '+e.message);process.exit(1)})`
      lines.push(`${shq(process.execPath)} -e ${shq(js)} api.sock ${forwards.map((f) => shq(JSON.stringify(f))).join(' ')} || { "$D/teardown" --helper-only; exit 1; }`)
    }
  }
  return `${lines.join('\n')}\n`
}

/** The teardown: the helper stopped (its pid checked to be one), then the record removed (unless --helper-only). */
export function teardownScript(o: {name: string; id: string; dir: string}): string {
  return [
    '#!/bin/sh',
    `# Written by nsx: the end of rootless container ${o.name}'s (${o.id}) user-mode network: its helper stopped, this record removed.`,
    `D=${shq(o.dir)}`,
    'if [ -s "$D/helper.pid" ]; then',
    '  pid=$(cat "$D/helper.pid")',
    '  case "$(cat /proc/$pid/comm 2>/dev/null)" in',
    `    ${HELPER_COMMS.join('|')})`,
    '      kill "$pid" 2>/dev/null',
    '      # Until it has ended (its sockets closed, the published ports free again): gone, or a zombie.',
    '      i=0; while [ $i -lt 250 ] && [ -e /proc/$pid ] && ! grep -q "^[0-9]* (.*) Z" /proc/$pid/stat 2>/dev/null; do sleep 0.02; i=$((i+1)); done ;;',
    '  esac',
    '  rm -f "$D/helper.pid"',
    'fi',
    '[ "$1" = --helper-only ] || rm -rf "$D"',
    '',
  ].join('\n')
}

/** The hooks of a rootless container's plan: the attach run with the init's pid, the teardown at its end. */
export function rootlessPaths(store: Store, id: string): {netHook: string; exitHook: string} {
  return {netHook: join(endpointDir(store, id), 'attach'), exitHook: teardownPath(store, id)}
}

/**
 * Before a rootless container starts: its stack picked, its ports allocated (a host port
 * taken by a process or another container is refused here, in one line, before anything
 * runs), and the record, the attach and the teardown written for its supervisor.
 */
export async function prepareRootless(store: Store, req: {id: string; name: string; hostname: string; mode: string; net: NetSpec; isLive?: (id: string) => boolean}): Promise<Endpoint> {
  teardownContainer(store, req.id)
  const {stack, path} = pickStack(req.mode)
  checkTun(stack)
  if (req.net.ip !== undefined || req.net.mac !== undefined) throw NsxError.internal(`${req.net.ip !== undefined ? '--ip' : '--mac-address'} is not supported with --network ${stack} (a rootless container's address is the user-mode stack's)`, 125)
  const requests = [...req.net.publish.flatMap(parsePublish), ...(req.net.publishAll ? exposedRequests(req.net.exposed) : [])]
  const low = requests.find((r) => r.hostPort !== 0 && r.hostPort < unprivilegedPortStart())
  if (low) throw NsxError.internal(`Bind for ${low.hostIP || '0.0.0.0'}:${low.hostPort}/${low.protocol} failed: an ordinary user cannot publish a port below ${unprivilegedPortStart()} (net.ipv4.ip_unprivileged_port_start)`, 125)
  const taken = listEndpoints(store)
    .filter((e) => e.id !== req.id && (req.isLive?.(e.id) ?? true))
    .flatMap((e) => e.attachments.flatMap((a) => a.ports))
  const ports = await allocatePorts(requests, taken)
  const dir = endpointDir(store, req.id)
  const ep: Endpoint = {
    id: req.id,
    name: req.name,
    hostname: req.hostname,
    netns: '',
    attachments: [{network: stack, networkId: '', ifname: 'eth0', address: '', aliases: req.net.aliases, ports, plugins: [], result: {}, cniVersion: ''}],
  }
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const files: Array<[string, string, number]> = [
    ['endpoint.json', JSON.stringify(ep, null, 2) + '\n', 0o600],
    ['teardown', teardownScript({name: req.name, id: req.id, dir}), 0o700],
    ['attach', attachScript({name: req.name, id: req.id, dir, stack, path, ports}), 0o700],
  ]
  for (const [f, text, mode] of files) {
    writeFileSync(join(dir, `${f}.tmp`), text, {mode})
    chmodSync(join(dir, `${f}.tmp`), mode)
    renameSync(join(dir, `${f}.tmp`), join(dir, f))
  }
  return ep
}

function unprivilegedPortStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim()) || 1024
  } catch {
    return 1024
  }
}
