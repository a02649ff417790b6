import {NsxError, reportError} from '../cli/errors.js'
import {OptionSpec, getoptForCommand} from '../cli/getopt.js'

/**
 * `nsx build ARGS` without oclif (bin/nsx's fast path): a fully cached rebuild is mostly
 * start-up, and oclif is the largest part of it. commands/build.ts gives the command its
 * --help and man page and runs this same code.
 */

export const BUILD_OPTIONS: readonly OptionSpec[] = [
  {key: 'tag', long: 'tag', short: 't', arg: 'required'},
  {key: 'file', long: 'file', short: 'f', arg: 'required'},
  {key: 'build-arg', long: 'build-arg', arg: 'required'},
  {key: 'target', long: 'target', arg: 'required'},
  {key: 'no-cache', long: 'no-cache', arg: 'none'},
  {key: 'cache-from', long: 'cache-from', arg: 'required'},
  {key: 'add-host', long: 'add-host', arg: 'required'},
  {key: 'network', long: 'network', arg: 'required'},
  {key: 'quiet', long: 'quiet', short: 'q', arg: 'none'},
  {key: 'json', long: 'json', arg: 'none'},
  {key: 'help', long: 'help', short: 'h', arg: 'none'},
]

export interface BuildArgs {
  context: string
  tags: string[]
  file?: string
  buildArgs: Record<string, string>
  target?: string
  noCache: boolean
  cacheFrom: string[]
  addHosts: string[]
  /** --network: host (nsx's default), none, or a network of nsx network create (each RUN joins it). */
  network?: string
  quiet: boolean
  json: boolean
  help: boolean
}

export function parseBuildArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BuildArgs {
  const a: BuildArgs = {context: '', tags: [], buildArgs: {}, noCache: false, cacheFrom: [], addHosts: [], quiet: false, json: false, help: false}
  const positional: string[] = []
  let rest = [...argv]
  // Options may come before and after CONTEXT, as docker build takes them.
  while (rest.length > 0) {
    const parsed = getoptForCommand('build', rest, BUILD_OPTIONS, 1)
    for (const o of parsed.options) {
      const v = o.value ?? ''
      if (o.key === 'tag') a.tags.push(v)
      else if (o.key === 'file') a.file = v
      else if (o.key === 'target') a.target = v
      else if (o.key === 'no-cache') a.noCache = true
      else if (o.key === 'cache-from') a.cacheFrom.push(v)
      else if (o.key === 'add-host') a.addHosts.push(v)
      else if (o.key === 'network') a.network = v
      else if (o.key === 'quiet') a.quiet = true
      else if (o.key === 'json') a.json = true
      else if (o.key === 'help') a.help = true
      else if (o.key === 'build-arg') {
        const i = v.indexOf('=')
        if (i === 0) throw new NsxError(`--build-arg ${v}: a name is required`)
        if (i < 0) {
          if (env[v] !== undefined) a.buildArgs[v] = env[v]!
        } else a.buildArgs[v.slice(0, i)] = v.slice(i + 1)
      }
    }
    if (parsed.rest.length === 0) break
    positional.push(parsed.rest[0])
    rest = parsed.rest.slice(1)
  }
  if (positional.length > 1) throw new NsxError(`one build context expected, got ${positional.length}: ${positional.join(' ')}`)
  a.context = positional[0] ?? '.'
  return a
}

export async function runBuild(argv: readonly string[]): Promise<{kind: 'help'} | {kind: 'done'; exitCode: number}> {
  try {
    const a = parseBuildArgs(argv)
    if (a.help) return {kind: 'help'}
    const [{Store}, {buildImage}] = await Promise.all([import('../store/store.js'), import('./build.js')])
    const store = Store.open()
    store.lock('shared')
    const quiet = a.quiet || a.json
    const r = await buildImage(store, {context: a.context, file: a.file, tags: a.tags, buildArgs: a.buildArgs, target: a.target, noCache: a.noCache, cacheFrom: a.cacheFrom, addHosts: a.addHosts, network: a.network, log: quiet ? null : undefined, runOutput: quiet ? 'stderr' : 'stdout'})
    if (a.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`)
    else if (a.quiet) process.stdout.write(`${r.id}\n`)
    return {kind: 'done', exitCode: 0}
  } catch (err) {
    return {kind: 'done', exitCode: reportError(err, 'nsx build', 1)}
  }
}
