import {FastOutcome, HELP, runFast, writeOut} from '../cli/fast.js'
import {GetoptError, OptionSpec, getoptAnywhere} from '../cli/getopt.js'
import {PstreeOptions, executePstree} from './run.js'

/**
 * The fast path of `nsx pstree` (bin/nsx calls it before loading oclif, which costs several
 * times the work itself): the same flags as commands/pstree.ts, parsed with getopt; --help
 * goes to oclif.
 */
export const PSTREE_OPTIONS: readonly OptionSpec[] = [
  {key: 'ns', long: 'ns', arg: 'required'},
  {key: 'arguments', long: 'arguments', short: 'a', arg: 'none'},
  {key: 'uid-changes', long: 'uid-changes', short: 'u', arg: 'none'},
  {key: 'show-parents', long: 'show-parents', short: 's', arg: 'none'},
  {key: 'threads', long: 'threads', arg: 'none'},
  {key: 'ascii', long: 'ascii', short: 'A', arg: 'none'},
  {key: 'json', long: 'json', arg: 'none'},
  {key: 'verbose', long: 'verbose', arg: 'none'},
  {key: 'help', long: 'help', short: 'h', arg: 'none'},
]

/** Options anywhere on the line, as oclif takes them. */
export function parsePstreeArgs(argv: readonly string[]): PstreeOptions | 'help' {
  // "-5" is a (bad) pid to refuse with a clear message, not a cluster of unknown short options.
  const r = getoptAnywhere(argv, PSTREE_OPTIONS, true)
  if (r.help) return 'help'
  const o: PstreeOptions = {}
  for (const opt of r.options) {
    switch (opt.key) {
      case 'ns':
        o.ns = opt.value
        break
      case 'arguments':
        o.arguments = true
        break
      case 'uid-changes':
        o.uidChanges = true
        break
      case 'show-parents':
        o.showParents = true
        break
      case 'threads':
        o.threads = true
        break
      case 'ascii':
        o.ascii = true
        break
      case 'json':
        o.json = true
        break
      case 'verbose':
        o.verbose = true
        break
    }
  }
  const positional = r.positional
  if (positional.length > 1) throw new GetoptError(`unexpected argument: ${positional[1]}`)
  o.pid = positional[0]
  return o
}

export function runPstree(argv: readonly string[]): Promise<FastOutcome> {
  return runFast('pstree', async () => {
    const o = parsePstreeArgs(argv)
    if (o === 'help') throw HELP
    const out = executePstree(o)
    await writeOut(out.stdout)
    if (out.warning) process.stderr.write(`nsx pstree: ${out.warning}\n`)
  })
}
