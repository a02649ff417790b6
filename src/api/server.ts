import {chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync} from 'node:fs'
import {createServer as createHttpServer, IncomingMessage, Server, ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {connect, Socket} from 'node:net'
import {dirname} from 'node:path'
import type {Duplex} from 'node:stream'
import {NsxError} from '../cli/errors.js'
import {packageVersion} from '../cli/version.js'
import {Store} from '../store/store.js'
import {startEvents, stopEvents} from './events.js'
import {ROUTES} from './handlers/index.js'
import {ApiError, messageOf, sendError, sendJson, statusOf} from './http.js'
import {peerOf} from './peer.js'
import {ApiContext, Router, stripVersion} from './router.js'
import {API_VERSION} from './version.js'

export interface ServiceOptions {
  /** `unix:///run/nsx/docker.sock` (the default), a plain path, or `tcp://HOST:PORT` (TLS only). */
  address?: string
  /** The socket's group (name or gid); root's group when unset. */
  group?: string
  tlsCert?: string
  tlsKey?: string
  /** The store's root (NSX_ROOT's default when unset). */
  storeRoot?: string
  /** Where request lines go (stderr by default). */
  log?: (line: string) => void
  /** Socket activation: the listening fds systemd passed (LISTEN_FDS), read from the environment when unset. */
  env?: NodeJS.ProcessEnv
}

export interface Service {
  /** What it listens on, as a DOCKER_HOST value. */
  address: string
  server: Server
  close(): Promise<void>
}

export const DEFAULT_ADDRESS = 'unix:///run/nsx/docker.sock'

type Listen = {kind: 'unix'; path: string} | {kind: 'tcp'; host: string; port: number} | {kind: 'fd'; fd: number}

export function parseAddress(address: string): Listen {
  if (address.startsWith('unix://')) return {kind: 'unix', path: address.slice('unix://'.length)}
  if (address.startsWith('/')) return {kind: 'unix', path: address}
  if (address.startsWith('fd://')) return {kind: 'fd', fd: address === 'fd://' ? 3 : Number(address.slice(5))}
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]*):(\d+)\/?$/.exec(address)
  if (m) return {kind: 'tcp', host: (m[1] || '127.0.0.1').replace(/^\[|\]$/g, ''), port: Number(m[2])}
  throw NsxError.invalid(`invalid address ${JSON.stringify(address)}: expected unix:///PATH or tcp://HOST:PORT`, 125)
}

/** systemd socket activation: the first passed fd (3) when LISTEN_PID is this process. */
export function activationFd(env: NodeJS.ProcessEnv): number | undefined {
  const n = Number(env.LISTEN_FDS ?? '0')
  if (!(n >= 1)) return undefined
  if (env.LISTEN_PID !== undefined && Number(env.LISTEN_PID) !== process.pid) return undefined
  return 3
}

function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group)
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const f = line.split(':')
    if (f[0] === group && f[2] !== undefined) return Number(f[2])
  }
  throw NsxError.notFound(`no such group: ${group}`, 125)
}

/** Whether something answers on a unix socket path (a live service: never take its place). */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

const BASE_HEADERS = (): Record<string, string> => ({
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: `nsx/${packageVersion()} (linux)`,
})

