import {NsxError, reportError} from '../cli/errors.js'

/** nsx run's (and nsx create's) options, docker run's flags: the table the fast path parses with. */

export type RunOutcome = {kind: 'help'} | {kind: 'done'; exitCode: number}

/**
 * `nsx run ARGS` = `nsx create` + `nsx start` (this folder): parse (docker's flags),
 * prepare the root from the image store, take the name and directory, make the cgroups, then
 * hand over to the native executor, which stays as the supervisor. Shared by bin/nsx's fast
 * path (no oclif) and commands/run.ts. Everything that fails before the executor runs is nsx's
 * own failure: one line, 125, nothing left. With `mode: 'create'` the container is only made.
 */
export async function runRun(argv: readonly string[], mode: 'run' | 'create' = 'run'): Promise<RunOutcome> {
  const undo: Array<() => void> = []
  const verb = `nsx ${mode}`
  try {
    const [{parseRunArgs}, {resolveCallerEnv}] = await Promise.all([import('../container/options.js'), import('../container/env-flags.js')])
    const o = parseRunArgs(argv)
    if (o.help) return {kind: 'help'}
    // docker's CLI: -e NAME takes this caller's value, else goes on bare (the container's NAME unset).
    o.env = resolveCallerEnv(o.env)
    if (mode === 'create' && o.detach) throw new NsxError('-d goes with nsx run; nsx create never starts the container', 125)
    // docker's check: -i with -t in the foreground relays this terminal, so there must be one (a pipe would hang at a prompt).
    if (mode === 'run' && o.interactive && o.tty && !o.detach && !o.dryRun && !(await import('node:tty')).isatty(0)) return {kind: 'done', exitCode: reportError(new NsxError('the input device is not a TTY', 1), 'nsx run', 1)}
    const {createContainer} = await import('./create.js')
    const created = await createContainer(o, {dryRun: o.dryRun, undo})
    if (o.dryRun) {
      const {planStart} = await import('./start.js')
      const {plan} = await planStart(created.store, created.config, created.dir, {detached: o.detach})
      const {renderDryRun, dryRunJson} = await import('../plan/dry-run.js')
      process.stdout.write(o.json ? `${JSON.stringify({...dryRunJson(plan), spec: created.config.spec}, null, 2)}\n` : renderDryRun(plan))
      return {kind: 'done', exitCode: 0}
    }
    const [{readContainer}, {removeContainer}] = await Promise.all([import('../container/state.js'), import('../container/sweep.js')])
    undo.length = 0
    undo.push(() => {
      const c = readContainer(created.dir)
      if (c) removeContainer(created.store, c)
    })
    if (mode === 'create') {
      process.stdout.write(`${created.config.id}\n`)
      return {kind: 'done', exitCode: 0}
    }
    const {launch} = await import('./start.js')
    const {lockContainer} = await import('../container/state.js')
    const {lock, container} = await lockContainer(created.store, readContainer(created.dir)!)
    try {
      // Foreground: never returns (nsx becomes the supervisor); the lock goes with the exec.
      await launch(created.store, container, {detached: o.detach, lock})
    } catch (err) {
      // A container that could not start stays, as docker keeps it (exited 125/126/127), unless --rm.
      if (!o.rm) undo.length = 0
      else {
        // its supervisor removed it already, or nothing was started: the undo takes what is left
      }
      throw err
    } finally {
      lock.release()
    }
    undo.length = 0 // the supervisor owns the cleanup now
    process.stdout.write(`${created.config.id}\n`)
    return {kind: 'done', exitCode: 0}
  } catch (err) {
    for (const u of undo.reverse()) {
      try {
        u()
      } catch {
        // best effort: the next sweep removes the rest
      }
    }
    // The store's errors carry the inspection commands' 1; before the executor runs, nsx run fails with 125.
    const e = err instanceof NsxError && err.exitCode === 1 ? new NsxError(err.message, 125) : err
    return {kind: 'done', exitCode: reportError(e, verb, 125)}
  }
}
