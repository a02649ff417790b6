import {NsxError, type ErrorKind} from '../cli/errors.js'

/**
 * --sysctl NAME=VALUE, docker's rule (moby opts.ValidateSysctl): only the sysctls of the
 * container's own namespaces, the IPC ones (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)
 * and the network ones (net.*). One of a namespace the container shares with the host or
 * another container is refused: nsx never changes the host's sysctls.
 */
const IPC = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'])

const bad = (msg: string, kind: ErrorKind = 'invalid'): never => {
  throw new NsxError(msg, 125, kind)
}

export function parseSysctl(s: string, modes: {network: string; ipc?: string}): {name: string; value: string} {
  const eq = s.indexOf('=')
  const name = eq < 0 ? s : s.slice(0, eq)
  const value = eq < 0 ? '' : s.slice(eq + 1)
  if (eq <= 0 || !/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/.test(name) || /[\n\0]/.test(value)) return bad(`invalid --sysctl '${s}': expected NAME=VALUE, e.g. net.ipv4.ip_unprivileged_port_start=0`)
  const ipc = IPC.has(name) || name.startsWith('fs.mqueue.')
  if (!ipc && !name.startsWith('net.')) return bad(`--sysctl ${name} is not supported by nsx: only the sysctls of the container's own namespaces are (net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*), as docker's`)
  if (ipc && (modes.ipc === 'host' || modes.ipc?.startsWith('container:'))) return bad(`--sysctl ${name} is not supported by nsx with --ipc ${modes.ipc}: that IPC namespace is not the container's own`)
  if (!ipc && (modes.network === 'host' || modes.network.startsWith('container:'))) return bad(`--sysctl ${name} is not supported by nsx with --network ${modes.network}: that network namespace is not the container's own`)
  return {name, value}
}
