import {ChildProcess, spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import {needCommand} from './env.js'

/**
 * Debian's docker-registry (distribution 2.x) on a free 127.0.0.1 port, started by the test
 * with a config it writes, optionally behind htpasswd (bcrypt) auth, and stopped by t.after.
 */

export interface TestRegistry {
  host: string
  port: number
  dir: string
  user?: string
  password?: string
  proc: ChildProcess
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as {port: number}).port
      srv.close(() => resolve(port))
    })
  })
}

export function needRegistry(t: TestContext): boolean {
  return needCommand(t, 'docker-registry', 'docker-registry')
}

/** A token service for the bearer flow: RS256 JWTs with the certificate in x5c, as distribution's token auth verifies them. */
export interface TokenService {
  realm: string
  service: string
  issuer: string
  certFile: string
  /** Scopes asked for, as received (for assertions). */
  requests: {scope: string[]; user?: string}[]
}

export async function startTokenService(t: TestContext, users: Record<string, string>): Promise<TokenService> {
  const {createServer: createHttpServer} = await import('node:http')
  const {createSign, X509Certificate} = await import('node:crypto')
  const {readFileSync} = await import('node:fs')
  const dir = mkdtempSync(join(tmpdir(), 'nsx-token-'))
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  const o = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=nsx-test-token'], {encoding: 'utf8'})
  if (o.status !== 0) throw new Error(`openssl failed: ${o.stderr}`)
  const keyPem = readFileSync(key, 'utf8')
  const der = new X509Certificate(readFileSync(cert)).raw.toString('base64')
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const svc: TokenService = {realm: '', service: 'nsx-test-registry', issuer: 'nsx-test-issuer', certFile: cert, requests: []}
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const scopes = url.searchParams.getAll('scope')
    let user: string | undefined
    const auth = req.headers.authorization
    if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':')
      if (users[u] !== p.join(':')) {
        res.writeHead(401, {'Content-Type': 'application/json'})
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
        return
      }
      user = u
    }
    svc.requests.push({scope: scopes, user})
    // Anonymous users get nothing; a known user gets what the scope asks.
    const access = user
      ? scopes.map((s) => {
          const [type, name, actions] = s.split(':')
          return {type, name, actions: actions.split(',')}
        })
      : []
    const now = Math.floor(Date.now() / 1000)
    const head = b64({alg: 'RS256', typ: 'JWT', x5c: [der]})
    const body = b64({iss: svc.issuer, sub: user ?? '', aud: svc.service, exp: now + 300, nbf: now - 10, iat: now, jti: String(Math.random()), access})
    const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(keyPem).toString('base64url')
    const token = `${head}.${body}.${sig}`
    res.writeHead(200, {'Content-Type': 'application/json'})
    res.end(JSON.stringify({token, access_token: token, expires_in: 300}))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  svc.realm = `http://127.0.0.1:${(server.address() as {port: number}).port}/token`
  t.after(async () => {
    await new Promise<void>((r) => server.close(() => r()))
    rmSync(dir, {recursive: true, force: true})
  })
  return svc
}

export async function startRegistry(t: TestContext, opts: {auth?: {user: string; password: string}; token?: TokenService} = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-registry-'))
  let lastErr = ''
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    let auth = ''
    if (opts.auth) {
      const h = spawnSync('htpasswd', ['-B', '-i', '-c', join(dir, 'htpasswd'), opts.auth.user], {input: opts.auth.password, encoding: 'utf8'})
      if (h.status !== 0) throw new Error(`htpasswd failed: ${h.stderr}`)
      auth = `auth:\n  htpasswd:\n    realm: nsx-test\n    path: ${join(dir, 'htpasswd')}\n`
    }
    if (opts.token) auth = `auth:\n  token:\n    realm: ${opts.token.realm}\n    service: ${opts.token.service}\n    issuer: ${opts.token.issuer}\n    rootcertbundle: ${opts.token.certFile}\n`
    const config = `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`
    writeFileSync(join(dir, 'config.yml'), config)
    const proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<void>((res) => proc.once('exit', () => res()))
    // Ready when /v2/ answers.
    let ready = false
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/v2/`)
        await r.arrayBuffer()
        ready = true
        break
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    if (ready) {
      const reg: TestRegistry = {host: `127.0.0.1:${port}`, port, dir, user: opts.auth?.user, password: opts.auth?.password, proc}
      t.after(async () => {
        if (proc.exitCode === null) {
          proc.kill('SIGTERM')
          await exited
        }
        rmSync(dir, {recursive: true, force: true})
      })
      return reg
    }
    proc.kill('SIGKILL')
    await exited
    lastErr = stderr
  }
  rmSync(dir, {recursive: true, force: true})
  throw new Error(`docker-registry did not start: ${lastErr.slice(-500)}`)
}
