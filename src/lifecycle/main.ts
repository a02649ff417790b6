import {NsxError} from '../cli/errors.js'
import {eachRef} from '../cli/each-ref.js'
import {FastOutcome, HELP, runFast, VIA_OCLIF} from '../cli/fast.js'
import {getoptAnywhere, GetoptError, OptionSpec, ParsedOption} from '../cli/getopt.js'
import type {Store} from '../store/store.js'

/**
 * bin/nsx's fast path for the verbs a script calls in a loop: start, stop, kill, wait, pause,
 * unpause. Loading oclif costs ~40 ms (more on a loaded machine), several times the verb's
 * own work; these parse with getopt (options anywhere, as oclif and docker take them), call
 * the same src/lifecycle function as the oclif command, and print the same lines. Whatever
 * is rarer goes to oclif, which then does it all: --help, --json, and any option or value
 * getopt does not take as is (so a bad flag gets oclif's own message).
 */

const VERSION: OptionSpec = {key: 'version', long: 'version', short: 'V', arg: 'none'}
const HELP_OPT: OptionSpec = {key: 'help', long: 'help', arg: 'none'}

export const START_OPTIONS: readonly OptionSpec[] = [
  {key: 'attach', long: 'attach', short: 'a', arg: 'none'},
  {key: 'interactive', long: 'interactive', short: 'i', arg: 'none'},
  {key: 'detach-keys', long: 'detach-keys', arg: 'required'},
  VERSION,
  HELP_OPT,
]
export const STOP_OPTIONS: readonly OptionSpec[] = [
  {key: 'time', long: 'time', short: 't', arg: 'required'},
  {key: 'signal', long: 'signal', short: 's', arg: 'required'},
  {key: 'json', long: 'json', arg: 'none'},
  VERSION,
  HELP_OPT,
]
export const KILL_OPTIONS: readonly OptionSpec[] = [{key: 'signal', long: 'signal', short: 's', arg: 'required'}, VERSION, HELP_OPT]
export const WAIT_OPTIONS: readonly OptionSpec[] = [VERSION, HELP_OPT]
export const PAUSE_OPTIONS: readonly OptionSpec[] = [{key: 'json', long: 'json', arg: 'none'}, VERSION, HELP_OPT]
export const UNPAUSE_OPTIONS = PAUSE_OPTIONS

interface Parsed {
  options: Map<string, string | undefined>
  refs: string[]
}

/** getopt's reading of the line; anything it cannot take as is (or --json) goes to oclif. */
function parse(argv: readonly string[], specs: readonly OptionSpec[]): Parsed {
  let r
  try {
    r = getoptAnywhere(argv, specs)
  } catch (err) {
    if (err instanceof GetoptError) throw VIA_OCLIF
    throw err
  }
  if (r.help) throw HELP
  const options = new Map(r.options.map((o: ParsedOption) => [o.key, o.value]))
  if (options.has('json') || options.has('version') || r.positional.length === 0) throw VIA_OCLIF
  return {options, refs: r.positional}
}

async function openStore(): Promise<Store> {
  const {Store} = await import('../store/store.js')
  return Store.open(undefined, {create: false})
}

/** docker's multi-container verbs: each reference in turn, exit 1 if any failed. */
async function each<T>(verb: string, refs: string[], fn: (store: Store, ref: string) => Promise<T>, line: (ref: string, r: T) => string): Promise<void> {
  const store = await openStore()
  await eachRef(verb, refs, (ref) => fn(store, ref), (ref, r) => process.stdout.write(line(ref, r)))
}

const done = async (command: string, body: () => Promise<void | number>): Promise<FastOutcome> => {
  const outcome = await runFast(command, body)
  if (outcome.kind === 'done' && outcome.exitCode === 0 && process.exitCode) return {kind: 'done', exitCode: Number(process.exitCode)}
  return outcome
}

/** nsx start [-a] [-i] [--detach-keys KEYS] CONTAINER...: shared by bin/nsx and commands/start.ts. */
export async function runStart(argv: readonly string[]): Promise<FastOutcome> {
  return done('start', async () => {
    const p = parse(argv, START_OPTIONS)
    const attach = p.options.has('attach') || p.options.has('interactive')
    if (!attach) {
      const {startContainer} = await import('./start.js')
      await each('nsx start', p.refs, (store, ref) => startContainer(store, ref), (ref) => `${ref}\n`)
      return
    }
    if (p.refs.length > 1) throw new NsxError('you cannot start and attach multiple containers at once', 1)
    const {startAttached} = await import('./start.js')
    const r = await startAttached(await openStore(), p.refs[0], {interactive: p.options.has('interactive'), detachKeys: p.options.get('detach-keys'), stdin: process.stdin, stdout: process.stdout, stderr: process.stderr})
    // docker start -a: the container's exit code; 0 when detached from.
    return r.detached ? 0 : r.exitCode
  })
}

/** nsx stop [-t N] [-s SIG] CONTAINER... */
export async function runStop(argv: readonly string[]): Promise<FastOutcome> {
  return done('stop', async () => {
    const p = parse(argv, STOP_OPTIONS)
    const t = p.options.get('time')
    if (t !== undefined && !/^\d+$/.test(t)) throw VIA_OCLIF
    const [{stopContainer}, {parseSignal}] = await Promise.all([import('./stop.js'), import('./kill.js')])
    const signal = parseSignal(p.options.get('signal') ?? 'SIGTERM')
    await each('nsx stop', p.refs, (store, ref) => stopContainer(store, ref, {time: t === undefined ? 10 : Number(t), signal}), (ref) => `${ref}\n`)
  })
}

/** nsx kill [-s SIG] CONTAINER... */
export async function runKill(argv: readonly string[]): Promise<FastOutcome> {
  return done('kill', async () => {
    const p = parse(argv, KILL_OPTIONS)
    const {killContainer} = await import('./kill.js')
    await each('nsx kill', p.refs, (store, ref) => killContainer(store, ref, {signal: p.options.get('signal')}), (ref) => `${ref}\n`)
  })
}

/** nsx wait CONTAINER...: each one's exit code. */
export async function runWait(argv: readonly string[]): Promise<FastOutcome> {
  return done('wait', async () => {
    const p = parse(argv, WAIT_OPTIONS)
    const {waitContainer} = await import('./wait.js')
    await each('nsx wait', p.refs, (store, ref) => waitContainer(store, ref), (_ref, r) => `${r.exitCode}\n`)
  })
}

/** nsx pause CONTAINER... */
export async function runPause(argv: readonly string[]): Promise<FastOutcome> {
  return done('pause', async () => {
    const p = parse(argv, PAUSE_OPTIONS)
    const {pauseContainer} = await import('../container/pause.js')
    await each('nsx pause', p.refs, (store, ref) => pauseContainer(store, ref), (ref) => `${ref}\n`)
  })
}

/** nsx unpause CONTAINER... */
export async function runUnpause(argv: readonly string[]): Promise<FastOutcome> {
  return done('unpause', async () => {
    const p = parse(argv, UNPAUSE_OPTIONS)
    const {unpauseContainer} = await import('../container/pause.js')
    await each('nsx unpause', p.refs, (store, ref) => unpauseContainer(store, ref), (ref) => `${ref}\n`)
  })
}
