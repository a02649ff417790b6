import {spawn, spawnSync, SpawnSyncOptions} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import {NSX_BIN, REPO, skipOrFail, writesInto} from './env.js'

/**
 * The real docker CLI (the client binary only) from Debian's docker.io package, fetched with
 * `apt-get download` and unpacked with `dpkg-deb -x` into node_modules/.cache (never installed;
 * dockerd is never started), and an `nsx system service` on a socket of the test's own.
 */

const CACHE = join(REPO, 'node_modules', '.cache', 'nsx-docker-cli')
export const DOCKER_BIN = join(CACHE, 'root', 'usr', 'bin', 'docker')

/** The docker CLI's path, fetched once; undefined (the test skipped, or failed under CI) when apt cannot get it. */
export function dockerCli(t: TestContext): string | undefined {
  if (existsSync(DOCKER_BIN)) return DOCKER_BIN
  mkdirSync(CACHE, {recursive: true})
  const dl = spawnSync('apt-get', ['download', 'docker.io'], {cwd: CACHE, encoding: 'utf8'})
  const deb = readdirSync(CACHE).find((f) => /^docker\.io_.*\.deb$/.test(f))
  if (!deb) {
    skipOrFail(t, `needs the docker CLI from Debian's docker.io (apt-get download docker.io failed: ${(dl.stderr || '').trim().split('\n').at(-1)})`)
    return undefined
  }
  const x = spawnSync('dpkg-deb', ['-x', join(CACHE, deb), join(CACHE, 'root')], {encoding: 'utf8'})
  rmSync(join(CACHE, deb), {force: true})
  if (x.status !== 0 || !existsSync(DOCKER_BIN)) {
    skipOrFail(t, `cannot unpack docker.io: ${x.stderr}`)
    return undefined
  }
  return DOCKER_BIN
}

export interface Service {
  socket: string
  host: string
  pid: number
  /** What the service wrote on stderr so far. */
  log(): string
}

/** `nsx system service unix://DIR/docker.sock` with env (NSX_ROOT); stopped (SIGTERM, by pid) by t.after. */
export async function startService(t: TestContext, dir: string, env: NodeJS.ProcessEnv): Promise<Service> {
  const socket = join(dir, 'docker.sock')
  const child = spawn(NSX_BIN, ['system', 'service', `unix://${socket}`], {env, stdio: ['ignore', 'pipe', 'pipe']})
  let log = ''
  let ready: () => void = () => {}
  const up = new Promise<void>((resolve, reject) => {
    ready = resolve
    child.once('exit', () => reject(new Error(`nsx system service exited: ${log}`)))
  })
  const onData = (b: Buffer) => {
    log += b.toString()
    if (/listening/.test(log)) ready()
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const unregister = writesInto(dir, child.pid!)
  t.after(async () => {
    unregister()
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  })
  await up
  return {socket, host: `unix://${socket}`, pid: child.pid!, log: () => log}
}

/** Run the docker CLI against a service. */
export function docker(svc: Service, args: string[], opts: SpawnSyncOptions = {}): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(DOCKER_BIN, args, {encoding: 'utf8', timeout: 180000, ...opts, env: {...process.env, DOCKER_HOST: svc.host, DOCKER_CONFIG: join(svc.socket, '..', 'docker-config'), DOCKER_BUILDKIT: '0', ...(opts.env ?? {})}})
  return {status: r.status, stdout: String(r.stdout), stderr: String(r.stderr)}
}

export {NSX_BIN}
