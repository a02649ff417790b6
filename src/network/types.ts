/**
 * The data of nsx's networks (see docs/networking.md): what a container asks for (NetSpec,
 * part of its saved spec), what a network is (a CNI conflist in the store with nsx's own
 * keys beside the plugins), and what a running container holds on its networks
 * (Endpoint, recorded at CNI ADD and read by DEL, CHECK, inspect, ps, port and gc).
 */

export type Protocol = 'tcp' | 'udp'

/** A network's IPv6 pool (docker's IPv6 IPAM config; src/network/ipv6.ts). */
export interface Ipv6Pool {
  subnet: string
  gateway: string
  ipRange?: string
  auxAddresses?: Record<string, string>
}

/** One -p/--publish (or -P) mapping, the CNI portmap plugin's portMappings entry. */
export interface PortMapping {
  hostIP: string
  hostPort: number
  containerPort: number
  protocol: Protocol
}

/** A container's network request, from --network, -p, -P, --ip, --mac-address, --network-alias. */
export interface NetSpec {
  /** -p as given (parsed at start, when free host ports are picked); -P adds the image's EXPOSEd ports. */
  publish: string[]
  publishAll: boolean
  /** The image's ExposedPorts ("80/tcp"), for -P. */
  exposed: string[]
  ip?: string
  ip6?: string
  mac?: string
  aliases: string[]
  /** --link-local-ip: more addresses on the first network's interface (docker's IPAMConfig.LinkLocalIPs). */
  linkLocalIps?: string[]
  /** The Engine API's EndpointsConfig DriverOpts of the first network: kept and shown (the bridge driver reads none, as docker's). */
  driverOpts?: Record<string, string>
  /**
   * The networks the container is on, in order, once `network connect`/`disconnect` changed
   * them (until then: the --network list); may be empty (a container disconnected from all).
   */
  networks?: string[]
  /** Per network (by name): the aliases and address `network connect --alias/--ip` (or the Engine API's EndpointsConfig) asked for. */
  endpoints?: Record<string, EndpointRequest>
}

export interface EndpointRequest {
  aliases?: string[]
  ip?: string
  /** --ip6 (IPAMConfig.IPv6Address): taken on a network with IPv6 on; kept and shown on one without, as docker's daemon does. */
  ip6?: string
  linkLocalIps?: string[]
  driverOpts?: Record<string, string>
  /** Links on this network (the Engine API's EndpointConfig.Links, NAME:ALIAS). */
  links?: Array<{name: string; alias: string}>
}

/** nsx's own keys of a conflist (a CNI runtime ignores keys it does not know, as nerdctl's do). */
export interface NetworkMeta {
  id: string
  /** The docker name, when it is not the conflist's (a second network of one name, made through the Engine API without CheckDuplicate: ROOT/networks/NAME:ID12.conflist). */
  name?: string
  created: string
  driver: 'bridge'
  subnet: string
  gateway: string
  /** docker's --ip-range: the part of the subnet addresses are handed out from (host-local's range: a static --ip too). */
  ipRange?: string
  /** docker's --aux-address NAME=IP: addresses of the subnet never handed out. */
  auxAddresses?: Record<string, string>
  bridge: string
  internal: boolean
  labels: Record<string, string>
  /** The driver options given at create (docker's Options: kept and shown, none changes the bridge). */
  options?: Record<string, string>
  /** docker's --attachable (meaningful for swarm's overlays): kept and shown. */
  attachable?: boolean
  /** docker's IPv6 IPAM config: kept and shown; handed out only with enableIPv6 (--ipv6), as docker's. */
  ipv6?: Ipv6Pool
  enableIPv6?: boolean
  /** com.docker.network.bridge.enable_ip_masquerade=false: no outbound NAT (the routes stay). */
  noMasquerade?: boolean
  /** com.docker.network.driver.mtu: the bridge's and its veths' MTU. */
  mtu?: number
  /** NAT and forwarding by one set of rules per network (src/network/hostrules.ts), not per container by plugins. */
  ownRules?: boolean
}

/** A network: its conflist (CNI spec 1.0.0), with nsx's metadata under "nsx". */
export interface NetworkConfList {
  cniVersion: string
  name: string
  plugins: Array<Record<string, unknown> & {type: string}>
  nsx: NetworkMeta
}

/** One network attachment of a container: what CNI ADD gave and what DEL needs. */
export interface Attachment {
  network: string
  networkId: string
  ifname: string
  /** Address with its prefix length (10.88.0.5/16), gateway and MAC, from the ADD result. */
  address: string
  gateway?: string
  /** The IPv6 address (with its prefix length) and gateway, on a network with IPv6 on. */
  address6?: string
  gateway6?: string
  /** Addresses asked of host-local beside CNI_ARGS' IPv4 one (runtimeConfig ips: a static IPv6 address). */
  ips?: string[]
  mac?: string
  aliases: string[]
  /** Links (--link NAME:ALIAS, an endpoint's Links): ALIAS names the container NAME on this network, by DNS (src/network/dns.ts), once NAME runs. */
  links?: Array<{name: string; alias: string}>
  ports: PortMapping[]
  /** The plugin configurations ADD ran, in order (DEL and CHECK run the same, with the result). */
  plugins: Array<Record<string, unknown> & {type: string}>
  /** The result of the last plugin (CNI's cached result: DEL's and CHECK's prevResult). */
  result: Record<string, unknown>
  cniVersion: string
}

/** What a container holds on its networks while it runs: ROOT/networks/endpoints/<id>/endpoint.json. */
export interface Endpoint {
  id: string
  name: string
  hostname: string
  netns: string
  attachments: Attachment[]
  /** Its --dns servers: the DNS server of its user-defined networks forwards its other queries there (src/network/dns.ts). */
  dns?: string[]
  /** The container's /etc/hosts (rewritten in place when peers come and go) and its own part. */
  hosts?: {path: string; base: string}
}