/** Serve the Engine API until close(). */
export async function startService(opts: ServiceOptions = {}): Promise<Service> {
  const env = opts.env ?? process.env
  const fd = activationFd(env)
  const listen: Listen = fd !== undefined ? {kind: 'fd', fd} : parseAddress(opts.address ?? DEFAULT_ADDRESS)
  if (listen.kind === 'tcp' && (!opts.tlsCert || !opts.tlsKey)) {
    throw NsxError.invalid(`refusing to listen on ${opts.address} without TLS: the API is root on this host to whoever reaches it (give --tls-cert and --tls-key, or use a unix socket)`, 125)
  }
  const gid = opts.group !== undefined ? groupId(opts.group) : 0
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const router = new Router(ROUTES)
  let store: Store | undefined
  const openStore = () => (store ??= Store.open(opts.storeRoot))

  const handle = (req: IncomingMessage, res: ServerResponse, upgrade?: {socket: Duplex; head: Buffer}) => {
    void dispatch(router, req, res, upgrade, openStore, log)
  }
  const server: Server = listen.kind === 'tcp'
    ? createHttpsServer({cert: readFileSync(opts.tlsCert!), key: readFileSync(opts.tlsKey!)}, handle)
    : createHttpServer(handle)
  // Long polls and streams (wait, events, logs -f, attach) have no time limit.
  server.requestTimeout = 0
  server.headersTimeout = 60_000
  // An idle kept-alive connection stays open until the client closes it, as with dockerd (Go's
  // net/http without IdleTimeout). Node's default, 5 s, closed it under clients that keep a pool
  // (docker-py's urllib3, Node's agents): one that sent its next request as the service closed
  // the connection got a reset or EPIPE.
  server.keepAliveTimeout = 0
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const res = new ServerResponse(req)
    res.shouldKeepAlive = false
    res.assignSocket(socket as Socket)
    res.on('finish', () => {
      if (!(res as {hijacked?: boolean}).hijacked) socket.end()
    })
    socket.on('error', () => socket.destroy())
    handle(req, res, {socket, head})
  })
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({message: messageOf(err)})}\n`)
    else socket.destroy()
  })
  const sockets = new Set<Duplex>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })

  let address: string
  let created: string | undefined
  if (listen.kind === 'fd') {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen({fd: listen.fd}, () => resolve()))
    address = `fd://${listen.fd}`
  } else if (listen.kind === 'unix') {
    mkdirSync(dirname(listen.path), {recursive: true, mode: 0o755})
    if (existsSync(listen.path)) {
      if (!lstatSync(listen.path).isSocket()) throw NsxError.conflict(`${listen.path} exists and is not a socket`, 125)
      if (await socketAnswers(listen.path)) throw NsxError.conflict(`another service already listens on ${listen.path}`, 125)
      unlinkSync(listen.path)
    }
    // Created 0660 from the start (no window where others may connect), then given its group.
    const oldMask = process.umask(0o117)
    try {
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(listen.path, () => resolve()))
    } finally {
      process.umask(oldMask)
    }
    created = listen.path
    chmodSync(listen.path, 0o660)
    chownSync(listen.path, 0, gid)
    address = `unix://${listen.path}`
  } else {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(listen.port, listen.host, () => resolve()))
    const a = server.address()
    address = `tcp://${listen.host}:${typeof a === 'object' && a ? a.port : listen.port}`
  }

  // The store's events from the service's start on (a ring of the last 256, as docker's daemon keeps).
  startEvents(openStore())

  return {
    address,
    server,
    close: () => new Promise<void>((resolve) => {
      stopEvents()
      server.close(() => resolve())
      for (const s of sockets) s.destroy()
      if (created) {
        try {
          unlinkSync(created)
        } catch {
          // already gone
        }
      }
    }),
  }
}

async function dispatch(router: Router, req: IncomingMessage, res: ServerResponse, upgrade: {socket: Duplex; head: Buffer} | undefined, store: () => Store, log: (line: string) => void): Promise<void> {
  for (const [k, v] of Object.entries(BASE_HEADERS())) res.setHeader(k, v)
  const method = req.method ?? 'GET'
  let url: URL
  try {
    url = new URL(req.url ?? '/', 'http://nsx')
  } catch {
    sendJson(res, 400, {message: 'invalid request URL'})
    return
  }
  const {version, path} = stripVersion(url.pathname)
  const abort = new AbortController()
  const gone = () => {
    if (!res.writableFinished) abort.abort()
  }
  ;(upgrade?.socket ?? req.socket).once('close', gone)
  res.once('close', gone)
  try {
    if (version !== undefined && Number(version.split('.')[1]) > Number(API_VERSION.split('.')[1]) && version.split('.')[0] === '1') {
      throw new ApiError(400, `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`)
    }
    const m = router.match(method, path)
    if (!m) throw new ApiError(404, 'page not found')
    if ('methods' in m) throw new ApiError(405, `method ${method} is not allowed on ${path} (allowed: ${m.methods.join(', ')})`)
    const peer = await peerOf(req.socket)
    const ctx: ApiContext = {
      req, res, upgrade, params: m.params, query: url.searchParams, version: version ?? API_VERSION,
      signal: abort.signal, store, peer, log,
    }
    if (m.route.mutates) log(`${method} ${url.pathname}${url.search} uid=${peer?.uid ?? '?'} pid=${peer?.pid ?? '?'}`)
    const result = await m.route.handler(ctx)
    if ((res as {hijacked?: boolean}).hijacked || res.headersSent) {
      if (!res.writableEnded && !(res as {hijacked?: boolean}).hijacked) res.end()
      return
    }
    if (result === undefined) sendJson(res, 204)
    else sendJson(res, m.route.status ?? 200, result)
  } catch (err) {
    const status = statusOf(err)
    if (status === 500) log(`${method} ${url.pathname}: ${status} ${messageOf(err)}`)
    if ((res as {hijacked?: boolean}).hijacked) {
      upgrade?.socket.destroy()
      return
    }
    sendError(res, err)
  } finally {
    ;(upgrade?.socket ?? req.socket).off('close', gone)
  }
}
