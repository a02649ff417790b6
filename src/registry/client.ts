import * as http from 'node:http'
import * as https from 'node:https'
import type {Readable} from 'node:stream'
import {NsxError, type ErrorKind} from '../cli/errors.js'
import {MAX_METADATA_BYTES} from '../image/blob.js'
import {Credentials, lookupCredentials} from './credentials.js'
import {apiHost, isLoopback} from '../image/reference.js'

/**
 * An HTTP client for one registry (OCI distribution spec): the /v2/ ping that finds the
 * scheme and the auth challenge, then requests carrying Basic credentials or a bearer token
 * fetched from the challenge's realm for the repository's scope. Redirects (blob storage
 * elsewhere) are followed without the Authorization header on another host. No credential
 * ever reaches an error message.
 */

export interface ClientOptions {
  /** false: plain HTTP or unverified TLS allowed for any registry (podman's --tls-verify=false). */
  tlsVerify?: boolean
  /** Explicit credentials (login); otherwise read from the auth files. */
  credentials?: Credentials
  authFile?: string
}

export interface RequestOptions {
  headers?: Record<string, string>
  /** Replayable body: called again when the request is retried after an auth challenge. */
  body?: () => Buffer | Readable
  /** repository:NAME:pull[,push] for bearer tokens. */
  scope?: string
  /** Status codes that are not errors (besides 2xx). */
  accept?: number[]
  /** What the request is for, in error messages. */
  what: string
}

interface Challenge {
  scheme: 'basic' | 'bearer'
  params: Record<string, string>
}

export class RegistryError extends NsxError {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
    /** The registry's own words for the error (the spec's message), else the code's usual text. */
    readonly registryMessage?: string,
  ) {
    super(message, 1, registryKind(status, code))
  }
}

/** No answer from a registry (refused, no such host, TLS failure): docker's "Get URL: dial tcp ..." words. */
export class RegistryUnreachable extends NsxError {
  constructor(
    message: string,
    readonly registry: string,
  ) {
    // dockerd answers a dial error 500 (errdefs.Unknown).
    super(message, 1, 'internal')
  }
}

/** The kind of a registry's refusal: its HTTP status and error code (distribution's errcode). */
function registryKind(status: number, code: string | undefined): ErrorKind {
  if (status === 404 || /_UNKNOWN$/.test(code ?? '')) return 'not-found'
  if (status === 401 || code === 'UNAUTHORIZED') return 'unauthorized'
  if (status === 403 || code === 'DENIED') return 'forbidden'
  if (status === 400) return 'invalid'
  return 'internal'
}

/** WWW-Authenticate: Bearer realm="...",service="...",scope="..." (quoted values may hold commas). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header)
  if (!m) return undefined
  const scheme = m[1].toLowerCase()
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined
  const params: Record<string, string> = {}
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/g
  let p: RegExpExecArray | null
  while ((p = re.exec(m[2])) !== null) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]
  return {scheme, params}
}

const ERROR_TEXT: Record<string, string> = {
  MANIFEST_UNKNOWN: 'manifest unknown',
  NAME_UNKNOWN: 'repository name not known to registry',
  BLOB_UNKNOWN: 'blob unknown to registry',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  TOOMANYREQUESTS: 'too many requests',
  UNSUPPORTED: 'the operation is unsupported',
  DIGEST_INVALID: 'provided digest did not match uploaded content',
  MANIFEST_INVALID: 'manifest invalid',
  MANIFEST_BLOB_UNKNOWN: 'manifest references a blob unknown to the registry',
  NAME_INVALID: 'invalid repository name',
  SIZE_INVALID: 'provided length did not match content length',
  TAG_INVALID: 'manifest tag did not match URI',
}

/** Control characters out of anything a server sends before it reaches the terminal. */
const printable = (s: string) => s.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ').trim().slice(0, 300)

function errorFromBody(what: string, status: number, body: Buffer, registry: string): RegistryError {
  let code: string | undefined
  let detail = ''
  let registryMessage: string | undefined
  try {
    const j = JSON.parse(body.toString('utf8')) as {errors?: {code?: string; message?: string}[]}
    const e = j.errors?.[0]
    if (e && typeof e.code === 'string') {
      code = e.code
      detail = ERROR_TEXT[e.code] ?? e.code.toLowerCase().replace(/_/g, ' ')
      registryMessage = typeof e.message === 'string' && e.message !== '' ? printable(e.message) : ERROR_TEXT[e.code]
      if (typeof e.message === 'string' && e.message !== '' && e.message.toLowerCase() !== detail) detail += ` (${printable(e.message)})`
    }
  } catch {
    // not the spec's JSON: the status says it
  }
  if (!detail) detail = `HTTP ${status} ${http.STATUS_CODES[status] ?? ''}`.trim()
  if (status === 401 || code === 'UNAUTHORIZED') detail += `; log in with nsx login ${registry}`
  if (status === 429) code ??= 'TOOMANYREQUESTS'
  return new RegistryError(`${what}: ${detail}`, status, code, registryMessage)
}

