import {readFileSync} from 'node:fs'
import {constants} from 'node:os'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {killIfSame, readContainer, requestStop, withContainer} from '../container/state.js'
import {recordContainerEvent} from '../container/events.js'
import {thawIfPaused, waitSupervisorGone} from './stop.js'

/** Signals the supervisor and the container's init forward to the command (native/ops-container.c FORWARDED). */
const FORWARDED = new Set(['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGALRM'])

/** "TERM", "sigterm", "SIGTERM" or "15" to SIGTERM; an unknown one is nsx's error (docker: exit 1). */
export function parseSignal(s: string): NodeJS.Signals {
  const sigs = constants.signals as Record<string, number>
  if (/^\d+$/.test(s)) {
    const name = Object.keys(sigs).find((k) => sigs[k] === Number(s))
    if (name) return name as NodeJS.Signals
  } else {
    const up = s.toUpperCase()
    const name = up.startsWith('SIG') ? up : `SIG${up}`
    if (name in sigs) return name as NodeJS.Signals
  }
  throw NsxError.invalid(`invalid signal: ${s} (e.g. KILL, TERM, HUP, 9)`, 1)
}

/**
 * docker kill [-s SIG]: the signal reaches the command. SIGKILL goes to the init (the whole
 * pid namespace dies with it); the forwarded ones through the supervisor; any other straight
 * to the init's children (the command). Returns once sent, as docker does, except for SIGKILL:
 * then once the container has ended and its supervisor recorded it (moby's rule too).
 */
export async function killContainer(store: Store, ref: string, opts: {signal?: string} = {}): Promise<{name: string; id: string; signal: NodeJS.Signals}> {
  const signal = parseSignal(opts.signal ?? 'KILL')
  return withContainer(store, ref, async (c) => {
    if (c.status !== 'running' || !c.pids) throw NsxError.conflict(`cannot kill container ${ref}: container ${c.config.id.slice(0, 12)} is not running`, 1)
    // docker: a container killed (or stopped) by hand is not restarted by its policy.
    if (signal === 'SIGKILL' || signal === 'SIGTERM') requestStop(c.dir)
    // Told before it is sent, as docker does: the kill comes before the die it causes.
    recordContainerEvent(store, c, 'kill', {signal: String(constants.signals[signal] ?? signal)})
    if (signal === 'SIGKILL') {
      killIfSame(c.pids.init, signal)
      await thawIfPaused(c)
      // moby waits for a SIGKILLed container to be gone, so `kill` then `rm` works.
      if (!(await waitSupervisorGone(c, 10000))) throw NsxError.internal(`container ${c.config.name} did not stop: its supervisor (pid ${c.pids.supervisor.pid}) is still running`, 1)
      // Its die, before this kill returns (a watcher seeing it too tells it once).
      const now = readContainer(c.dir)
      if (now?.status === 'exited' && now.run?.startedAt) recordContainerEvent(store, now, 'die', {exitCode: String(now.exitCode ?? 0)}, `${c.config.id}/die/${now.run.startedAt}`)
    }
    else if (FORWARDED.has(signal)) killIfSame(c.pids.supervisor, signal)
    else {
      let children: number[] = []
      try {
        children = readFileSync(`/proc/${c.pids.init.pid}/task/${c.pids.init.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
      } catch {
        // ended meanwhile
      }
      if (readContainer(c.dir)?.status === 'running') for (const pid of children) process.kill(pid, signal)
    }
    return {name: c.config.name, id: c.config.id, signal}
  })
}
