import assert from 'node:assert/strict'
import {ChildProcess, spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, rmSync} from 'node:fs'
import {Agent, request} from 'node:http'
import {join} from 'node:path'
import {containerToolsPresent, Fixture, makeFixture} from './container.js'
import {IN_CI, NSX_BIN, writesInto} from './env.js'

/**
 * The docker CLI for the Engine API tests: only the client binary, unpacked from Debian's docker.io
 * (apt-get download + dpkg-deb -x; dockerd is never installed or started) into a cache outside /tmp
 * and outside the repository (NSX_TEST_CACHE, else /var/cache/nsx-test). Any docker on PATH is
 * ignored: a fresh machine has none, and the tests need the 20.10 client (API 1.41).
 */
export function dockerCli(): string {
  const cache = join(process.env.NSX_TEST_CACHE ?? '/var/cache/nsx-test', 'docker-cli')
  const bin = join(cache, 'root', 'usr', 'bin', 'docker')
  if (existsSync(bin)) return bin
  mkdirSync(cache, {recursive: true})
  const download = () => spawnSync('apt-get', ['download', '-q', 'docker.io'], {cwd: cache, encoding: 'utf8'})
  let r = download()
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], {encoding: 'utf8'})
    r = download()
  }
  const deb = readdirSync(cache).find((f) => /^docker\.io_.*\.deb$/.test(f))
  assert.ok(r.status === 0 && deb, `apt-get download docker.io failed: ${r.stderr}`)
  const x = spawnSync('dpkg-deb', ['-x', join(cache, deb), join(cache, 'root')], {encoding: 'utf8'})
  assert.equal(x.status, 0, `dpkg-deb -x failed: ${x.stderr}`)
  rmSync(join(cache, deb), {force: true})
  // Only the client is kept.
  for (const f of readdirSync(join(cache, 'root', 'usr', 'bin'))) if (f !== 'docker') rmSync(join(cache, 'root', 'usr', 'bin', f), {force: true})
  rmSync(join(cache, 'root', 'usr', 'sbin'), {recursive: true, force: true})
  return bin
}

export interface ApiService {
  socket: string
  host: string
  proc: ChildProcess
  /** What the service logged so far (stderr). */
  log(): string
  stop(): Promise<void>
}

/**
 * `nsx system service unix://DIR/docker.sock` with the test's store; the caller stops it (by its pid) with stop().
 * `inNamespacesOf`: a network lab's holder pid, so the service (and the bridges and rules it makes) lives in the lab.
 */
export async function startApiService(dir: string, env: NodeJS.ProcessEnv, inNamespacesOf?: number): Promise<ApiService> {
  const socket = join(dir, 'docker.sock')
  const argv = [NSX_BIN, 'system', 'service', `unix://${socket}`]
  const proc = inNamespacesOf === undefined
    ? spawn(argv[0], argv.slice(1), {env, stdio: ['ignore', 'ignore', 'pipe']})
    : spawn('nsenter', ['-t', String(inNamespacesOf), '-n', '-m', '--', process.execPath, ...argv], {env, stdio: ['ignore', 'ignore', 'pipe']})
  let log = ''
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()))
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  const unregister = writesInto(dir, proc.pid!)
  const end = Date.now() + 30000
  while (!/listening/.test(log)) {
    if (proc.exitCode !== null || Date.now() > end) assert.fail(`nsx system service did not start: ${log}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const stop = async () => {
    unregister()
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM')
      await exited
    }
  }
  return {socket, host: `unix://${socket}`, proc, log: () => log, stop}
}

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** One HTTP request over the service's socket. */
export function api(socket: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // A connection of its own (an agent per request): Node 20's global agent reuses kept-alive
    // sockets, and one the service is closing after its keep-alive timeout (5 s idle) fails with
    // EPIPE. The request still says keep-alive, so the service reads a body it refuses (413) to
    // its end rather than closing under the client's write.
    const agent = new Agent({keepAlive: true, maxSockets: 1})
    const req = request({socketPath: socket, method, path, agent, headers: {...(body !== undefined ? {'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body))} : {}), ...headers}}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        agent.destroy()
        resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString()})
      })
      res.on('error', reject)
    })
    req.on('error', (err) => {
      agent.destroy()
      reject(err)
    })
    req.end(body)
  })
}

export function needDockerCli(t: {skip(m: string): void}): string | undefined {
  try {
    return dockerCli()
  } catch (err) {
    if (IN_CI) throw err
    t.skip(`no docker client: ${(err as Error).message}`)
    return undefined
  }
}

/**
 * A checker of responses against moby's swagger for API 1.41 (test/fixtures/moby): the schema of
 * `paths[PATH][METHOD].responses[STATUS]`, with swagger 2.0's `x-nullable` read as JSON Schema's
 * null type. Returns ajv's errors as text, '' when the body conforms.
 */
export async function swaggerChecker(): Promise<(method: string, path: string, status: number, body: unknown) => string> {
  const {readFileSync} = await import('node:fs')
  const {REPO} = await import('./env.js')
  const {default: Ajv} = await import('ajv')
  const doc = JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'moby', 'engine-api-v1.41.json'), 'utf8')) as Record<string, unknown>
  const nullable = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(nullable)
    if (!node || typeof node !== 'object') return
    const o = node as Record<string, unknown>
    if (o['x-nullable'] === true && typeof o.type === 'string') o.type = [o.type, 'null']
    for (const v of Object.values(o)) nullable(v)
  }
  nullable(doc)
  const ajv = new Ajv({strict: false, allErrors: true, validateFormats: false})
  ajv.addSchema({...doc, $id: 'moby'} as object)
  return (method, path, status, body) => {
    const pointer = `moby#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1').replaceAll('{', '%7B').replaceAll('}', '%7D')}/${method.toLowerCase()}/responses/${status}/schema`
    const validate = ajv.compile({$ref: pointer})
    if (validate(body)) return ''
    return ajv.errorsText(validate.errors, {separator: '\n'})
  }
}

