import {spawn} from 'node:child_process'
import {closeSync, openSync, readFileSync} from 'node:fs'
import type {Socket} from 'node:net'
import {constants as osConstants} from 'node:os'
import {NsxError} from '../cli/errors.js'
import {encodePlan} from '../plan/encode.js'
import {execPlan, sealedExecutor} from '../plan/executor.js'
import type {Plan} from '../plan/ops.js'
import {validatePlan} from '../plan/validate.js'

/**
 * Starting the executor for a container, from the sealed memfd copy src/plan/executor.ts
 * makes (runc's answer to CVE-2019-5736): /proc/PID/exe of every process nsx starts in the
 * container then names a file nobody can write.
 */

/** Foreground: execve into the executor (same pid: nsx becomes the supervisor). Never returns. */
export async function execForeground(plan: Plan): Promise<never> {
  return execPlan(plan)
}

/** fd number the detached executor gets its ready pipe on. */
export const READY_FD = 3
/** fd number of the attached client's socket (nsx start -a): the supervisor's first attach client (ctr-attach-client). */
export const ATTACH_CLIENT_FD = 4

export interface DetachedStart {
  /** The supervisor's pid. */
  pid: number
  /** null when the command was exec'd; else the executor's exit status (126/127/125). */
  failed: number | null
  /** On failure, the last line the executor wrote (its error). */
  message?: string
  /** With attachClient: our end of the socket pair the supervisor serves as an attach client. */
  attach?: Socket
  /** With attachClient: the supervisor's own exit status, the command's (128+N for signal N); known even when an --rm container is gone. */
  exited?: Promise<number>
}

/**
 * Detached: spawn the executor in its own session, stdout and stderr to LOG, and wait
 * until the command has been exec'd (the ready pipe closes with no byte) or failed
 * (a byte: 126/127, or the executor's own exit).
 */
export async function startDetached(plan: Plan, log: string, onSpawn: (pid: number) => void, containerLog?: string, opts: {attachClient?: boolean} = {}): Promise<DetachedStart> {
  validatePlan(plan)
  const fd = await sealedExecutor()
  const argv = encodePlan(plan)
  const out = openSync(log, 'a', 0o600)
  // Read through our own fds: on failure an --rm container's supervisor removes the logs with it.
  const rd = openSync(log, 'r')
  let crd: number | undefined
  if (containerLog) {
    closeSync(openSync(containerLog, 'a', 0o600))
    crd = openSync(containerLog, 'r')
  }
  try {
    const child = spawn(`/proc/${process.pid}/fd/${fd}`, argv.slice(1), {
      argv0: argv[0],
      detached: true,
      // A background supervisor must not keep the caller's working directory busy.
      cwd: '/',
      // A 'pipe' is a socket pair: fd 4 is an attach client's (ctr-attach-client) from the fork on.
      stdio: opts.attachClient ? ['ignore', out, out, 'pipe', 'pipe'] : ['ignore', out, out, 'pipe'],
    })
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!))
      child.once('error', (err) => reject(NsxError.internal(`cannot start the executor: ${err.message}`, 125)))
    })
    onSpawn(pid)
    const ready = child.stdio[3] as NodeJS.ReadableStream
    const exited = new Promise<void>((res) => (child.exitCode !== null || child.signalCode !== null ? res() : child.once('exit', () => res())))
    const result = await new Promise<DetachedStart>((resolve) => {
      let byte: number | undefined
      let settled = false
      const finish = (failed: number | null) => {
        if (settled) return
        settled = true
        resolve({pid, failed})
      }
      ready.on('data', (d: Buffer) => (byte ??= d[0]))
      ready.on('end', () => finish(byte ?? null))
      ready.on('error', () => finish(byte ?? null))
      child.once('exit', (code, signal) => {
        // The executor ended before the command ran: its own failure (or the command's, already reported).
        if (byte === undefined) finish(code ?? (signal ? 128 : 125))
      })
    })
    // A failed start: the supervisor is cleaning up; report once it is done, so nothing is left.
    if (result.failed !== null && result.failed !== 0) {
      await exited
      const text = readFileSync(rd, 'utf8').trim().split('\n')
      // The command's own failure (126/127) is on its stderr, which the supervisor logs: the last such entry.
      let last = text[text.length - 1]
      if (crd !== undefined) {
        const entries = readFileSync(crd, 'utf8').trim().split('\n').filter((l) => l.includes('"stream":"stderr"'))
        try {
          if (entries.length > 0) last = (JSON.parse(entries[entries.length - 1]) as {log: string}).log.trim()
        } catch {
          // a torn entry: keep the executor's line
        }
      }
      result.message = last?.replace(/^nsx (run|start|restart): /, '')
    }
    child.unref()
    ;(child.stdio[3] as unknown as {destroy(): void}).destroy()
    if (opts.attachClient) {
      const sock = child.stdio[4] as unknown as Socket
      if (result.failed === null || result.failed === 0) {
        result.attach = sock
        // The supervisor exits with the command's status (the child stays unreferenced: a detach leaves it be).
        result.exited = exited.then(() => child.exitCode ?? 128 + ((child.signalCode && (osConstants.signals as Record<string, number>)[child.signalCode]) || 0))
      } else sock.destroy()
    }
    return result
  } finally {
    closeSync(out)
    closeSync(rd)
    if (crd !== undefined) closeSync(crd)
    closeSync(fd)
  }
}
