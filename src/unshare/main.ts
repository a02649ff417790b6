import {reportError} from '../cli/errors.js'
import {packageVersion} from '../cli/version.js'
import type {NsType} from '../ns/types.js'
import {execPlan} from '../plan/executor.js'
import {validatePlan} from '../plan/validate.js'
import {checkCommand, checkPersistTarget, checkRoot, gatherUnshareFacts} from './facts.js'
import {parseUnshareArgs} from './options.js'
import {buildUnsharePlan} from './plan.js'

/** What the caller should do when runUnshare returns instead of exec'ing. */
export type UnshareOutcome = {kind: 'help'} | {kind: 'done'; exitCode: number}

/**
 * `nsx unshare ARGS`: parse like util-linux unshare, check every input, build the plan,
 * then print it (--dry-run) or execve into the native executor. Shared by bin/nsx's
 * fast path (no oclif) and commands/unshare.ts. Failures before the executor runs are
 * one line and exit 125 (127 for a command that does not exist).
 */
export async function runUnshare(argv: readonly string[]): Promise<UnshareOutcome> {
  try {
    const o = parseUnshareArgs(argv)
    if (o.help) return {kind: 'help'}
    if (o.version) {
      process.stdout.write(`nsx unshare ${packageVersion()}\n`)
      return {kind: 'done', exitCode: 0}
    }
    const persist = new Map<NsType, string>()
    for (const [t, file] of o.namespaces) if (file !== undefined) persist.set(t, checkPersistTarget(t, file))
    checkRoot(o)
    if (!o.dryRun) checkCommand(o)
    const facts = await gatherUnshareFacts(o)
    const plan = validatePlan(buildUnsharePlan(o, facts, persist))
    if (o.dryRun) {
      const {renderDryRun, dryRunJson} = await import('../plan/dry-run.js')
      process.stdout.write(o.json ? `${JSON.stringify(dryRunJson(plan), null, 2)}\n` : renderDryRun(plan))
      return {kind: 'done', exitCode: 0}
    }
    return await execPlan(plan)
  } catch (err) {
    return {kind: 'done', exitCode: reportError(err, 'nsx unshare', 125)}
  }
}
