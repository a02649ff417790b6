import {readFileSync, writeFileSync} from 'node:fs'
import {isIP} from 'node:net'
import {NsxError, type ErrorKind} from '../cli/errors.js'

/**
 * The /etc/hosts, /etc/hostname and /etc/resolv.conf a container gets, as docker and
 * podman write them: files of the container's own directory, bind-mounted over the
 * image's. Pure text from data (the addresses come from the network, none yet for
 * `none` and `host`); only hostResolvConf and hostHosts read the host.
 */

/** What feeds them: --hostname, --add-host, --dns, --dns-search, --dns-option and the network. */
export interface EtcSpec {
  hostname: string
  /** The container's name, an alias of its hostname when it differs. */
  name: string
  /** The network mode (none, host, bridge, container:NAME, a network's name). */
  network: string
  /** The container's own addresses on its networks (bridge); empty for none and host. */
  addresses: string[]
  /** --add-host NAME:IP, in the order given. */
  extraHosts: {name: string; ip: string}[]
  /** --dns, --dns-search, --dns-option: replace the host's lines of that kind when given. */
  dns: string[]
  dnsSearch: string[]
  dnsOptions: string[]
  /** Which of the files to bind (default all three; a build's RUN step: hosts and resolv.conf, as BuildKit). */
  bind?: EtcFile[]
}

export type EtcFile = 'hosts' | 'hostname' | 'resolv.conf'

const bad = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 125, kind)
}

const HOSTNAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-.]*[a-zA-Z0-9])?$/

/** --add-host NAME:IP (docker also takes NAME=IP); the IP may be IPv6 (the first ':' splits). */
export function parseAddHost(value: string): {name: string; ip: string} {
  const sep = value.includes('=') ? value.indexOf('=') : value.indexOf(':')
  const name = sep < 0 ? '' : value.slice(0, sep)
  let ip = sep < 0 ? '' : value.slice(sep + 1)
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1)
  if (!name || !HOSTNAME_RE.test(name) || name.length > 255) return bad(`invalid --add-host '${value}': expected NAME:IP, e.g. db:10.0.0.5`)
  if (ip === 'host-gateway') return bad(`invalid --add-host '${value}': host-gateway needs a bridge network (not yet supported)`)
  if (isIP(ip) === 0) return bad(`invalid --add-host '${value}': '${ip}' is not an IPv4 or IPv6 address`)
  return {name, ip}
}

export function parseDnsServer(value: string): string {
  if (isIP(value) === 0) bad(`invalid --dns '${value}': not an IPv4 or IPv6 address`)
  return value
}

export function parseDnsSearch(value: string): string {
  if (value !== '.' && (!HOSTNAME_RE.test(value) || value.length > 253)) bad(`invalid --dns-search '${value}': not a domain name`)
  return value
}

export function parseDnsOption(value: string): string {
  if (/\s/.test(value)) bad(`invalid --dns-option '${value}': one option, no spaces (e.g. ndots:2)`)
  return value
}

const IPV6_DEFAULTS = ['::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters']

/**
 * /etc/hosts: the host's own file for --network host (the host's names are the
 * container's), docker's default entries otherwise; then --add-host; then the
 * container's hostname (and name) on its addresses, or on the loopback addresses when it
 * has none of its own (podman's rule), so `getent hosts "$(hostname)"` always answers.
 */
export function hostsFile(spec: EtcSpec, hostHosts: string | undefined): string {
  const lines: string[] = []
  if (spec.network === 'host' && hostHosts !== undefined) lines.push(...hostHosts.replace(/\n+$/, '').split('\n'))
  else lines.push('127.0.0.1\tlocalhost', ...IPV6_DEFAULTS)
  for (const h of spec.extraHosts) lines.push(`${h.ip}\t${h.name}`)
  const names = spec.name !== spec.hostname ? `${spec.hostname} ${spec.name}` : spec.hostname
  if (spec.addresses.length > 0) for (const a of spec.addresses) lines.push(`${a}\t${names}`)
  else lines.push(`127.0.0.1\t${names}`, `::1\t${names}`)
  return `${lines.join('\n')}\n`
}

