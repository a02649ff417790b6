import type {Writable} from 'node:stream'

/** docker's stream framing without a tty: [type, 0, 0, 0, size (u32 big-endian)] then the bytes; type 0 stdin, 1 stdout, 2 stderr. */
export function muxFrame(stream: 0 | 1 | 2, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head[0] = stream
  head.writeUInt32BE(data.length, 4)
  return Buffer.concat([head, data])
}

/** Write, and wait for the client to take it when its buffer is full (a slow client slows the stream, never the service's memory). */
export async function writeOut(out: Writable, data: Uint8Array, signal?: AbortSignal): Promise<void> {
  if (out.destroyed || out.writableEnded) return
  if (out.write(data)) return
  await new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done)
      out.off('close', done)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    out.once('drain', done)
    out.once('close', done)
    signal?.addEventListener('abort', done, {once: true})
  })
}
