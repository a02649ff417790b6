import type {Duplex, Readable, Writable} from 'node:stream'
import type {ApiContext} from './router.js'

/** The two directions of an attach or exec: what the client types, and where output goes. */
export interface Hijacked {
  /** The client's bytes (stdin); ends when the client half-closes its side. */
  input: Readable
  /** Towards the client. */
  output: Writable
  /** Whether the connection was upgraded (101) rather than answered as a plain streamed POST. */
  upgraded: boolean
  /** End the output side; an upgraded socket is half-closed, so input may still arrive until the client closes. */
  end(): void
  /**
   * Resolves once the client has read the 101 head. docker-py reads the head with a buffered
   * reader and then reads the raw socket: output that reached it in the same read as the head
   * would be lost, so nothing is written (or started) before this.
   */
  headRead(): Promise<void>
}

export const RAW_STREAM = 'application/vnd.docker.raw-stream'
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream'

/**
 * Take the connection over for a raw stream. With `Upgrade: tcp` (the docker CLI, docker-py) the
 * answer is docker's `101 UPGRADED` and the socket itself carries both directions; bytes that came
 * with the request past its body are given back to the stream first. Without it (dockerode's plain
 * POST) the answer is a streamed 200 and stdin, if any, is the request body.
 */
export function hijack(ctx: ApiContext, contentType = RAW_STREAM): Hijacked {
  const {upgrade, res} = ctx
  if (upgrade) {
    ;(res as {hijacked?: boolean}).hijacked = true
    const s = upgrade.socket
    const written = new Promise<void>((resolve) => s.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${String(res.getHeader('Api-Version') ?? '')}\r\n\r\n`, () => resolve()))
    if (upgrade.head.length > 0) {
      s.unshift(upgrade.head)
      upgrade.head = Buffer.alloc(0)
    }
    return {
      input: s,
      output: s,
      upgraded: true,
      end: () => {
        if (!s.writableEnded) s.end()
      },
      headRead: () => written.then(() => peerHasRead(s)),
    }
  }
  res.writeHead(200, {'Content-Type': contentType})
  res.flushHeaders()
  return {
    input: ctx.req,
    output: res,
    upgraded: false,
    end: () => {
      if (!res.writableEnded) res.end()
    },
    headRead: () => Promise.resolve(),
  }
}

/** Waits (1 ms steps, 2 s at most) until the peer has read all that was written to s, or s closes. */
async function peerHasRead(s: Duplex): Promise<void> {
  const fd = (s as {_handle?: {fd?: number}})._handle?.fd
  if (fd === undefined || fd < 0) return
  try {
    const {socketUnreadBytes} = await import('../ffi/libc.js')
    const end = Date.now() + 2000
    while (!s.destroyed && socketUnreadBytes(fd) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 1))
  } catch {
    // no koffi: nothing to wait on; the client reads as fast as it can
  }
}
