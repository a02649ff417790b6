import type {PortMapping, Protocol} from './types.js'

/** Published ports as docker port and docker ps print them. */

/** docker port's lines: "80/tcp -> 0.0.0.0:8080". */
export function portLines(ports: readonly PortMapping[], filter?: {port: number; protocol: Protocol}): string[] {
  return ports
    .filter((p) => !filter || (p.containerPort === filter.port && p.protocol === filter.protocol))
    .map((p) => `${p.containerPort}/${p.protocol} -> ${p.hostIP === '' ? '0.0.0.0' : p.hostIP.includes(':') ? `[${p.hostIP}]` : p.hostIP}:${p.hostPort}`)
}

/** docker ps's PORTS column: "0.0.0.0:8080->80/tcp, 0.0.0.0:5353->53/udp", then the exposed ports none publishes ("443/tcp"). */
export function portsColumn(ports: readonly PortMapping[], unpublished: readonly string[] = []): string {
  return [...ports.map((p) => `${p.hostIP === '' ? '0.0.0.0' : p.hostIP}:${p.hostPort}->${p.containerPort}/${p.protocol}`), ...unpublished].join(', ')
}
