import {readFileSync} from 'node:fs'
import type {ExitStatusEntry} from '../cli/exit-status.js'
import {fileErrorReason, NsxError} from '../cli/errors.js'
import {RULES} from './rules.js'
import {AuditRuleState, SEVERITIES, Severity} from './types.js'

/** Errors of nsx audit's own: exit status 2, as diff(1) (1 is "findings at or above --fail-on"). */
export const AUDIT_ERROR = 2

const fail = (msg: string): never => {
  throw new NsxError(msg, AUDIT_ERROR)
}

export function parseSeverity(s: string, what: string): Severity {
  if ((SEVERITIES as readonly string[]).includes(s)) return s as Severity
  return fail(`${what}: ${JSON.stringify(s)} is not a severity (low, medium or high)`)
}

/**
 * --rules FILE: JSON, an object from rule id to "off", "on", a severity, or
 * {"enabled": BOOL, "severity": SEVERITY}; "*" applies to every rule first. E.g.
 * {"*": "on", "no-pids-limit": "off", "root-user": "high"}. An unknown rule id is an error.
 */
export function ruleStates(file?: string): AuditRuleState[] {
  const states = RULES.map((r) => ({id: r.id, severity: r.severity, enabled: true}))
  if (file === undefined) return states
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    return fail(`--rules ${file}: ${fileErrorReason(err)}`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    return fail(`--rules ${file}: not JSON: ${(err as Error).message}`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail(`--rules ${file}: expected an object from rule id to "off", "on", a severity, or {"enabled", "severity"}`)
  const entries = Object.entries(doc as Record<string, unknown>).sort(([a], [b]) => Number(b === '*') - Number(a === '*'))
  for (const [id, v] of entries) {
    const targets = id === '*' ? states : states.filter((s) => s.id === id)
    if (targets.length === 0) fail(`--rules ${file}: no rule ${JSON.stringify(id)} (nsx audit --list-rules lists them)`)
    for (const t of targets) apply(t, v, `--rules ${file}: ${id}`)
  }
  return states
}

function apply(state: AuditRuleState, v: unknown, where: string): void {
  if (v === 'off' || v === false) state.enabled = false
  else if (v === 'on' || v === true) state.enabled = true
  else if (typeof v === 'string') {
    state.severity = parseSeverity(v, where)
    state.enabled = true
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>
    for (const k of Object.keys(o)) if (k !== 'enabled' && k !== 'severity') fail(`${where}: unknown key ${JSON.stringify(k)} (enabled, severity)`)
    if (o.enabled !== undefined) {
      if (typeof o.enabled !== 'boolean') fail(`${where}: enabled must be true or false`)
      state.enabled = o.enabled as boolean
    }
    if (o.severity !== undefined) state.severity = parseSeverity(String(o.severity), where)
  } else fail(`${where}: expected "off", "on", a severity, or {"enabled", "severity"}`)
}

/** What nsx audit's exit status means (also nsx audit merge's). */
export const AUDIT_EXIT_STATUS: readonly ExitStatusEntry[] = [
  {code: '0', meaning: 'no finding at or above --fail-on (always 0 without --fail-on)'},
  {code: '1', meaning: 'a finding at or above --fail-on'},
  {code: '2', meaning: 'an error: a bad flag or rules file, a pid or container that does not exist'},
]
