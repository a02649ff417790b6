import {removeTree} from './store.js'

/**
 * Directories to remove if nsx is interrupted (Ctrl-C, SIGTERM, hangup) while it
 * extracts into them, so an interrupted load leaves nothing behind. After cleaning up,
 * the signal is raised again, so nsx dies of it as a shell expects.
 */

const pending = new Set<string>()
let installed = false

function onSignal(sig: NodeJS.Signals): void {
  for (const d of pending) {
    try {
      removeTree(d)
    } catch {
      // gc removes what is left in tmp/
    }
  }
  pending.clear()
  process.kill(process.pid, sig)
}

/**
 * Install the handlers. Call it before creating a directory to register: a signal that
 * arrives in between then waits for the event loop, by which time the directory is listed.
 */
export function armInterruptCleanup(): void {
  if (installed) return
  installed = true
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, onSignal)
}

/** Remove dir if interrupted before the returned function is called. */
export function removeOnInterrupt(dir: string): () => void {
  armInterruptCleanup()
  pending.add(dir)
  return () => pending.delete(dir)
}
