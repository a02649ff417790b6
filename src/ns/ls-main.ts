import {FastOutcome, HELP, runFast, writeOut} from '../cli/fast.js'
import {GetoptError, OptionSpec, getoptAnywhere} from '../cli/getopt.js'
import type {PidResolver} from '../proc/target.js'
import {LsOptions, executeLs, jsonText} from './ls-run.js'
import {normaliseTreeArgs} from './ls-options.js'
import {packageVersion} from '../cli/version.js'

/**
 * The fast path of `nsx ls` (bin/nsx calls it before loading oclif, which costs more than
 * the scan itself): the same options as commands/ls.ts, parsed with getopt. --help goes
 * to oclif. Resolves to the exit code.
 */
export const LS_OPTIONS: readonly OptionSpec[] = [
  {key: 'output', long: 'output', short: 'o', arg: 'required'},
  {key: 'output-all', long: 'output-all', arg: 'none'},
  {key: 'type', long: 'type', short: 't', arg: 'required'},
  {key: 'task', long: 'task', short: 'p', arg: 'required'},
  {key: 'tree', long: 'tree', short: 'T', arg: 'optional'},
  {key: 'list', long: 'list', short: 'l', arg: 'none'},
  {key: 'noheadings', long: 'noheadings', short: 'n', arg: 'none'},
  {key: 'raw', long: 'raw', short: 'r', arg: 'none'},
  {key: 'notruncate', long: 'notruncate', short: 'u', arg: 'none'},
  {key: 'nowrap', long: 'nowrap', short: 'W', arg: 'none'},
  {key: 'json', long: 'json', short: 'J', arg: 'none'},
  {key: 'filter', long: 'filter', short: 'Q', arg: 'required'},
  {key: 'persistent', long: 'persistent', short: 'P', arg: 'none'},
  {key: 'list-columns', long: 'list-columns', short: 'H', arg: 'none'},
  {key: 'verbose', long: 'verbose', arg: 'none'},
  {key: 'version', long: 'version', short: 'V', arg: 'none'},
  {key: 'help', long: 'help', short: 'h', arg: 'none'},
]

/** Options anywhere on the line (as oclif takes them), words as the namespace argument. */
export function parseLsArgs(argv: readonly string[]): LsOptions | 'help' | 'version' {
  const r = getoptAnywhere(normaliseTreeArgs(argv), LS_OPTIONS)
  if (r.help) return 'help'
  if (r.options.some((x) => x.key === 'version')) return 'version'
  const o: LsOptions = {}
  for (const opt of r.options) {
    switch (opt.key) {
      case 'output':
        o.output = opt.value
        break
      case 'output-all':
        o.outputAll = true
        break
      case 'type':
        ;(o.type ??= []).push(opt.value ?? '')
        break
      case 'task':
        o.task = opt.value
        break
      case 'tree':
        o.tree = opt.value ?? 'process'
        break
      case 'list':
      case 'noheadings':
      case 'raw':
      case 'notruncate':
      case 'nowrap':
      case 'json':
      case 'persistent':
      case 'verbose':
        o[opt.key] = true
        break
      case 'list-columns':
        o.listColumns = true
        break
      case 'filter':
        if (o.filter !== undefined) throw new GetoptError('--filter may be given only once (join expressions with &&)')
        o.filter = opt.value
        break
    }
  }
  const positional = r.positional
  if (positional.length > 1) throw new GetoptError(`unexpected argument: ${positional[1]}`)
  o.namespace = positional[0]
  return o
}

/** @param resolvePid -p's resolver: oclif's command passes the one that knows containers. */
export function runLs(argv: readonly string[], resolvePid?: PidResolver): Promise<FastOutcome> {
  return runFast('ls', async () => {
    const o = parseLsArgs(argv)
    if (o === 'help') throw HELP
    if (o === 'version') return void (await writeOut(`nsx ls ${packageVersion()}\n`))
    const out = executeLs({...o, resolvePid})
    await writeOut('json' in out ? jsonText(out.json) : out.text)
  })
}
