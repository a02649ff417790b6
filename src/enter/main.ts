import {NsxError, reportError} from '../cli/errors.js'
import {packageVersion} from '../cli/version.js'
import {buildEnterPlan} from '../plan/enter.js'
import {execPlan, inheritedFds} from '../plan/executor.js'
import {validatePlan} from '../plan/validate.js'
import {gatherEnterFacts} from './facts.js'
import {nsenterOptionsGiven, parseEnterArgs} from './options.js'
import {EnterOptions} from '../plan/enter.js'
import {isTargetSpec, resolveTarget} from './target.js'

/** What the caller should do when runEnter returns instead of exec'ing. */
export type EnterOutcome = {kind: 'help'} | {kind: 'done'; exitCode: number}

/**
 * `nsx enter ARGS`: parse like nsenter, resolve the target, build the plan, then either
 * print it (--dry-run) or execve into the executor. Shared by bin/nsx's fast path
 * (no oclif loaded) and commands/enter.ts. Every failure is one line and exit 125.
 */
/**
 * Whether the nsenter path takes this non-numeric target: with -t, a name that is no
 * container keeps the old "invalid target" message; a positional word always goes to
 * the container path, which says there is no such container.
 */
async function keepsNsenterPath(spec: string, positional: boolean): Promise<boolean> {
  if (positional) return false
  const {Store} = await import('../store/store.js')
  const {findByNameOrId} = await import('../container/exec.js')
  return findByNameOrId(Store.open(undefined, {create: false}), spec) === undefined
}

/** nsx enter NAME: nsx exec's plan (the container's restrictions), with a shell when no command is given. */
async function enterContainer(o: EnterOptions, inherit: readonly number[]): Promise<EnterOutcome> {
  const given = nsenterOptionsGiven(o)
  if (given.length > 0) {
    throw new NsxError(`${given.join(' ')}: nsx enter NAME runs with the container's restrictions, as nsx exec does; for nsenter's options give --privileged, or -t PID`, 125)
  }
  const [{prepareExec}, {Store}, {isatty}] = await Promise.all([import('../container/exec.js'), import('../store/store.js'), import('node:tty')])
  const stdinIsTerminal = isatty(0)
  let prepared
  try {
    prepared = await prepareExec(Store.open(undefined, {create: false}), {
      container: o.target!,
      command: o.command,
      interactive: true,
      tty: stdinIsTerminal,
      detach: false,
      env: [],
      envFiles: [],
      privileged: false,
      stdinIsTerminal,
      label: 'nsx enter',
    })
  } catch (err) {
    if (err instanceof NsxError && err.kind === 'not-found') {
      throw new NsxError(`no such container: ${o.target} (nsx enter takes a PID or a container's name or id, or -t PID)`, 125)
    }
    throw err
  }
  const plan = validatePlan(prepared.plan)
  if (o.dryRun) {
    const {renderDryRun, dryRunJson} = await import('../plan/dry-run.js')
    process.stdout.write(o.json ? `${JSON.stringify(dryRunJson(plan), null, 2)}\n` : renderDryRun(plan))
    return {kind: 'done', exitCode: 0}
  }
  return await execPlan(plan, inherit)
}

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
    // Without -t the first word is the target, unless a namespace is given by its file
    // (nsx enter --net=/run/netns/x ip link); `--` after it ends nsx's part, as with nsenter.
    const byFile = [...o.namespaces.values()].some((f) => f !== undefined) || o.netSocket !== undefined
    const positional = o.target === undefined && o.command.length > 0 && (!byFile || (await isTargetSpec(o.command[0])))
    if (positional) {
      o.target = o.command.shift()
      if (o.command[0] === '--') o.command.shift()
    }
    if (o.target !== undefined && !/^\d+$/.test(o.target) && !(await keepsNsenterPath(o.target, positional))) {
      // A container: by default exactly what nsx exec gives (its restrictions), nsenter's full privileges only with --privileged.
      if (!o.privileged) return await enterContainer(o, inherit)
      if (o.command.length === 0) o.command = ['/bin/sh']
    }
    const target = o.target === undefined ? undefined : await resolveTarget(o.target)
    const facts = await gatherEnterFacts(o, target)
    const plan = validatePlan(buildEnterPlan(o, facts))
    if (o.dryRun) {
      // Loaded here only: the describer is not needed on the way to exec.
      const {renderDryRun, dryRunJson} = await import('../plan/dry-run.js')
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
