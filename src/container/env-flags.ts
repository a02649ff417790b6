import {readFileSync} from 'node:fs'
import {fileErrorReason, NsxError} from '../cli/errors.js'

/**
 * -e and --env-file as docker's CLI reads them: NAME=VALUE as given; a bare NAME takes the
 * caller's value when the caller has one, else stays bare, which the container reads as NAME
 * unset (moby's rule: spec.ts buildEnv, exec.ts execEnv). The CLI's doors resolve; the Engine
 * API's passes what its client sent.
 */

const bad = (msg: string): never => {
  throw NsxError.invalid(msg, 125)
}

/** --env-file: NAME=VALUE lines; blank lines and # comments skipped; a bare NAME takes the caller's value, else stays bare (docker's CLI). */
export function readEnvFile(path: string, env: NodeJS.ProcessEnv = process.env): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    return bad(`cannot read --env-file ${path}: ${fileErrorReason(err)}`)
  }
  const out: string[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').replace(/^\s+/, '')
    if (line === '' || line.startsWith('#')) return
    const entry = expandEnv(line, env) ?? line
    if (entry.startsWith('=') || /\s/.test(entry.slice(0, entry.indexOf('=') < 0 ? entry.length : entry.indexOf('='))))
      bad(`--env-file ${path} line ${i + 1}: invalid variable name in '${line}'`)
    out.push(entry)
  })
  return out
}

/** NAME=VALUE as given; a bare NAME takes the caller's value, undefined when the caller has none. */
export function expandEnv(entry: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (entry.includes('=')) return entry
  const v = env[entry]
  return v === undefined ? undefined : `${entry}=${v}`
}

/**
 * docker's CLI on -e: a bare NAME takes the caller's value when the caller has one, else is sent
 * bare (the container then has NAME unset: moby's rule, applied by buildEnv and execEnv). The
 * CLI's doors call this; the Engine API's passes what its client sent, as dockerd does.
 */
export function resolveCallerEnv(entries: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return entries.map((e) => expandEnv(e, env) ?? e)
}
