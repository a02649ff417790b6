import {NsxError} from '../cli/errors.js'
import {FastOutcome, HELP, runFast, writeOut} from '../cli/fast.js'
import {GetoptError, OptionSpec, getoptAnywhere} from '../cli/getopt.js'
import {palette} from '../render/colour.js'
import {deniedNote, gatherReport} from './report.js'
import {renderReport} from './render-report.js'
import {gatherUidmap, IdRequest} from './uidmap.js'
import {renderUidmap} from './render-uidmap.js'

/**
 * The fast paths of `nsx inspect` and `nsx uidmap`: bin/nsx calls these before loading oclif,
 * which would cost several times the work itself. Same flags and output as
 * commands/inspect.ts and commands/uidmap.ts; --help goes to oclif.
 */
const COMMON_OPTIONS: readonly OptionSpec[] = [
  {key: 'json', long: 'json', arg: 'none'},
  {key: 'help', long: 'help', short: 'h', arg: 'none'},
]

export const INSPECT_OPTIONS: readonly OptionSpec[] = [
  {key: 'type', long: 'type', arg: 'required'},
  {key: 'format', long: 'format', short: 'f', arg: 'required'},
  ...COMMON_OPTIONS,
]

export const UIDMAP_OPTIONS: readonly OptionSpec[] = [
  {key: 'uid', long: 'uid', arg: 'required'},
  {key: 'gid', long: 'gid', arg: 'required'},
  {key: 'to-inside', long: 'to-inside', arg: 'none'},
  ...COMMON_OPTIONS,
]

/** nsx inspect --type: container is docker's JSON of a container; process (the default) nsx's report of a pid's isolation. */
export const INSPECT_TYPES = ['process', 'container'] as const

/** Whether the line asks for docker's view (--type container, or -f TEMPLATE); an unknown --type is refused. */
export function wantsDockerView(type: string | undefined, format: string | undefined): boolean {
  if (type !== undefined && !(INSPECT_TYPES as readonly string[]).includes(type)) throw new NsxError(`unknown --type "${type}": container (docker's JSON of a container) or process (nsx's report of a process's isolation, the default)`)
  if (type === 'process' && format !== undefined) throw new NsxError('--format applies to --type container (docker\'s JSON); for a process, use --json')
  return type === 'container' || format !== undefined
}

export interface ParsedArgs {
  help: boolean
  positional: string[]
  values: Map<string, string | true>
  /** Every option as given, in order (values keeps only the last of a repeated one). */
  given: {key: string; value: string | true}[]
}

/** Options anywhere on the line, as oclif takes them. */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], usage: string, opts: {many?: boolean} = {}): ParsedArgs {
  let r
  try {
    // "-5" is a pid (to refuse with a clear message), unless it is the value of --uid/--gid.
    r = getoptAnywhere(argv, specs, true)
  } catch (err) {
    if (err instanceof GetoptError) throw new NsxError(err.message)
    throw err
  }
  const {positional} = r
  const values = new Map<string, string | true>()
  const given = r.options.map((o) => ({key: o.key, value: o.value ?? (true as const)}))
  for (const o of given) values.set(o.key, o.value)
  if (r.help) return {help: true, positional, values, given}
  if (positional.length === 0) throw new NsxError(`missing pid (usage: ${usage})`)
  if (positional.length > 1 && !opts.many) throw new NsxError(`unexpected argument: ${positional[1]}`)
  return {help: false, positional, values, given}
}

/** JSON as oclif's enableJsonFlag prints it: two-space indentation and a newline. */
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

export function runInspect(argv: readonly string[]): Promise<FastOutcome> {
  return runFast('inspect', async () => {
    const a = parseArgs(argv, INSPECT_OPTIONS, 'nsx inspect PID [--json]', {many: true})
    if (a.help) throw HELP
    const str = (k: string) => (typeof a.values.get(k) === 'string' ? (a.values.get(k) as string) : undefined)
    if (wantsDockerView(str('type'), str('format'))) {
      const [{Store}, {dockerInspect}] = await Promise.all([import('../store/store.js'), import('../lifecycle/inspect.js')])
      await writeOut((await dockerInspect(Store.open(undefined, {create: false}), a.positional, str('format'))).text)
      return
    }
    if (a.positional.length > 1) throw new NsxError(`unexpected argument: ${a.positional[1]} (one pid; several containers with --type container)`)
    const report = gatherReport(a.positional[0])
    await writeOut(a.values.has('json') ? json(report) : renderReport(report, palette(process.stdout)))
    const note = deniedNote(report)
    if (note) process.stderr.write(`${note}\n`)
  })
}

export function runUidmap(argv: readonly string[]): Promise<FastOutcome> {
  return runFast('uidmap', async () => {
    const a = parseArgs(argv, UIDMAP_OPTIONS, 'nsx uidmap PID [--uid N] [--gid N] [--to-inside] [--json]')
    if (a.help) throw HELP
    const ids = a.given.flatMap<IdRequest>(({key, value}) => ((key === 'uid' || key === 'gid') && typeof value === 'string' ? [{kind: key, arg: value}] : []))
    const report = gatherUidmap(a.positional[0], {ids, toInside: a.values.has('to-inside')})
    await writeOut(a.values.has('json') ? json(report) : renderUidmap(report, palette(process.stdout)))
  })
}
