import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {SchemaEntry} from './schemas.js'

/**
 * nsx-json(5): the JSON outputs of nsx, one section per schema of docs/schemas/, each
 * object type with its fields, their JSON types and what they mean (the schema's
 * descriptions, which come from the output types' doc comments).
 */

interface JsonSchema {
  type?: string | string[]
  description?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  $ref?: string
  anyOf?: JsonSchema[]
  enum?: unknown[]
  const?: unknown
  definitions?: Record<string, JsonSchema>
}

const esc = (s: string) =>
  s
    .replace(/\\/g, '\\e')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(/-/g, '\\-')

/** A short type expression: number, string|null, Holder[], "stopped"|"killed". */
function typeOf(s: JsonSchema): string {
  if (s.$ref) return s.$ref.replace('#/definitions/', '')
  if (s.const !== undefined) return JSON.stringify(s.const)
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join('|')
  if (s.anyOf) return s.anyOf.map(typeOf).join('|')
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
  return (
    types
      .map((t) => (t === 'array' ? `${s.items ? typeOf(s.items) : 'any'}[]` : t === 'object' && s.properties ? 'object' : t))
      .join('|') || 'any'
  )
}

function renderObject(name: string, s: JsonSchema, out: string[]): void {
  out.push(`.SS ${esc(name)}`)
  if (s.description) out.push(esc(s.description))
  if (!s.properties) {
    out.push('.PP', `Type: ${esc(typeOf(s))}`)
    return
  }
  const required = new Set(s.required ?? [])
  for (const [field, f] of Object.entries(s.properties)) {
    out.push('.TP', `\\fB${esc(field)}\\fR: ${esc(typeOf(f))}${required.has(field) ? '' : ' (optional)'}`)
    out.push(esc(f.description ?? ''))
  }
}

export function renderJsonPage(root: string, schemas: readonly SchemaEntry[], bin: string, version: string): string {
  const out: string[] = []
  out.push(`.TH ${bin.toUpperCase()}\\-JSON 5 "" "${bin} ${version}" "File Formats"`)
  out.push('.SH NAME', `${bin}\\-json \\- the JSON that nsx commands print with \\-\\-json`)
  out.push(
    '.SH DESCRIPTION',
    esc(
      'Every inspection command, and enter, unshare, run and exec with --dry-run, prints one JSON document on stdout with --json (nsx top --json: one per line, one line per iteration). Each has a JSON Schema (draft-07) in docs/schemas/ of the source tree, whose file name carries its version: a change that could break a reader (a field removed, renamed or retyped) gets a new version; a field added does not. Below, each schema: the commands that print it, then each object type with its fields. A field marked optional may be absent; null means a value does not apply or is unknown.',
    ),
  )
  for (const entry of schemas) {
    const schema = JSON.parse(readFileSync(join(root, 'docs', 'schemas', entry.file), 'utf8')) as JsonSchema
    out.push(`.SH ${esc(entry.file.replace(/\.schema\.json$/, '').toUpperCase())}`)
    out.push(esc(`${entry.description} Printed by: ${entry.commands.map((c) => `${bin} ${c} --json`).join(', ')}. Schema: docs/schemas/${entry.file}.`))
    const defs = schema.definitions ?? {}
    const top = schema.$ref?.replace('#/definitions/', '')
    const names = [...(top ? [top] : []), ...Object.keys(defs).filter((n) => n !== top).sort()]
    for (const n of names) renderObject(n, defs[n], out)
  }
  out.push('.SH SEE ALSO', `\\fB${bin}\\fR(1), \\fBjq\\fR(1)`)
  return `${out.join('\n')}\n`
}
