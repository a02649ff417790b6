import {existsSync} from 'node:fs'
import {createConnection, Socket} from 'node:net'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {resolveContainer} from '../container/state.js'

/**
 * docker attach: this terminal joined to a detached container's, through its supervisor's
 * socket (native/ctr-attach.c: frames of a type byte, a 2-byte length, the bytes). The detach
 * keys (ctrl-p ctrl-q) leave the container running.
 */

/** docker's --detach-keys: "ctrl-p,ctrl-q", "ctrl-a,x": each a character or ctrl-[a-z@[\\]^_]. */
export function parseDetachKeys(s: string): number[] {
  const keys = s.split(',').map((k) => {
    const m = /^ctrl-(.)$/i.exec(k)
    if (m) {
      const c = m[1].toLowerCase()
      if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 0x60
      const i = '@[\\]^_'.indexOf(c)
      if (i >= 0) return i === 0 ? 0 : 0x1a + i
    } else if (k.length === 1) return k.charCodeAt(0)
    throw NsxError.invalid(`invalid --detach-keys '${s}': expected keys such as ctrl-p,ctrl-q (a character or ctrl-a..z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_)`, 1)
  })
  return keys
}

/** Finds the detach sequence in typed input: bytes to send on, and whether it was typed. Holds a partial match back. */
export class DetachMatcher {
  private held: number[] = []
  constructor(private readonly keys: number[]) {}

  feed(data: Uint8Array): {send: Buffer; detach: boolean} {
    const out: number[] = []
    for (const b of data) {
      if (b === this.keys[this.held.length]) {
        this.held.push(b)
        if (this.held.length === this.keys.length) return {send: Buffer.from(out), detach: true}
        continue
      }
      out.push(...this.held)
      this.held = []
      if (b === this.keys[0]) this.held.push(b)
      else out.push(b)
    }
    return {send: Buffer.from(out), detach: false}
  }
}

/** A frame to the supervisor: 'i' input, 'w' window size, 'c' end of input (ctr-attach.c). */
export function frame(type: 'i' | 'w' | 'c', data: Uint8Array): Buffer {
  const out: Buffer[] = []
  for (let i = 0; i === 0 || i < data.length; i += 65535) {
    const chunk = data.subarray(i, i + 65535)
    out.push(Buffer.from([type.charCodeAt(0), chunk.length >> 8, chunk.length & 0xff]), Buffer.from(chunk))
  }
  return Buffer.concat(out)
}

export function winsizeFrame(rows: number, cols: number): Buffer {
  return frame('w', Buffer.from([rows >> 8, rows & 0xff, cols >> 8, cols & 0xff]))
}

/** Splits the supervisor's frames into stdout and stderr bytes. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0)
  read(data: Buffer, out: (stream: 'o' | 'e', bytes: Buffer) => void): void {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data])
    while (this.buf.length >= 3) {
      const len = (this.buf[1] << 8) | this.buf[2]
      if (this.buf.length < 3 + len) break
      out(this.buf[0] === 0x65 ? 'e' : 'o', this.buf.subarray(3, 3 + len))
      this.buf = this.buf.subarray(3 + len)
    }
  }
}

export interface AttachOptions {
  detachKeys?: string
  /** --no-stdin: output only. */
  noStdin?: boolean
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
}

export type AttachResult = {detached: true; name: string} | {detached: false; name: string; exitCode: number}

/** A connection to a detached container's supervisor (its attach.sock): the CLI's attach and the Engine API's. */
export function connectAttach(dir: string): Promise<Socket> {
  // A unix socket's path is limited to 108 bytes: connect relative to the container's directory.
  const here = process.cwd()
  process.chdir(dir)
  try {
    const sock = createConnection({path: 'attach.sock'})
    return new Promise((resolve, reject) => {
      sock.once('connect', () => resolve(sock))
      sock.once('error', (e) => reject(NsxError.conflict(`cannot attach: ${e.message}`, 1)))
    })
  } finally {
    process.chdir(here)
  }
}

