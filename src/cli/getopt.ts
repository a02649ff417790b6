/**
 * A getopt_long(3) work-alike with the semantics util-linux tools use ("+" mode):
 * - short flags cluster (`-mu`); a required argument is attached or the next word
 *   (`-t1` or `-t 1`); an optional one only attached (`-m/path`, `-m=/path` keeps the '=');
 * - long options take `--name=value`, or `--name value` when the argument is required;
 *   an optional argument only with '='; an unambiguous prefix names a long option;
 * - `--` ends the options, and so does the first word that is not an option (the command).
 * It exists so that `nsx enter`/`nsx unshare` parse exactly like nsenter/unshare
 * without loading oclif (start-up time).
 */

import {NsxError} from './errors.js'

export type ArgKind = 'none' | 'required' | 'optional'

export interface OptionSpec {
  /** Key reported for the option; usually the long name. */
  key: string
  long?: string
  short?: string
  arg: ArgKind
}

export interface ParsedOption {
  key: string
  /** As given: the option as the user wrote it (`-m`, `--mount`), for messages. */
  given: string
  value?: string
}

export interface ParseResult {
  options: ParsedOption[]
  /** The words after the options: the command and its arguments. */
  rest: string[]
}

export class GetoptError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'GetoptError'
  }
}

export function getopt(argv: readonly string[], specs: readonly OptionSpec[]): ParseResult {
  const options: ParsedOption[] = []
  let i = 0
  while (i < argv.length) {
    const word = argv[i]
    if (word === '--') return {options, rest: argv.slice(i + 1)}
    if (!word.startsWith('-') || word === '-') return {options, rest: argv.slice(i)}
    if (word.startsWith('--')) {
      const eq = word.indexOf('=')
      const name = eq < 0 ? word.slice(2) : word.slice(2, eq)
      const attached = eq < 0 ? undefined : word.slice(eq + 1)
      const spec = findLong(name, specs)
      const given = `--${spec.long}`
      if (spec.arg === 'none') {
        if (attached !== undefined) throw new GetoptError(`option '${given}' doesn't allow an argument`)
        options.push({key: spec.key, given})
      } else if (spec.arg === 'optional') {
        options.push({key: spec.key, given, value: attached})
      } else if (attached !== undefined) {
        options.push({key: spec.key, given, value: attached})
      } else {
        if (i + 1 >= argv.length) throw new GetoptError(`option '${given}' requires an argument`)
        options.push({key: spec.key, given, value: argv[++i]})
      }
      i++
      continue
    }
    // A cluster of short options.
    let j = 1
    while (j < word.length) {
      const ch = word[j]
      const spec = specs.find((s) => s.short === ch)
      if (!spec) throw new GetoptError(`invalid option -- '${ch}'`)
      const given = `-${ch}`
      const tail = word.slice(j + 1)
      if (spec.arg === 'none') {
        options.push({key: spec.key, given})
        j++
        continue
      }
      if (spec.arg === 'optional') {
        options.push({key: spec.key, given, value: tail === '' ? undefined : tail})
      } else if (tail !== '') {
        options.push({key: spec.key, given, value: tail})
      } else {
        if (i + 1 >= argv.length) throw new GetoptError(`option requires an argument -- '${ch}'`)
        options.push({key: spec.key, given, value: argv[++i]})
      }
      break
    }
    i++
  }
  return {options, rest: []}
}

function findLong(name: string, specs: readonly OptionSpec[]): OptionSpec {
  const exact = specs.find((s) => s.long === name)
  if (exact) return exact
  const prefixed = name === '' ? [] : specs.filter((s) => s.long?.startsWith(name))
  if (prefixed.length === 1) return prefixed[0]
  if (prefixed.length > 1) {
    const names = prefixed.map((s) => `'--${s.long}'`).join(' ')
    throw new GetoptError(`option '--${name}' is ambiguous; possibilities: ${names}`)
  }
  throw new GetoptError(`unrecognized option '--${name}'`)
}

/**
 * getopt for one command's parser: a usage error becomes nsx's one-line error,
 * "MESSAGE (see nsx COMMAND --help)", with EXIT_CODE (125, docker's, on container verbs).
 */
export function getoptForCommand(command: string, argv: readonly string[], specs: readonly OptionSpec[], exitCode = 125): ParseResult {
  try {
    return getopt(argv, specs)
  } catch (err) {
    if (err instanceof GetoptError) throw NsxError.invalid(`${err.message} (see nsx ${command} --help)`, exitCode)
    throw err
  }
}

/**
 * Options anywhere on the line, as oclif takes them (the fast paths of the inspection
 * commands): getopt resumes after each word that is not an option; those words, and every
 * word after `--`, are positional, in command-line order. With numbers, a word like "-5" is
 * positional too (a bad pid to refuse clearly, not a cluster of unknown short options) unless
 * it is the value of the option before it. Stops at the first `help` option: {help: true}.
 */
export function getoptAnywhere(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  numbers = false,
): {help: boolean; options: ParsedOption[]; positional: string[]} {
  const dash = argv.indexOf('--')
  const words = dash < 0 ? argv : argv.slice(0, dash)
  const takesValue = (w = '') => specs.some((s) => s.arg === 'required' && (w === `--${s.long}` || w === `-${s.short}`))
  const found: [number, string][] = []
  let rest: string[] = []
  let at: number[] = [] // each word of rest's index in argv
  words.forEach((w, i) => {
    if (numbers && /^-\d+$/.test(w) && !takesValue(words[i - 1])) found.push([i, w])
    else rest.push(w), at.push(i)
  })
  const options: ParsedOption[] = []
  for (;;) {
    const r = getopt(rest, specs)
    for (const o of r.options) {
      if (o.key === 'help') return {help: true, options, positional: []}
      options.push(o)
    }
    if (r.rest.length === 0) break
    const k = rest.length - r.rest.length
    found.push([at[k], r.rest[0]])
    rest = r.rest.slice(1)
    at = at.slice(k + 1)
  }
  const positional = found.sort((a, b) => a[0] - b[0]).map(([, w]) => w)
  return {help: false, options, positional: dash < 0 ? positional : [...positional, ...argv.slice(dash + 1)]}
}
