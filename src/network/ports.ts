import {createServer} from 'node:net'
import {createSocket} from 'node:dgram'
import {isIP} from 'node:net'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import type {NetSpec, PortMapping, Protocol} from './types.js'

/**
 * -p/--publish and -P, docker's syntax and rules: `[IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`,
 * ports or equal-length ranges (80-81:8080-8081); a missing host port is a free one picked
 * here; a host port already taken (by a process of this network namespace or by another
 * container's mapping) is an error before the container starts.
 */

const bad = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 125, kind)
}

/** A publish request before its free host ports are picked (hostPort 0 = any). */
export interface PublishRequest extends PortMapping {}

function portRange(s: string, what: string, spec: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s)
  if (!m) return bad(`invalid --publish '${spec}': ${what} '${s}' is not a port or a range`)
  const a = Number(m[1])
  const b = m[2] === undefined ? a : Number(m[2])
  if (a < 1 || b > 65535 || b < a) return bad(`invalid --publish '${spec}': ${what} '${s}' is out of range (1-65535)`)
  return [a, b]
}

export function parsePublish(spec: string): PublishRequest[] {
  let rest = spec
  let protocol: Protocol = 'tcp'
  const slash = rest.lastIndexOf('/')
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase()
    if (p !== 'tcp' && p !== 'udp') return bad(`invalid --publish '${spec}': protocol '${p}' (tcp or udp)`)
    protocol = p
    rest = rest.slice(0, slash)
  }
  let hostIP = ''
  // [::1]:8080:80 or 127.0.0.1:8080:80
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest)
  let parts: string[]
  if (v6) {
    hostIP = v6[1]
    parts = v6[2].split(':')
  } else {
    parts = rest.split(':')
    if (parts.length === 3) hostIP = parts.shift()!
  }
  if (parts.length > 2 || parts.some((p, i) => p === '' && i === parts.length - 1)) return bad(`invalid --publish '${spec}': expected [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]`)
  if (hostIP !== '' && isIP(hostIP) === 0) return bad(`invalid --publish '${spec}': '${hostIP}' is not an IP address`)
  const ctr = portRange(parts[parts.length - 1], 'container port', spec)
  const host = parts.length === 2 && parts[0] !== '' ? portRange(parts[0], 'host port', spec) : undefined
  const n = ctr[1] - ctr[0] + 1
  if (host && host[1] - host[0] + 1 !== n) return bad(`invalid --publish '${spec}': the host and container ranges differ in length`)
  return Array.from({length: n}, (_, i) => ({hostIP, hostPort: host ? host[0] + i : 0, containerPort: ctr[0] + i, protocol}))
}

/** -P: every EXPOSEd port ("80/tcp", "53/udp", "8080") to a free host port. */
export function exposedRequests(exposed: readonly string[]): PublishRequest[] {
  return exposed.flatMap((e) => {
    const [port, proto = 'tcp'] = e.split('/')
    if (!/^\d{1,5}$/.test(port) || (proto !== 'tcp' && proto !== 'udp')) return []
    return [{hostIP: '', hostPort: 0, containerPort: Number(port), protocol: proto as Protocol}]
  })
}

const overlaps = (a: PortMapping, b: PortMapping) =>
  a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIP === '' || b.hostIP === '' || a.hostIP === b.hostIP || a.hostIP === '0.0.0.0' || b.hostIP === '0.0.0.0')

/** Whether this network namespace lets a socket bind the port now (nothing else listens there). */
export function canBind(hostIP: string, port: number, protocol: Protocol): Promise<boolean> {
  const host = hostIP === '' ? '0.0.0.0' : hostIP
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4')
      s.once('error', () => {
        s.close()
        resolve(false)
      })
      s.bind({address: host, port, exclusive: true}, () => s.close(() => resolve(true)))
      return
    }
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen({host, port, exclusive: true}, () => srv.close(() => resolve(true)))
  })
}

async function freePort(hostIP: string, protocol: Protocol, taken: readonly PortMapping[]): Promise<number> {
  // The kernel's ephemeral range, as docker's allocator uses it; tried from a random point.
  for (let i = 0; i < 200; i++) {
    const port = 32768 + Math.floor(Math.random() * (60999 - 32768))
    const m = {hostIP, hostPort: port, containerPort: 0, protocol}
    if (taken.some((t) => overlaps(t, m))) continue
    if (await canBind(hostIP, port, protocol)) return port
  }
  return bad('no free host port left to publish on', 'unavailable')
}

/**
 * The mappings to install: free ports picked for the requests that named none, and each
 * one checked against `taken` (the other running containers' mappings) and against the
 * sockets of this network namespace. Docker's message for a taken port.
 */
export async function allocatePorts(requests: readonly PublishRequest[], taken: readonly PortMapping[]): Promise<PortMapping[]> {
  const out: PortMapping[] = []
  for (const r of requests) {
    const m = {...r}
    if (m.hostPort === 0) m.hostPort = await freePort(m.hostIP, m.protocol, [...taken, ...out])
    else {
      const where = `${m.hostIP || '0.0.0.0'}:${m.hostPort}`
      const other = [...taken, ...out].find((t) => overlaps(t, m))
      if (other) bad(`Bind for ${where}/${m.protocol} failed: port is already allocated`, 'conflict')
      if (!(await canBind(m.hostIP, m.hostPort, m.protocol))) bad(`Bind for ${where}/${m.protocol} failed: port is already in use on the host`, 'conflict')
    }
    out.push(m)
  }
  return out
}


const portKey = (port: number | string, protocol: string) => `${port}/${protocol}`

/** -p specs, each parsed; one that does not parse (it would have failed the start) is left out. */
function publishedRequests(publish: readonly string[]): PublishRequest[] {
  return publish.flatMap((spec) => {
    try {
      return parsePublish(spec)
    } catch {
      return []
    }
  })
}

/** docker's Config.ExposedPorts keys ("80/tcp"): the image's EXPOSEd ports and each -p container port, in order. */
export function exposedKeys(net: Pick<NetSpec, 'exposed' | 'publish'> | undefined): string[] {
  if (!net) return []
  const keys = [
    ...exposedRequests(net.exposed).map((r) => portKey(r.containerPort, r.protocol)),
    ...publishedRequests(net.publish).map((r) => portKey(r.containerPort, r.protocol)),
  ]
  return [...new Set(keys)]
}

/** docker's HostConfig.PortBindings: each -p as asked ("" for an address or port to be picked). */
export function portBindings(publish: readonly string[]): Record<string, Array<{HostIp: string; HostPort: string}>> {
  const out: Record<string, Array<{HostIp: string; HostPort: string}>> = {}
  for (const r of publishedRequests(publish)) (out[portKey(r.containerPort, r.protocol)] ??= []).push({HostIp: r.hostIP, HostPort: r.hostPort === 0 ? '' : String(r.hostPort)})
  return out
}

/** The exposed ports no mapping publishes ("443/tcp"): docker ps lists them bare, inspect's Ports with null. */
export function unpublishedKeys(net: Pick<NetSpec, 'exposed' | 'publish'> | undefined, ports: readonly PortMapping[]): string[] {
  const published = new Set(ports.map((p) => portKey(p.containerPort, p.protocol)))
  return exposedKeys(net).filter((k) => !published.has(k))
}