export async function readBody(res: http.IncomingMessage, max = MAX_METADATA_BYTES, what = 'response'): Promise<Buffer> {
  const parts: Buffer[] = []
  let n = 0
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.length
    if (n > max) {
      res.destroy()
      throw NsxError.internal(`${what} is larger than the ${max} bytes allowed`)
    }
    parts.push(c)
  }
  return Buffer.concat(parts)
}

export class RegistryClient {
  readonly host: string
  private base: string | undefined
  private challenge: Challenge | undefined
  private readonly tokens = new Map<string, string>()
  private credentials: Credentials | undefined
  private credentialsLooked = false
  private readonly httpAgent = new http.Agent({keepAlive: true, maxSockets: 16})
  private readonly httpsAgent: https.Agent

  constructor(
    readonly registry: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.host = apiHost(registry)
    this.credentials = opts.credentials
    if (opts.credentials) this.credentialsLooked = true
    this.httpsAgent = new https.Agent({keepAlive: true, maxSockets: 16, rejectUnauthorized: this.verifyTls})
  }

  private get insecureAllowed(): boolean {
    return this.opts.tlsVerify === false || isLoopback(this.registry)
  }

  private get verifyTls(): boolean {
    return this.opts.tlsVerify !== false && !isLoopback(this.registry)
  }

  close(): void {
    this.httpAgent.destroy()
    this.httpsAgent.destroy()
  }

  private creds(): Credentials | undefined {
    if (!this.credentialsLooked) {
      this.credentials = lookupCredentials(this.registry, {authFile: this.opts.authFile})
      this.credentialsLooked = true
    }
    return this.credentials
  }

  private raw(method: string, url: URL, headers: Record<string, string>, body?: Buffer | Readable): Promise<http.IncomingMessage> {
    const mod = url.protocol === 'https:' ? https : http
    const agent = url.protocol === 'https:' ? this.httpsAgent : this.httpAgent
    return new Promise((resolve, reject) => {
      const req = mod.request(url, {method, headers: {'User-Agent': 'nsx', ...headers}, agent}, resolve)
      req.on('error', reject)
      if (body === undefined) req.end()
      else if (Buffer.isBuffer(body)) req.end(body)
      else {
        body.on('error', (e) => req.destroy(e))
        body.pipe(req)
      }
    })
  }