export function hostnameFile(spec: EtcSpec): string {
  return `${spec.hostname}\n`
}

interface ResolvConf {
  nameservers: string[]
  search: string[]
  options: string[]
  /** Anything else (comments, sortlist, domain), kept in order. */
  other: string[]
}

function parseResolvConf(text: string): ResolvConf {
  const r: ResolvConf = {nameservers: [], search: [], options: [], other: []}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    const [key, ...rest] = line.split(/\s+/)
    if (key === 'nameserver' && rest[0]) r.nameservers.push(rest[0])
    else if (key === 'search' || key === 'domain') r.search = rest
    else if (key === 'options') r.options.push(...rest)
    else if (line !== '' && !line.startsWith('#') && !line.startsWith(';')) r.other.push(line)
  }
  return r
}

const isLoopback = (ip: string) => /^127\./.test(ip) || ip === '::1'

/** docker's fallback when no usable nameserver is left (libnetwork resolvconf's defaults). */
const DEFAULT_DNS = ['8.8.8.8', '8.8.4.4']

/**
 * /etc/resolv.conf from the host's (see hostResolvConf) and the --dns flags. In a network
 * namespace of its own the container cannot reach the host's loopback resolvers, so those
 * are dropped (docker's rule), and docker's defaults stand in when none is left.
 */
export function resolvConf(spec: EtcSpec, hostText: string | undefined): string {
  const host = parseResolvConf(hostText ?? '')
  let servers = spec.dns.length > 0 ? spec.dns : host.nameservers
  if (spec.dns.length === 0 && spec.network !== 'host') {
    servers = servers.filter((s) => !isLoopback(s))
    if (servers.length === 0) servers = DEFAULT_DNS
  }
  const search = spec.dnsSearch.length > 0 ? spec.dnsSearch.filter((s) => s !== '.') : host.search
  const options = spec.dnsOptions.length > 0 ? spec.dnsOptions : host.options
  const lines = ['# Generated by nsx for this container', ...host.other.filter((l) => !l.startsWith('sortlist') || spec.network === 'host')]
  if (search.length > 0) lines.push(`search ${search.join(' ')}`)
  for (const s of servers) lines.push(`nameserver ${s}`)
  if (options.length > 0) lines.push(`options ${options.join(' ')}`)
  return `${lines.join('\n')}\n`
}

const readOptional = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

const SYSTEMD_STUB = '127.0.0.53'
const SYSTEMD_UPSTREAM = '/run/systemd/resolve/resolv.conf'

/**
 * The host's resolv.conf; when it names only systemd-resolved's stub (127.0.0.53, reachable
 * only in the host's network namespace and answering for the host's links), the upstream
 * file resolved keeps beside it, as docker does.
 */
export function hostResolvConf(path = '/etc/resolv.conf', upstream = SYSTEMD_UPSTREAM): string | undefined {
  const text = readOptional(path)
  if (text === undefined) return undefined
  const servers = parseResolvConf(text).nameservers
  if (servers.length > 0 && servers.every((s) => s === SYSTEMD_STUB)) return readOptional(upstream) ?? text
  return text
}

export function hostHosts(path = '/etc/hosts'): string | undefined {
  return readOptional(path)
}

/** The three files, by their name in the container's directory. */
export function etcFiles(spec: EtcSpec, host: {resolvConf?: string; hosts?: string}): Record<EtcFile, string> {
  return {hosts: hostsFile(spec, host.hosts), hostname: hostnameFile(spec), 'resolv.conf': resolvConf(spec, host.resolvConf)}
}

/** Write the three files into DIR (the container's directory), where the plan binds them from. */
export function writeEtcFiles(dir: string, spec: EtcSpec): void {
  for (const [file, text] of Object.entries(etcFiles(spec, {resolvConf: hostResolvConf(), hosts: hostHosts()}))) writeFileSync(`${dir}/${file}`, text, {mode: 0o644})
}

/** Where each is bound in the container. */
export const ETC_TARGETS = {hosts: '/etc/hosts', hostname: '/etc/hostname', 'resolv.conf': '/etc/resolv.conf'} as const
