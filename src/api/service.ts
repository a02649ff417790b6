import {type ServiceOptions, startService} from './server.js'

/**
 * `nsx system service`: serve in the foreground until SIGINT or SIGTERM, then close the socket
 * (removing it when the service made it). Containers are held by their own supervisors, so they
 * outlive the service.
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
