import type {FastOutcome} from '../cli/fast.js'
import {NsxError, debugEnabled, describeError} from '../cli/errors.js'
import {GetoptError, OptionSpec, getoptAnywhere} from '../cli/getopt.js'
import {SORT_KEYS, SortKey} from '../cgroup/snapshot.js'
import {TopOptions, executeTop} from './top.js'

/**
 * The fast path of `nsx top` (bin/nsx calls it before loading oclif, which would cost more
 * start-up time than the first screen itself): the flags of commands/top.ts, parsed with
 * getopt, options anywhere on the line as oclif takes them; --help goes to oclif.
 */
export const TOP_OPTIONS: readonly OptionSpec[] = [
  {key: 'batch', long: 'batch', short: 'b', arg: 'none'},
  {key: 'iterations', long: 'iterations', short: 'n', arg: 'required'},
  {key: 'delay', long: 'delay', short: 'd', arg: 'required'},
  {key: 'sort', long: 'sort', short: 's', arg: 'required'},
  {key: 'flat', long: 'flat', arg: 'none'},
  {key: 'json', long: 'json', arg: 'none'},
  {key: 'help', long: 'help', short: 'h', arg: 'none'},
]

export function parseTopArgs(argv: readonly string[]): TopOptions | 'help' {
  const o: TopOptions = {batch: false, delay: '1', sort: 'cpu', flat: false, json: false}
  const r = getoptAnywhere(argv, TOP_OPTIONS)
  if (r.help) return 'help'
  for (const opt of r.options) {
    switch (opt.key) {
      case 'batch':
        o.batch = true
        break
      case 'flat':
        o.flat = true
        break
      case 'json':
        o.json = true
        break
      case 'delay':
        o.delay = opt.value ?? ''
        break
      case 'iterations': {
        const v = opt.value ?? ''
        if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) {
          throw new NsxError(`invalid iterations '${v}': expected a whole number of at least 1`)
        }
        o.iterations = Number(v)
        break
      }
      case 'sort': {
        const v = opt.value ?? ''
        if (!(SORT_KEYS as readonly string[]).includes(v)) {
          throw new NsxError(`invalid sort key '${v}': expected one of ${SORT_KEYS.join(', ')}`)
        }
        o.sort = v as SortKey
        break
      }
    }
  }
  const positional = r.positional
  if (positional.length > 1) throw new NsxError(`unexpected argument: ${positional[1]} (nsx top takes one cgroup path)`)
  o.cgroup = positional[0]
  return o
}

export async function runTop(argv: readonly string[]): Promise<FastOutcome> {
  try {
    let o: TopOptions | 'help'
    try {
      o = parseTopArgs(argv)
    } catch (err) {
      // A usage error: one line, exit 1, as oclif's would be.
      if (err instanceof GetoptError) throw new NsxError(err.message)
      throw err
    }
    if (o === 'help') return {kind: 'help'}
    // A word without a slash may name a container: oclif's command resolves it.
    if (o.cgroup !== undefined && !o.cgroup.includes('/')) return {kind: 'oclif'}
    await executeTop(o)
    return {kind: 'done', exitCode: 0}
  } catch (err) {
    const {line, exitCode} = describeError(err, 1)
    process.stderr.write(`nsx top: ${line}\n`)
    if (debugEnabled() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`)
    return {kind: 'done', exitCode}
  }
}
