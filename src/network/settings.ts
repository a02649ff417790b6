import type {EndpointRequest, Endpoint, PortMapping} from './types.js'

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
  /** What was asked (docker's EndpointIPAMConfig, each field omitted when not given), null when nothing was. */
  IPAMConfig: {IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[]} | null
  /** Arrays, empty when there are none (moby's 1.41 definition; its daemon sends null). */
  Links: string[]
  Aliases: string[]
  NetworkID: string
  EndpointID: string
  Gateway: string
  IPAddress: string
  IPPrefixLen: number
  MacAddress: string
  IPv6Gateway: string
  GlobalIPv6Address: string
  GlobalIPv6PrefixLen: number
  DriverOpts: Record<string, string> | null
}

export function portsMap(ports: readonly PortMapping[]): NetworkSettings['Ports'] {
  const out: NetworkSettings['Ports'] = {}
  for (const p of ports) (out[`${p.containerPort}/${p.protocol}`] ??= []).push({HostIp: p.hostIP === '' ? '0.0.0.0' : p.hostIP, HostPort: String(p.hostPort)})
  return out
}

/** The networks a container asked for (src/network/connect.ts networkList), each with its network's id. */
export interface ConfiguredNetworks {
  networks: string[]
  endpoints: Record<string, EndpointRequest>
  idOf?: (network: string) => string
}

const NO_IPV6 = {IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DriverOpts: null}

const emptyEndpoint = (): EndpointSettings => ({IPAMConfig: null, Links: [], Aliases: [], NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', ...NO_IPV6})

const ipamConfig = (req: EndpointRequest | undefined) =>
  req?.ip || req?.ip6 || req?.linkLocalIps?.length ? {...(req.ip ? {IPv4Address: req.ip} : {}), ...(req.ip6 ? {IPv6Address: req.ip6} : {}), ...(req.linkLocalIps?.length ? {LinkLocalIPs: req.linkLocalIps} : {})} : null

/**
 * A running container's settings come from its endpoint; a created or stopped one shows the
 * networks it will join (no address yet), as docker shows them, so clients that connect before
 * starting (docker-compose) see where it stands.
 */
export function networkSettings(ep: Endpoint | undefined, mode: string, configured?: ConfiguredNetworks): NetworkSettings {
  const s: NetworkSettings = {Bridge: '', SandboxKey: ep?.netns ?? '', Ports: {}, IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', Networks: {}}
  if (!ep) {
    if (mode === 'none' || mode === 'host') s.Networks[mode] = emptyEndpoint()
    else for (const n of configured?.networks ?? []) {
      const req = configured?.endpoints[n] ?? {}
      s.Networks[n] = {...emptyEndpoint(), IPAMConfig: ipamConfig(req), Links: (req.links ?? []).map((l) => `${l.name}:${l.alias}`), Aliases: req.aliases ?? [], NetworkID: configured?.idOf?.(n) ?? '', DriverOpts: req.driverOpts ?? null}
    }
    return s
  }
  ep.attachments.forEach((a, i) => {
    const [ip, prefix] = a.address.split('/')
    const e: EndpointSettings = {
      IPAMConfig: ipamConfig(configured?.endpoints[a.network]),
      Links: (a.links ?? []).map((l) => `${l.name}:${l.alias}`),
      Aliases: a.aliases,
      NetworkID: a.networkId,
      EndpointID: `${ep.id.slice(0, 32)}${a.networkId.slice(0, 32)}`,
      Gateway: a.gateway ?? '',
      IPAddress: ip ?? '',
      IPPrefixLen: Number(prefix ?? 0),
      MacAddress: a.mac ?? '',
      ...NO_IPV6,
      ...(a.address6 ? {GlobalIPv6Address: a.address6.split('/')[0], GlobalIPv6PrefixLen: Number(a.address6.split('/')[1] ?? 0), IPv6Gateway: a.gateway6 ?? ''} : {}),
      DriverOpts: configured?.endpoints[a.network]?.driverOpts ?? null,
    }
    s.Networks[a.network] = e
    if (i === 0) {
      Object.assign(s, {IPAddress: e.IPAddress, IPPrefixLen: e.IPPrefixLen, Gateway: e.Gateway, MacAddress: e.MacAddress})
      s.Ports = portsMap(a.ports)
    }
  })
  return s
}
