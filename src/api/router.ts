import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'
import type {Store} from '../store/store.js'
import type {PeerCred} from './peer.js'

/** What a handler is given for one request. */
export interface ApiContext {
  req: IncomingMessage
  /** The response; on an upgraded connection it is written to the raw socket. */
  res: ServerResponse
  /** Path parameters, decoded: `/containers/{id}/json` gives `{id}`. */
  params: Record<string, string>
  query: URLSearchParams
  /** The API version the client asked for in the path (`/v1.41/...`), or the served one. */
  version: string
  /** Set when the client asked to upgrade the connection (attach, exec start): the socket and the bytes read past the head. */
  upgrade?: {socket: Duplex; head: Buffer}
  /** Aborted when the client goes away before the handler is done. */
  signal: AbortSignal
  store(): Store
  /** The peer's uid/pid (SO_PEERCRED) when the socket is a unix one. */
  peer?: PeerCred
  log(line: string): void
}

/**
 * A handler answers with what it returns: an object or array is sent as JSON with `status`
 * (200 unless the route says otherwise), `undefined` means the handler wrote the response itself
 * (streams, hijacks) or, if it wrote nothing, 204.
 */
export type Handler = (ctx: ApiContext) => Promise<unknown> | unknown

export interface Route {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE'
  /** `/containers/{id}/start`: `{name}` matches one path segment, `{name*}` the rest of the path (image names have slashes). */
  path: string
  handler: Handler
  /** Status of a JSON answer (201 for create). */
  status?: number
  /** Whether it changes state: the caller's uid/pid is logged. */
  mutates?: boolean
}

interface Compiled {
  route: Route
  re: RegExp
  names: string[]
}

export interface Match {
  route: Route
  params: Record<string, string>
}

const VERSION_PREFIX = /^\/v(\d+\.\d+)(?=\/)/

/** `/v1.41/containers/json` → `{version: '1.41', path: '/containers/json'}`; unversioned paths are served too. */
export function stripVersion(path: string): {version?: string; path: string} {
  const m = VERSION_PREFIX.exec(path)
  if (!m) return {path}
  return {version: m[1], path: path.slice(m[0].length)}
}

export class Router {
  private readonly compiled: Compiled[]

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = []
      const pattern = route.path.replace(/[.+?^$()[\]\\|]/g, '\\$&').replace(/\{(\w+)(\*?)\}/g, (_all, name: string, rest: string) => {
        names.push(name)
        return rest ? '(.+?)' : '([^/]+)'
      })
      return {route, re: new RegExp(`^${pattern}/?$`), names}
    })
  }

  /** The route for a method and an unversioned path; `methods` lists what the path allows when none matched. */
  match(method: string, path: string): Match | {methods: string[]} | undefined {
    const methods: string[] = []
    for (const c of this.compiled) {
      const m = c.re.exec(path)
      if (!m) continue
      const routeMethod = c.route.method
      if (routeMethod === method || (method === 'HEAD' && routeMethod === 'GET' && !this.hasHead(c.route.path))) {
        const params: Record<string, string> = {}
        c.names.forEach((n, i) => {
          params[n] = decodeURIComponent(m[i + 1] ?? '')
        })
        return {route: c.route, params}
      }
      methods.push(routeMethod)
    }
    return methods.length > 0 ? {methods} : undefined
  }

  private hasHead(path: string): boolean {
    return this.compiled.some((c) => c.route.path === path && c.route.method === 'HEAD')
  }
}

/** For handlers: the response of a context, for streamed answers. */
export function streamHeaders(res: ServerResponse, contentType: string, status = 200): void {
  res.writeHead(status, {'Content-Type': contentType})
  res.flushHeaders()
}
