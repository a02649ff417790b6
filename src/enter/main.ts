import {NsxError, reportError} from '../cli/errors.js'
import {packageVersion} from '../cli/version.js'
import {buildEnterPlan} from '../plan/enter.js'
import {execPlan, inheritedFds} from '../plan/executor.js'
import {validatePlan} from '../plan/validate.js'
import {gatherEnterFacts} from './facts.js'
import {parseEnterArgs} from './options.js'
import {isTargetSpec, resolveTarget} from './target.js'

/** What the caller should do when runEnter returns instead of exec'ing. */
export type EnterOutcome = {kind: 'help'} | {kind: 'done'; exitCode: number}

/**
 * `nsx enter ARGS`: parse like nsenter, resolve the target, build the plan, then either
 * print it (--dry-run) or execve into the executor. Shared by bin/nsx's fast path
 * (no oclif loaded) and commands/enter.ts. Every failure is one line and exit 125.
 */
export async function runEnter(argv: readonly string[]): Promise<EnterOutcome> {
  // Before anything of ours opens a file (a container's state, the store): only these reach the command.
  const inherit = inheritedFds()
  try {
    const o = parseEnterArgs(argv)
    if (o.help) return {kind: 'help'}
    if (o.version) {
      process.stdout.write(`nsx enter ${packageVersion()}\n`)
      return {kind: 'done', exitCode: 0}
    }
    if (o.target === undefined && o.command.length > 0 && (await isTargetSpec(o.command[0]))) {
      o.target = o.command.shift()
    }
    const target = o.target === undefined ? undefined : await resolveTarget(o.target)
    const facts = await gatherEnterFacts(o, target)
    const plan = validatePlan(buildEnterPlan(o, facts))
    if (o.dryRun) {
      // Loaded here only: the describer is not needed on the way to exec.
      const {renderDryRun, dryRunJson} = await import('./dry-run.js')
      process.stdout.write(o.json ? `${JSON.stringify(dryRunJson(plan), null, 2)}\n` : renderDryRun(plan))
      return {kind: 'done', exitCode: 0}
    }
    return await execPlan(plan, inherit)
  } catch (err) {
    // Everything that fails before the executor runs is nsx's own failure: 125.
    const e = err instanceof NsxError ? new NsxError(err.message, 125) : err
    return {kind: 'done', exitCode: reportError(e, 'nsx enter', 125)}
  }
}