/** What relayAttach joins to the supervisor's socket: this process's side. */
export interface RelayOptions {
  /** The container has a terminal (-t): this one goes raw while typed input is relayed, and its size follows. */
  tty: boolean
  /** Typed input goes to the container (its -i, and not --no-stdin). */
  input: boolean
  /** The detach keys, parsed. */
  keys: number[]
  /** At the end of this stdin, close the container's (docker's StdinOnce: nsx start -ai); else just stop reading. */
  closeStdin?: boolean
  /** Signals nsx receives, passed on (docker's --sig-proxy, without a terminal). */
  forwardSignal?: (signal: NodeJS.Signals) => void
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
}

/** Signals nsx passes on to an attached container without a terminal: those its supervisor forwards. */
const PROXIED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2']

/**
 * This terminal joined to a supervisor's attach socket until the container ends (the socket
 * closes) or the detach keys are typed. The one relay of nsx attach and nsx start -a.
 */
export async function relayAttach(sock: Socket, opts: RelayOptions): Promise<{detached: boolean}> {
  const raw = opts.tty && opts.input && opts.stdin.isTTY
  if (raw) opts.stdin.setRawMode(true)
  const matcher = new DetachMatcher(opts.keys)
  const reader = new FrameReader()
  let detached = false
  const resize = () => {
    if (opts.stdout.isTTY && opts.stdout.rows) sock.write(winsizeFrame(opts.stdout.rows, opts.stdout.columns))
  }
  if (opts.tty) {
    resize()
    opts.stdout.on('resize', resize)
  }
  const onInput = (d: Buffer) => {
    const {send, detach} = matcher.feed(d)
    if (send.length > 0 && !sock.destroyed) sock.write(frame('i', send))
    if (detach) {
      detached = true
      sock.end()
    }
  }
  const onEnd = () => {
    if (opts.closeStdin && !detached && !sock.destroyed) sock.write(frame('c', new Uint8Array(0)))
  }
  if (opts.input) {
    opts.stdin.on('data', onInput)
    opts.stdin.once('end', onEnd)
    opts.stdin.resume()
  }
  const forward = opts.tty || !opts.forwardSignal ? [] : PROXIED
  const onSignal = (sig: NodeJS.Signals) => opts.forwardSignal!(sig)
  for (const sig of forward) process.on(sig, onSignal)
  sock.on('data', (d: Buffer) => reader.read(d, (s, bytes) => (s === 'e' ? opts.stderr : opts.stdout).write(bytes)))
  sock.on('error', () => sock.destroy())
  await new Promise<void>((r) => (sock.destroyed ? r() : sock.once('close', () => r())))
  for (const sig of forward) process.off(sig, onSignal)
  if (raw) opts.stdin.setRawMode(false)
  opts.stdin.off('data', onInput)
  opts.stdin.off('end', onEnd)
  opts.stdin.pause()
  opts.stdout.off('resize', resize)
  return {detached}
}

export async function attachContainer(store: Store, ref: string, opts: AttachOptions): Promise<AttachResult> {
  const keys = parseDetachKeys(opts.detachKeys ?? 'ctrl-p,ctrl-q')
  const c = resolveContainer(store, ref)
  if (c.status !== 'running') throw NsxError.conflict('You cannot attach to a stopped container, start it first', 1)
  if (!existsSync(`${c.dir}/attach.sock`)) throw NsxError.conflict(`container ${c.config.name} was started in the foreground: its terminal is the one of the nsx that started it`, 1)
  const sock = await connectAttach(c.dir)
  const {detached} = await relayAttach(sock, {tty: c.config.spec.tty, input: !opts.noStdin && c.config.spec.interactive, keys, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr})
  if (detached) return {detached: true, name: c.config.name}
  const {waitContainer} = await import('./wait.js')
  const w = await waitContainer(store, c.config.id)
  return {detached: false, name: c.config.name, exitCode: w.exitCode}
}
