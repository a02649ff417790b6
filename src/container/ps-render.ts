import {NsxError} from '../cli/errors.js'
import {printable} from '../render/printable.js'
import {humanDuration, type ContainerEntry} from './listing.js'
import {portsColumn} from '../network/format.js'

/**
 * nsx ps output: docker's columns, and docker's --format fields. A command line is anyone's
 * bytes: control characters are escaped (\xHH) so a newline cannot break the table.
 */

const COMMAND_WIDTH = 20

function quotedCommand(e: ContainerEntry, noTrunc: boolean): string {
  const cmd = printable(e.command.join(' '))
  const cut = noTrunc || cmd.length <= COMMAND_WIDTH ? cmd : `${cmd.slice(0, COMMAND_WIDTH - 1)}…`
  return `"${cut}"`
}

type Field = (e: ContainerEntry, o: {noTrunc: boolean}) => string

const FIELDS: Record<string, {header: string; value: Field}> = {
  ID: {header: 'CONTAINER ID', value: (e, o) => (o.noTrunc ? e.id : e.id.slice(0, 12))},
  Image: {header: 'IMAGE', value: (e) => printable(e.image ?? `${e.layers} layer${e.layers === 1 ? '' : 's'}`)},
  Command: {header: 'COMMAND', value: (e, o) => quotedCommand(e, o.noTrunc)},
  CreatedAt: {header: 'CREATED AT', value: (e) => e.created},
  RunningFor: {header: 'CREATED', value: (e) => `${humanDuration((Date.now() - Date.parse(e.created)) / 1000)} ago`},
  Status: {header: 'STATUS', value: (e) => e.status},
  State: {header: 'STATE', value: (e) => e.state},
  Ports: {header: 'PORTS', value: (e) => portsColumn(e.ports ?? [], e.unpublishedPorts ?? [])},
  Networks: {header: 'NETWORKS', value: (e) => e.network},
  Names: {header: 'NAMES', value: (e) => e.name},
  Pid: {header: 'PID', value: (e) => String(e.pid)},
}

const DEFAULT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}'

/** Cells separated by tabs become columns three spaces apart (docker's tabwriter). */
function columns(lines: string[][]): string {
  const widths: number[] = []
  for (const l of lines) l.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)))
  return lines.map((l) => l.map((c, i) => (i === l.length - 1 ? c : c + ' '.repeat(widths[i] - [...c].length + 3))).join('').trimEnd() + '\n').join('')
}

export function renderPsFormat(entries: ContainerEntry[], format: string, opts: {noTrunc?: boolean} = {}): string {
  const o = {noTrunc: opts.noTrunc ?? false}
  let template = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n')
  const table = /^table\s/.test(template)
  if (table) template = template.replace(/^table\s+/, '')
  const unknown = [...template.matchAll(/\{\{\s*\.(\w+)\s*\}\}/g)].map((m) => m[1]).filter((f) => !(f in FIELDS))
  if (unknown.length > 0) throw new NsxError(`template: unknown field .${unknown[0]} (fields: ${Object.keys(FIELDS).join(', ')})`)
  const fill = (e: ContainerEntry | undefined) =>
    template.replace(/\{\{\s*json\s+\.\s*\}\}/g, () => (e ? JSON.stringify(e) : '')).replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, f: string) => (e ? FIELDS[f].value(e, o) : FIELDS[f].header))
  if (!table) return entries.map((e) => `${fill(e)}\n`).join('')
  return columns([fill(undefined), ...entries.map(fill)].map((l) => l.split('\t')))
}

export function renderPsTable(entries: ContainerEntry[], opts: {noTrunc?: boolean} = {}): string {
  return renderPsFormat(entries, DEFAULT, opts)
}
