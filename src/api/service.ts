import {fileURLToPath} from 'node:url'
import {type ServiceOptions, activationFd, startService} from './server.js'

/** Node's flags for the long-running service: a small young generation, code kept small (RSS, not speed, is what a resident service pays). */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size']
const OPTIONS_ENV = 'NSX_SERVICE_OPTIONS'

/**
 * `nsx system service`: the process replaces itself (execve, so the pid systemd or the caller
 * knows stays) with Node started with SERVICE_NODE_FLAGS on src/api/main.ts, which loads only the
 * service, not oclif; the parsed options travel in the environment, the activation sockets
 * (LISTEN_FDS) are inherited. Where that cannot be done, it serves in this process.
 */
export async function execService(opts: ServiceOptions): Promise<void> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url))
  const fd = activationFd(process.env)
  const inherit = [0, 1, 2, ...(fd !== undefined ? Array.from({length: Number(process.env.LISTEN_FDS)}, (_, i) => fd + i) : [])]
  try {
    const {execve} = await import('../ffi/libc.js')
    execve(process.execPath, [process.execPath, ...SERVICE_NODE_FLAGS, main], {...process.env, [OPTIONS_ENV]: JSON.stringify(opts)}, inherit)
  } catch {
    // no koffi, or the exec failed: the same service, in this process
  }
  await runService(opts)
}

/** The options execService passed on, taken out of the environment. */
export function passedOptions(env: NodeJS.ProcessEnv = process.env): ServiceOptions {
  const raw = env[OPTIONS_ENV]
  delete env[OPTIONS_ENV]
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
