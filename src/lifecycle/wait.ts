import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {alive, readContainer, readTombstone, resolveContainer, sleep} from '../container/state.js'

/**
 * docker wait: blocks until the container is not running and returns its exit code. Takes
 * no lock (a stop or kill goes on meanwhile). A created container is waited for until it
 * has run, as docker's default condition does.
 */
export async function waitContainer(store: Store, ref: string, opts: {signal?: AbortSignal} = {}): Promise<{name: string; id: string; exitCode: number}> {
  const c = resolveContainer(store, ref)
  let last = c
  // The supervisor is the container's life. An --rm one removes the directory as its last act,
  // file by file (pids or config.json may go before the rest): what is read meanwhile is not
  // the end, so its supervisor, once seen, is waited for.
  let supervisor = c.pids?.supervisor
  for (let i = 0; ; i++) {
    const now = readContainer(c.dir)
    if (now?.pids) supervisor = now.pids.supervisor
    if ((!now || now.status === 'exited') && supervisor && alive(supervisor)) {
      await sleep(5)
      continue
    }
    if (!now) {
      // A detached --rm container removed itself; its supervisor left the code beside its directory.
      const tomb = readTombstone(c.dir)
      if (tomb) {
        last = {...last, status: 'exited', exitCode: tomb.code}
        break
      }
      if (last.status === 'exited' && last.exitCode !== undefined) break
      throw new NsxError(`container ${ref} was removed before its exit code could be read`, 1)
    }
    last = now
    if (now.status === 'exited') break
    if (opts.signal?.aborted) throw new NsxError('interrupted', 1)
    await sleep(i < 50 ? 5 : 50)
  }
  return {name: c.config.name, id: c.config.id, exitCode: last.exitCode ?? 0}
}