/** A swagger checker's call on the service: the request made, a success required, the body checked against `template`'s schema and returned parsed. */
/**
 * A swagger-checked caller of the service at socket: each call must answer `want` and, when it
 * has a body, conform to moby's 1.41 definition of `template` (connect and disconnect answer none).
 */
export async function swaggerCall(socket: string): Promise<(method: string, url: string, template: string, body?: object, want?: number) => Promise<unknown>> {
  const check = await swaggerChecker()
  return async (method, url, template, body, want = 200) => {
    const r = await api(socket, method, `/v1.41${url}`, body === undefined ? undefined : JSON.stringify(body))
    assert.equal(r.status, want, `${method} ${url}: ${r.status} ${r.body}`)
    const parsed = r.body.trim() === '' ? undefined : JSON.parse(r.body)
    const errors = parsed === undefined ? '' : check(method, template, r.status, parsed)
    assert.equal(errors, '', `${method} ${url} does not conform to the 1.41 swagger:\n${errors}\n${r.body.slice(0, 2000)}`)
    return parsed
  }
}

/** docker-compose (Debian's docker-compose 1.29) is here: failing under CI, skipping elsewhere. */
export function needCompose(t: {skip(m: string): void}): boolean {
  if (spawnSync('sh', ['-c', 'command -v docker-compose']).status === 0) return true
  if (IN_CI) assert.fail('needs docker-compose (Debian package docker-compose)')
  t.skip('needs docker-compose (Debian package docker-compose)')
  return false
}

/**
 * The Engine API tests' set-up on a fixture: busybox loaded into its store (the clients' image),
 * the service started on DIR/docker.sock, and DIR/docker-config for the docker CLI.
 */
export async function serviceWithBusybox(fx: {dir: string; env: NodeJS.ProcessEnv; nsx(args: string[]): {status: number | null; stderr: string}}): Promise<ApiService> {
  const {buildBusyboxArchive} = await import('./busybox-image.js')
  mkdirSync(join(fx.dir, 'img'), {recursive: true})
  const l = fx.nsx(['load', '-i', buildBusyboxArchive(join(fx.dir, 'img'))])
  assert.equal(l.status, 0, l.stderr)
  const svc = await startApiService(fx.dir, fx.env)
  mkdirSync(join(fx.dir, 'docker-config'), {recursive: true})
  return svc
}

/** docker-compose in project directory proj against svc, with the docker CLI (compose's exec runs it) first on PATH. */
export function composeRunner(proj: string, project: string, svc: ApiService, docker: string): (args: string[]) => {status: number | null; stdout: string; stderr: string; text: string} {
  const env = {...process.env, DOCKER_HOST: svc.host, PATH: `${join(docker, '..')}:${process.env.PATH}`, COMPOSE_PROJECT_NAME: project}
  return (args) => {
    const r = spawnSync('docker-compose', args, {cwd: proj, env, encoding: 'utf8', timeout: 180000})
    return {status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', text: `docker-compose ${args.join(' ')}: ${r.status}\n${r.stdout}\n${r.stderr}\nservice log:\n${svc.log().slice(-3000)}`}
  }
}

export async function conformsOn(socket: string, check: (method: string, path: string, status: number, body: unknown) => string, method: string, url: string, template: string, body?: object): Promise<unknown> {
  const r = await api(socket, method, `/v1.41${url}`, body === undefined ? undefined : JSON.stringify(body))
  assert.ok(r.status < 300, `${method} ${url}: ${r.status} ${r.body}`)
  const parsed = r.body.trim() === '' ? undefined : JSON.parse(r.body)
  const errors = check(method, template, r.status, parsed)
  assert.equal(errors, '', `${method} ${url} does not conform to the 1.41 swagger:\n${errors}\n${r.body.slice(0, 2000)}`)
  return parsed
}

/**
 * The set-up of a test file that drives the service with the docker CLI over a fixture: the
 * fixture (root, gcc, busybox-static), busybox loaded, the service started before the tests and
 * stopped after; `skip(t)` fails under CI and skips elsewhere when the fixture cannot be made;
 * `dk(args)` runs the docker CLI against the service.
 */
export function dockerCliFixture(hooks: {after: (fn: () => unknown) => void; before: (fn: () => Promise<void>) => void}, prefix: string) {
  const h = {fx: containerToolsPresent() ? makeFixture(hooks.after, prefix) : undefined as Fixture | undefined, svc: undefined as ApiService | undefined, docker: ''}
  hooks.after(() => h.svc?.stop())
  hooks.before(async () => {
    if (!h.fx) return
    h.docker = dockerCli()
    h.svc = await serviceWithBusybox(h.fx)
  })
  return {
    h,
    skip(t: {skip(m: string): void}): boolean {
      if (h.fx) return false
      if (IN_CI) assert.fail('needs root, gcc, busybox-static and the docker CLI')
      t.skip('needs root, gcc, busybox-static and the docker CLI')
      return true
    },
    dk(args: string[], env: NodeJS.ProcessEnv = {}) {
      const r = spawnSync(h.docker, args, {encoding: 'utf8', timeout: 60000, env: {...process.env, ...env, DOCKER_HOST: h.svc!.host, DOCKER_CONFIG: join(h.fx!.dir, 'docker-config')}})
      return {status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '')}
    },
  }
}
