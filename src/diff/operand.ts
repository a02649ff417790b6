import {readFileSync, statSync} from 'node:fs'
import {fileErrorReason, NsxError} from '../cli/errors.js'
import {gatherReport, InspectReport} from '../inspect/report.js'
import {describeContainer} from '../container/target.js'
import {resolvePidArg} from '../enter/target.js'

/** nsx diff's exit code for an error, as diff(1) has it (0: same, 1: different). */
export const DIFF_ERROR = 2

/** One side of a comparison: what was named, and its inspect report. */
export interface Side {
  /** The argument as given. */
  spec: string
  source: 'process' | 'container' | 'file'
  report: InspectReport
}

/** What a file must hold to be read as a saved `nsx inspect --json` report. */
const REQUIRED: readonly (keyof InspectReport)[] = ['pid', 'namespaces', 'capabilities', 'seccomp', 'cgroups', 'userns', 'uids', 'gids']

/**
 * A pid, a running nsx container's name or id, or a saved `nsx inspect --json` file. Digits are a
 * pid; a word with a slash or ending in .json is a file; any other word is a container when one
 * has that name, else a file when one exists. Every failure is an NsxError with exit code 2.
 */
export function loadSide(spec: string): Side {
  try {
    if (/^\d+$/.test(spec)) return {spec, source: 'process', report: gatherReport(spec)}
    const looksLikeFile = spec.includes('/') || spec.endsWith('.json') || spec === '-'
    if (!looksLikeFile) {
      const container = describeContainer(spec)
      if (container) {
        const report = gatherReport(spec, {resolvePid: resolvePidArg})
        report.container = container
        return {spec, source: 'container', report}
      }
      if (!isFile(spec)) throw new NsxError(`no such process, container or file: ${spec}`)
    }
    return {spec, source: 'file', report: readReportFile(spec)}
  } catch (err) {
    if (err instanceof NsxError) throw new NsxError(err.message, DIFF_ERROR)
    throw err
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** A saved report: "-" is stdin. Refuses, in one line, a file that is unreadable or not an inspect report. */
export function readReportFile(path: string): InspectReport {
  let text: string
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (err) {
    throw new NsxError(`cannot read ${path}: ${fileErrorReason(err)}`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new NsxError(`${path} is not an nsx inspect --json report (not JSON)`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new NsxError(`${path} is not an nsx inspect --json report (not a JSON object)`)
  const missing = REQUIRED.filter((k) => !(k in doc))
  if (missing.length > 0) throw new NsxError(`${path} is not an nsx inspect --json report (no ${missing.join(', ')})`)
  return doc as InspectReport
}