  /** Go's words for a failed request, as docker prints them: Get "URL": dial tcp HOST:PORT: connect: connection refused. */
  private connectError(err: unknown, url: URL, method = 'GET'): RegistryUnreachable {
    const e = err as NodeJS.ErrnoException & {hostname?: string}
    const port = url.port || (url.protocol === 'https:' ? '443' : '80')
    const addr = `${url.hostname.replace(/^\[|\]$/g, '')}:${port}`
    const why =
      e.code === 'ECONNREFUSED' ? `dial tcp ${addr}: connect: connection refused`
      : e.code === 'ENOTFOUND' ? `dial tcp: lookup ${url.hostname}: no such host`
      : e.code === 'EAI_AGAIN' ? `dial tcp: lookup ${url.hostname}: temporary failure in name resolution`
      : e.code === 'ETIMEDOUT' ? `dial tcp ${addr}: i/o timeout`
      : e.code === 'ENETUNREACH' || e.code === 'EHOSTUNREACH' ? `dial tcp ${addr}: connect: ${e.code === 'ENETUNREACH' ? 'network' : 'host'} is unreachable`
      : e.code === 'ECONNRESET' ? `read tcp ${addr}: connection reset by peer`
      : printable(e.message ?? String(err))
    const tls = url.protocol === 'https:' && (e.code === 'EPROTO' || /^(ERR_SSL|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(e.code ?? ''))
    const verb = method.charAt(0) + method.slice(1).toLowerCase()
    return new RegistryUnreachable(`${verb} "${url.href}": ${why}${tls && !this.insecureAllowed ? ' (for a registry without TLS or with an untrusted certificate use --tls-verify=false, or insecure = true in registries.conf)' : ''}`, this.registry)
  }

  /**
   * GET /v2/: which scheme answers, and which auth it wants. HTTPS first; plain HTTP only
   * for loopback registries or with --tls-verify=false.
   */
  async ping(): Promise<void> {
    if (this.base !== undefined) return
    const schemes = this.insecureAllowed ? ['https', 'http'] : ['https']
    let lastErr: unknown
    for (const scheme of schemes) {
      const url = new URL(`${scheme}://${this.host}/v2/`)
      let res: http.IncomingMessage
      try {
        res = await this.raw('GET', url, {})
      } catch (err) {
        lastErr = this.connectError(err, url)
        continue
      }
      res.resume()
      if (res.statusCode === 400 && scheme === 'https' && schemes.includes('http')) {
        lastErr = NsxError.internal(`registry ${this.registry} does not speak HTTPS`)
        continue // "client sent an HTTP request to an HTTPS server" the other way round
      }
      this.base = `${scheme}://${this.host}`
      if (res.statusCode === 401) this.challenge = parseChallenge(res.headers['www-authenticate'] as string | undefined)
      else if (res.statusCode !== undefined && (res.statusCode < 200 || res.statusCode >= 300) && res.statusCode !== 404)
        throw NsxError.internal(`registry ${this.registry}: /v2/ answered HTTP ${res.statusCode}: not an OCI distribution registry`)
      return
    }
    throw lastErr
  }

  /** Check the credentials (login): an authenticated request to /v2/. */
  async checkLogin(): Promise<void> {
    await this.ping()
    if (!this.challenge) return
    const res = await this.request('GET', '/v2/', {what: `login to ${this.registry}`})
    res.resume()
  }

  private async token(scope: string | undefined, challenge: Challenge): Promise<string> {
    const key = scope ?? ''
    const cached = this.tokens.get(key)
    if (cached) return cached
    const realm = challenge.params.realm
    if (!realm) throw NsxError.internal(`registry ${this.registry}: bearer challenge without a realm`)
    let url: URL
    try {
      url = new URL(realm)
    } catch {
      throw NsxError.internal(`registry ${this.registry}: bearer realm is not a URL`)
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (this.insecureAllowed || isLoopback(url.host))))
      throw NsxError.internal(`registry ${this.registry}: refusing to send credentials to a token service over plain HTTP (${url.host})`)
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service)
    const scopes = [scope ?? challenge.params.scope].filter((s): s is string => !!s)
    for (const s of scopes) url.searchParams.append('scope', s)
    const headers: Record<string, string> = {}
    const c = this.creds()
    if (c) headers.Authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`
    let res: http.IncomingMessage
    try {
      res = await this.raw('GET', url, headers)
    } catch (err) {
      throw this.connectError(err, url)
    }
    const body = await readBody(res, 1 << 20, 'token response')
    if (res.statusCode !== 200) {
      const e = errorFromBody(`token from ${url.host}`, res.statusCode ?? 0, body, this.registry)
      if (res.statusCode === 401) throw new RegistryError(`${this.registry}: unauthorized: ${c ? 'incorrect username or password' : `authentication required; log in with nsx login ${this.registry}`}`, 401, 'UNAUTHORIZED')
      throw e
    }
    let tok: string | undefined
    try {
      const j = JSON.parse(body.toString('utf8')) as {token?: string; access_token?: string}
      tok = j.token || j.access_token
    } catch {
      // below
    }
    if (!tok) throw NsxError.internal(`registry ${this.registry}: the token service returned no token`)
    this.tokens.set(key, tok)
    return tok
  }

  private async authorization(scope: string | undefined): Promise<string | undefined> {
    const ch = this.challenge
    if (!ch) return undefined
    if (ch.scheme === 'basic') {
      const c = this.creds()
      return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined
    }
    return `Bearer ${await this.token(scope, ch)}`
  }

  /**
   * One request to a path under the registry (or an absolute URL it gave, e.g. an upload
   * location). On 401 with a new challenge (or an expired token) it is retried once.
   */
  async request(method: string, pathOrUrl: string, o: RequestOptions): Promise<http.IncomingMessage> {
    await this.ping()
    let url = new URL(pathOrUrl, this.base)
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {...(o.headers ?? {})}
      const auth = await this.authorization(o.scope)
      // Credentials go to the registry's own host only, never to a location it names elsewhere.
      if (auth && url.host === new URL(this.base!).host) headers.Authorization = auth
      let res: http.IncomingMessage
      try {
        res = await this.raw(method, url, headers, o.body?.())
      } catch (err) {
        throw this.connectError(err, url, method)
      }
      // Redirects to blob storage: follow (GET/HEAD), without our Authorization elsewhere.
      let hops = 0
      while ((method === 'GET' || method === 'HEAD') && [301, 302, 303, 307, 308].includes(res.statusCode ?? 0) && res.headers.location && hops++ < 5) {
        res.resume()
        const next = new URL(res.headers.location, url)
        const h: Record<string, string> = {...(o.headers ?? {})}
        if (next.host === url.host && auth) h.Authorization = auth
        try {
          res = await this.raw(method, next, h)
        } catch (err) {
          throw this.connectError(err, next, method)
        }
        url = next
      }
      const status = res.statusCode ?? 0
      if (status === 401 && attempt === 0) {
        const ch = parseChallenge(res.headers['www-authenticate'] as string | undefined)
        res.resume()
        if (ch) {
          this.challenge = ch
          this.tokens.delete(o.scope ?? '')
          if (ch.scheme === 'basic' && !this.creds()) throw new RegistryError(`${o.what}: authentication required; log in with nsx login ${this.registry}`, 401, 'UNAUTHORIZED')
          continue
        }
      }
      if ((status >= 200 && status < 300) || o.accept?.includes(status)) return res
      const body = method === 'HEAD' ? Buffer.alloc(0) : await readBody(res, 1 << 20, 'error response').catch(() => Buffer.alloc(0))
      if (status === 401 && this.creds()) throw new RegistryError(`${o.what}: unauthorized: incorrect username or password, or no access`, 401, 'UNAUTHORIZED')
      throw errorFromBody(o.what, status, body, this.registry)
    }
  }
}
