import {FastOutcome, HELP, runFast, writeOut} from '../cli/fast.js'
import {GetoptError, OptionSpec, getoptAnywhere} from '../cli/getopt.js'
import {LsOptions, executeLs, jsonText} from './ls-run.js'
import {normaliseTreeArgs} from './ls-options.js'

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
  {key: 'json', long: 'json', arg: 'none'},
  {key: 'help', long: 'help', short: 'h', arg: 'none'},
]

/** Options anywhere on the line (as oclif takes them), words as the namespace argument. */
export function parseLsArgs(argv: readonly string[]): LsOptions | 'help' {
  const r = getoptAnywhere(normaliseTreeArgs(argv), LS_OPTIONS)
  if (r.help) return 'help'
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
      case 'json':
        o[opt.key] = true
        break
      // nowrap: accepted, nothing to do (nsx never wraps)
    }
  }
  const positional = r.positional
  if (positional.length > 1) throw new GetoptError(`unexpected argument: ${positional[1]}`)
  o.namespace = positional[0]
  return o
}

export function runLs(argv: readonly string[]): Promise<FastOutcome> {
  return runFast('ls', async () => {
    const o = parseLsArgs(argv)
    if (o === 'help') throw HELP
    const out = executeLs(o)
    await writeOut('json' in out ? jsonText(out.json) : out.text)
  })
}
