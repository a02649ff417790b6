import {NsxError} from '../cli/errors.js'
import {readAuditInput} from './merge.js'
import {AUDIT_ERROR} from './settings.js'

/**
 * --baseline FILE: a saved `nsx audit --format json` report, or --watch's JSON lines (read as
 * `nsx audit merge` reads its inputs): the fingerprints of the findings it holds.
 */
export function readBaseline(file: string): Set<string> {
  let input
  try {
    input = readAuditInput(file)
  } catch (err) {
    if (err instanceof NsxError) throw new NsxError(`--baseline ${err.message}`, AUDIT_ERROR)
    throw err
  }
  const out = new Set<string>()
  for (const r of input.reports) for (const f of r.findings) out.add(f.fingerprint)
  for (const e of input.events) out.add(e.finding.fingerprint)
  return out
}
