import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'
import {NsxError, STATUS_OF_KIND} from '../cli/errors.js'

/** An error answered as the Engine API does: a JSON `{"message": ...}` with an HTTP status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

export const notFound = (what: string) => new ApiError(404, what)
export const badRequest = (what: string) => new ApiError(400, what)
export const conflict = (what: string) => new ApiError(409, what)

/**
 * The status for an error thrown by a domain function: its kind (`NsxError.notFound(...)` is 404,
 * `conflict` 409, `invalid` 400, ...: `STATUS_OF_KIND`, dockerd's errdefs mapping), never its
 * wording; an ApiError says its own; anything else, an NsxError without a kind too, is 500, as
 * dockerd answers an untyped error (test/unit/error-kinds.test.ts keeps the API's reach kinded).
 */
export function statusOf(err: unknown): number {
  if (err instanceof ApiError) return err.status
  if (err instanceof NsxError && err.kind !== undefined) return STATUS_OF_KIND[err.kind]
  return 500
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/^Error: /, '')
  return String(err)
}

/** Answer a JSON body (or nothing, for 204/304) unless something was already sent. */
export function sendJson(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end()
    return
  }
  if (body === undefined || status === 204 || status === 304) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  const text = `${JSON.stringify(body)}\n`
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers})
  res.end(text)
}

export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err)
  const message = status === 500 && !(err instanceof NsxError) && !(err instanceof ApiError) ? `internal error: ${messageOf(err)}` : messageOf(err)
  if (res.headersSent) {
    // A stream already begun: the error cannot be a status any more; end the stream.
    if (!res.writableEnded) res.end()
    return
  }
  sendJson(res, status, {message})
}

/** Query booleans as clients send them: `1`, `true`, `True` (docker's strconv.ParseBool); absent is the default. */
export function queryBool(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name)
  if (v === null || v === '') return dflt
  if (/^(1|t|true|TRUE|True)$/.test(v)) return true
  if (/^(0|f|false|FALSE|False)$/.test(v)) return false
  throw badRequest(`invalid boolean value for ${name}: ${JSON.stringify(v)}`)
}

export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v === null || v === '') return undefined
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid integer value for ${name}: ${JSON.stringify(v)}`)
  return Number(v)
}

/**
 * docker's `filters` query parameter: JSON of `{"key": ["v", ...]}` or, from old clients,
 * `{"key": {"v": true}}`. Returns key → values.
 */
export function queryFilters(q: URLSearchParams): Map<string, string[]> {
  const out = new Map<string, string[]>()
  const raw = q.get('filters')
  if (raw === null || raw === '') return out
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw badRequest(`invalid filters: ${JSON.stringify(raw)} is not JSON`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('invalid filters: expected a JSON object')
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(v)) out.set(k, v.map(String))
    else if (v && typeof v === 'object') out.set(k, Object.entries(v as Record<string, unknown>).filter(([, on]) => on === true).map(([s]) => s))
    else throw badRequest(`invalid filters: ${k} must be a list`)
  }
  return out
}

/** The largest JSON request body the service reads (a create body is a few KB). */
export const MAX_JSON_BODY = 4 * 1024 * 1024

/**
 * Read a request body, at most `limit` bytes (413 past it). On an upgraded connection the body is
 * whatever of `Content-Length` bytes came with the head and follows on the socket; the rest of the
 * stream is left unread for the handler (an exec-start body arrives inside the upgraded stream).
 */
export async function readBody(req: IncomingMessage, upgrade: {socket: Duplex; head: Buffer} | undefined, limit = MAX_JSON_BODY): Promise<Buffer> {
  const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined
  if (declared !== undefined && (!Number.isFinite(declared) || declared < 0)) throw badRequest('invalid Content-Length')
  if (declared !== undefined && declared > limit) throw new ApiError(413, `request body too large: ${declared} bytes (the limit is ${limit})`)
  if (upgrade) {
    const want = declared ?? 0
    let got = upgrade.head
    while (got.length < want) {
      const chunk = await new Promise<Buffer | null>((resolve) => {
        const s = upgrade.socket
        const onData = (b: Buffer) => { s.pause(); done(); resolve(b) }
        const onEnd = () => { done(); resolve(null) }
        const done = () => { s.off('data', onData); s.off('end', onEnd); s.off('close', onEnd) }
        s.on('data', onData)
        s.once('end', onEnd)
        s.once('close', onEnd)
        s.resume()
      })
      if (chunk === null) break
      got = Buffer.concat([got, chunk])
    }
    const body = got.subarray(0, want)
    const rest = got.subarray(want)
    upgrade.head = rest
    return body
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) {
      req.resume()
      throw new ApiError(413, `request body too large (the limit is ${limit} bytes)`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** A JSON body, 400 when it is not JSON; an empty body is `{}`. */
export async function readJson<T = Record<string, unknown>>(req: IncomingMessage, upgrade?: {socket: Duplex; head: Buffer}): Promise<T> {
  const raw = await readBody(req, upgrade)
  if (raw.length === 0) return {} as T
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.toString('utf8'))
  } catch (e) {
    throw badRequest(`invalid JSON body: ${messageOf(e)}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('invalid JSON body: expected an object')
  return parsed as T
}
