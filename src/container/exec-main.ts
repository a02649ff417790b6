import {NsxError, reportError} from '../cli/errors.js'
import {OptionSpec, getoptForCommand} from '../cli/getopt.js'
import {execPlan, inheritedFds} from '../plan/executor.js'
import {validatePlan} from '../plan/validate.js'
import type {ExecOptions} from './exec.js'
import {resolveCallerEnv} from './env-flags.js'

export type ExecOutcome = {kind: 'help'} | {kind: 'done'; exitCode: number}

/** docker exec's flags (and nsx's --dry-run/--json). Options end at the container's name. */
export const EXEC_OPTIONS: readonly OptionSpec[] = [
  {key: 'interactive', long: 'interactive', short: 'i', arg: 'none'},
  {key: 'tty', long: 'tty', short: 't', arg: 'none'},
  {key: 'detach', long: 'detach', short: 'd', arg: 'none'},
  {key: 'user', long: 'user', short: 'u', arg: 'required'},
  {key: 'env', long: 'env', short: 'e', arg: 'required'},
  {key: 'env-file', long: 'env-file', arg: 'required'},
  {key: 'workdir', long: 'workdir', short: 'w', arg: 'required'},
  {key: 'privileged', long: 'privileged', arg: 'none'},
  {key: 'dry-run', long: 'dry-run', arg: 'none'},
  {key: 'json', long: 'json', arg: 'none'},
  {key: 'help', long: 'help', arg: 'none'},
]

export interface ParsedExec {
  options: Omit<ExecOptions, 'stdinIsTerminal'>
  dryRun: boolean
  json: boolean
  help: boolean
}

export function parseExecArgs(argv: readonly string[]): ParsedExec {
  const parsed = getoptForCommand('exec', argv, EXEC_OPTIONS)
  const r: ParsedExec = {
    options: {container: '', command: [], interactive: false, tty: false, detach: false, env: [], envFiles: [], privileged: false},
    dryRun: false,
    json: false,
    help: false,
  }
  const o = r.options
  for (const {key, value} of parsed.options) {
    switch (key) {
      case 'interactive': o.interactive = true; break
      case 'tty': o.tty = true; break
      case 'detach': o.detach = true; break
      case 'user': o.user = value; break
      case 'env': o.env.push(value ?? ''); break // given the caller's value below (docker's CLI)
      case 'env-file': o.envFiles.push(value ?? ''); break
      case 'workdir': o.workdir = value; break
      case 'privileged': o.privileged = true; break
      case 'dry-run': r.dryRun = true; break
      case 'json': r.json = true; break
      case 'help': r.help = true; break
    }
  }
  if (r.help) return r
  if (r.json && !r.dryRun) throw new NsxError('--json only goes with --dry-run', 125)
  const [container, ...command] = parsed.rest
  if (container === undefined || command.length === 0) throw new NsxError('"nsx exec" requires at least 2 arguments: CONTAINER COMMAND [ARG...] (see nsx exec --help)', 125)
  o.container = container
  o.command = command
  o.env = resolveCallerEnv(o.env)
  return r
}

/**
 * `nsx exec ARGS`: parse docker exec's flags, build the plan from the container's saved
 * restrictions (src/container/exec.ts), then print it (--dry-run) or execve into the
 * executor. Shared by bin/nsx's fast path and commands/exec.ts.
 */
export async function runExec(argv: readonly string[]): Promise<ExecOutcome> {
  const inherit = inheritedFds()
  try {
    const p = parseExecArgs(argv)
    if (p.help) return {kind: 'help'}
    const [{prepareExec}, {Store}] = await Promise.all([import('./exec.js'), import('../store/store.js')])
    const {isatty} = await import('node:tty')
    const store = Store.open(undefined, {create: false})
    const prepared = await prepareExec(store, {...p.options, stdinIsTerminal: isatty(0)})
    const plan = validatePlan(prepared.plan)
    if (p.dryRun) {
      const {renderDryRun, dryRunJson} = await import('../plan/dry-run.js')
      process.stdout.write(p.json ? `${JSON.stringify({...dryRunJson(plan), container: prepared.container}, null, 2)}\n` : renderDryRun(plan))
      return {kind: 'done', exitCode: 0}
    }
    return await execPlan(plan, inherit)
  } catch (err) {
    return {kind: 'done', exitCode: reportError(err, 'nsx exec', 125)}
  }
}
