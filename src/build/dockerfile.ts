import {DockerfileParser} from 'dockerfile-ast'
import {NsxError} from '../cli/errors.js'

/**
 * A Dockerfile as nsx builds it: stages of instructions, each with its keyword, its line,
 * its flags, and its arguments in the form the instruction needs (a JSON array or a shell
 * string, key=value pairs, words). Parsed by dockerfile-ast (escape directive, line
 * continuations, comments, quoting of ENV/LABEL/ARG pairs); variables are expanded later, at
 * build time, when their values are known.
 */

export interface Instruction {
  keyword: string
  /** 1-based line of the instruction in the Dockerfile. */
  line: number
  /** The instruction as written, continuations joined (for history and errors). */
  text: string
  flags: Map<string, string>
  /** The argument text (continuations joined). */
  rest: string
  /** Parsed JSON array, when the arguments are one (exec form). */
  json?: string[]
  /** Whitespace-separated words (before variable expansion; quotes kept). */
  words: string[]
  /** key=value (or legacy "key value") pairs of ENV, LABEL and ARG, quotes removed. */
  pairs: {key: string; value: string | undefined}[]
}

export interface Stage {
  index: number
  name?: string
  /** The FROM argument, before expansion (an image, a stage name, or scratch). */
  base: string
  platform?: string
  line: number
  instructions: Instruction[]
}

export interface ParsedDockerfile {
  /** ARGs before the first FROM (usable in FROM lines). */
  globalArgs: {key: string; value: string | undefined}[]
  stages: Stage[]
  escape: string
}

const SUPPORTED = new Set(['FROM', 'RUN', 'COPY', 'ADD', 'ENV', 'ARG', 'WORKDIR', 'USER', 'ENTRYPOINT', 'CMD', 'EXPOSE', 'LABEL', 'VOLUME', 'SHELL', 'STOPSIGNAL', 'MAINTAINER', 'HEALTHCHECK', 'ONBUILD'])

interface AstInstruction {
  getKeyword(): string
  getRange(): {start: {line: number}}
  getArgumentsContent(): string | null
  getArguments(): {getValue(): string}[]
  getFlags?(): {getName(): string; getValue(): string | null}[]
  getProperties?(): {getName(): string; getValue(): string | null}[]
  toString(): string
}

function jsonForm(rest: string): string[] | undefined {
  const t = rest.trim()
  if (!t.startsWith('[')) return undefined
  try {
    const v = JSON.parse(t) as unknown
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[]
  } catch {
    // not JSON: docker runs it in the shell form
  }
  return undefined
}

export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  const df = DockerfileParser.parse(text)
  const out: ParsedDockerfile = {globalArgs: [], stages: [], escape: df.getEscapeCharacter()}
  for (const raw of df.getInstructions() as unknown as AstInstruction[]) {
    const keyword = raw.getKeyword().toUpperCase()
    const line = raw.getRange().start.line + 1
    if (!SUPPORTED.has(keyword)) throw NsxError.invalid(`${file}:${line}: unknown instruction ${keyword.slice(0, 40)}`)
    const rest = raw.getArgumentsContent() ?? ''
    const flags = new Map<string, string>()
    for (const f of raw.getFlags?.() ?? []) flags.set(f.getName().toLowerCase(), f.getValue() ?? '')
    // Flags are not part of the arguments' words (dockerfile-ast leaves them in the content).
    const words = raw.getArguments().map((a) => a.getValue()).filter((w) => !(flags.size > 0 && /^--[a-z-]+(=.*)?$/.test(w) && flags.has(w.slice(2).split('=')[0].toLowerCase())))
    const restNoFlags = flags.size > 0 ? rest.replace(/^(\s*--[a-zA-Z-]+(=("[^"]*"|\S*))?\s*)+/, '') : rest
    const pairs: Instruction['pairs'] = []
    if (keyword === 'ENV' || keyword === 'LABEL' || keyword === 'ARG')
      for (const p of raw.getProperties?.() ?? []) pairs.push({key: p.getName(), value: p.getValue() ?? undefined})
    const flagText = [...flags].map(([k, v]) => `--${k}=${v} `).join('')
    const ins: Instruction = {keyword, line, text: `${keyword} ${rest.trimStart().startsWith('--') ? '' : flagText}${rest}`.trim(), flags, rest: restNoFlags, json: jsonForm(restNoFlags), words, pairs}
    if (keyword === 'FROM') {
      if (words.length !== 1 && !(words.length === 3 && words[1].toUpperCase() === 'AS')) throw NsxError.invalid(`${file}:${line}: FROM takes IMAGE [AS NAME]`)
      const name = words[2]?.toLowerCase()
      if (name !== undefined && !/^[a-z][a-z0-9_.-]*$/.test(name)) throw NsxError.invalid(`${file}:${line}: invalid stage name '${name}'`)
      if (name !== undefined && out.stages.some((s) => s.name === name)) throw NsxError.invalid(`${file}:${line}: duplicate stage name '${name}'`)
      out.stages.push({index: out.stages.length, name, base: words[0], platform: flags.get('platform'), line, instructions: []})
      continue
    }
    const stage = out.stages[out.stages.length - 1]
    if (!stage) {
      if (keyword !== 'ARG') throw NsxError.invalid(`${file}:${line}: ${keyword} before the first FROM (only ARG may come before it)`)
      out.globalArgs.push(...pairs)
      continue
    }
    stage.instructions.push(ins)
  }
  if (out.stages.length === 0) throw NsxError.invalid(`${file}: no FROM instruction`)
  return out
}
