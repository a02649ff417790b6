import type {Endpoint, PortMapping} from './types.js'

/**
 * docker inspect's NetworkSettings of a container, from its endpoint (src/network/records.ts)
 * while it runs; empty values otherwise, as docker shows for a stopped container.
 */
export interface NetworkSettings {
  Bridge: string
  SandboxKey: string
  /** "80/tcp": [{HostIp, HostPort}] (null for an exposed port that is not published). */
  Ports: Record<string, Array<{HostIp: string; HostPort: string}> | null>
  IPAddress: string
  IPPrefixLen: number
  Gateway: string
  MacAddress: string
  Networks: Record<string, EndpointSettings>
}

export interface EndpointSettings {
  IPAMConfig: {IPv4Address: string} | null
  Links: null
  Aliases: string[] | null
  NetworkID: string
  EndpointID: string
  Gateway: string
  IPAddress: string
  IPPrefixLen: number
  MacAddress: string
}

export function portsMap(ports: readonly PortMapping[]): NetworkSettings['Ports'] {
  const out: NetworkSettings['Ports'] = {}
  for (const p of ports) (out[`${p.containerPort}/${p.protocol}`] ??= []).push({HostIp: p.hostIP === '' ? '0.0.0.0' : p.hostIP, HostPort: String(p.hostPort)})
  return out
}

export function networkSettings(ep: Endpoint | undefined, mode: string, requestedIp?: string): NetworkSettings {
  const s: NetworkSettings = {Bridge: '', SandboxKey: ep?.netns ?? '', Ports: {}, IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', Networks: {}}
  if (!ep) {
    if (mode === 'none' || mode === 'host') s.Networks[mode] = {IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: ''}
    return s
  }
  ep.attachments.forEach((a, i) => {
    const [ip, prefix] = a.address.split('/')
    const e: EndpointSettings = {
      IPAMConfig: i === 0 && requestedIp ? {IPv4Address: requestedIp} : null,
      Links: null,
      Aliases: a.aliases.length > 0 ? a.aliases : null,
      NetworkID: a.networkId,
      EndpointID: `${ep.id.slice(0, 32)}${a.networkId.slice(0, 32)}`,
      Gateway: a.gateway ?? '',
      IPAddress: ip ?? '',
      IPPrefixLen: Number(prefix ?? 0),
      MacAddress: a.mac ?? '',
    }
    s.Networks[a.network] = e
    if (i === 0) {
      Object.assign(s, {IPAddress: e.IPAddress, IPPrefixLen: e.IPPrefixLen, Gateway: e.Gateway, MacAddress: e.MacAddress})
      s.Ports = portsMap(a.ports)
    }
  })
  return s
}
