import type {Socket} from 'node:net'

/** Who connected: SO_PEERCRED of a unix-socket connection, read once per connection. */
export interface PeerCred {
  pid: number
  uid: number
  gid: number
}

const cache = new WeakMap<Socket, PeerCred | null>()

/** The peer of a connection, or undefined for a TCP one (or when the kernel will not say). */
export async function peerOf(socket: Socket): Promise<PeerCred | undefined> {
  const known = cache.get(socket)
  if (known !== undefined) return known ?? undefined
  const fd = (socket as unknown as {_handle?: {fd?: number}})._handle?.fd
  let cred: PeerCred | null = null
  if (typeof fd === 'number' && fd >= 0 && socket.remoteAddress === undefined) {
    try {
      const {peerCredentials} = await import('../ffi/libc.js')
      cred = peerCredentials(fd)
    } catch {
      cred = null
    }
  }
  cache.set(socket, cred)
  return cred ?? undefined
}
