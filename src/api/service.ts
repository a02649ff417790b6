import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {type ServiceOptions, activationFd, startService} from './server.js'

/**
 * Node's flags for the long-running service, where RSS, not speed, is what a resident process
 * pays (bench/README.md, api.sh: 64-67 MB after a workload without them, 53-56 MB with them and
 * the bundle): a small young generation, code kept small, and no optimising compilers (TurboFan
 * and Sparkplug: their code and the parts of Node's binary they run are never paged in; the
 * service waits on sockets and the executor, its JavaScript is not its cost).
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size', '--no-opt', '--no-sparkplug']
const OPTIONS_ENV = 'NSX_SERVICE_OPTIONS'
/** Set when execService set MALLOC_ARENA_MAX, so the service takes it out of what its children inherit. */
const ARENA_ENV = 'NSX_SERVICE_MALLOC_ARENA'

/**
 * `nsx system service`: the process replaces itself (execve, so the pid systemd or the caller
 * knows stays) with Node started with SERVICE_NODE_FLAGS on the service's own bundle
 * (dist/fast/service.cjs, built from src/api/main.ts: one script, not Node's ESM loader and a
 * module graph, so less of Node is paged in), else on src/api/main.ts; neither loads oclif. glibc
 * gets one malloc arena (MALLOC_ARENA_MAX=1: each of Node's threads would keep an arena of its
 * own). The parsed options travel in the environment, the activation sockets (LISTEN_FDS) are
 * inherited. Where that cannot be done, it serves in this process.
 */
export async function execService(opts: ServiceOptions): Promise<void> {
  const bundle = fileURLToPath(new URL('../../fast/service.cjs', import.meta.url))
  const main = existsSync(bundle) ? bundle : fileURLToPath(new URL('./main.js', import.meta.url))
  const fd = activationFd(process.env)
  const inherit = [0, 1, 2, ...(fd !== undefined ? Array.from({length: Number(process.env.LISTEN_FDS)}, (_, i) => fd + i) : [])]
  const arena = process.env.MALLOC_ARENA_MAX === undefined ? {MALLOC_ARENA_MAX: '1', [ARENA_ENV]: '1'} : {}
  try {
    const {execve} = await import('../ffi/libc.js')
    execve(process.execPath, [process.execPath, ...SERVICE_NODE_FLAGS, main], {...process.env, ...arena, [OPTIONS_ENV]: JSON.stringify(opts)}, inherit)
  } catch {
    // no koffi, or the exec failed: the same service, in this process
  }
  await runService(opts)
}

/** The options execService passed on, taken out of the environment (with the malloc setting it made, which containers must not inherit). */
export function passedOptions(env: NodeJS.ProcessEnv = process.env): ServiceOptions {
  const raw = env[OPTIONS_ENV]
  delete env[OPTIONS_ENV]
  if (env[ARENA_ENV]) {
    delete env.MALLOC_ARENA_MAX
    delete env[ARENA_ENV]
  }
  return raw ? (JSON.parse(raw) as ServiceOptions) : {}
}

/**
 * Serve in the foreground until SIGINT or SIGTERM, then close the socket (removing it when the
 * service made it). Containers are held by their own supervisors, so they outlive the service.
 */
export async function runService(opts: ServiceOptions): Promise<void> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`nsx system service: ${line}\n`))
  const service = await startService({...opts, log})
  log(`API listening on ${service.address}`)
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      log(`${sig}: closing ${service.address}`)
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      void service.close().then(resolve)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
